"""Progress bars for artifacts over ~1 GB, on a terminal only (rich, imported on first use)."""

from __future__ import annotations

import os
import threading
from typing import Any

from modelgate.hashing.digest import Progress

BIG = 1 << 30
STEP = 16 << 20  # redraw every 16 MiB, not every buffer: 40 000 buffers make a 10 GB file


class ProgressBars:
    """``hasher.progress``: returns a per-file callback for big files, None for small ones."""

    def __init__(self) -> None:
        self._bars: Any = None
        self._lock = threading.Lock()

    def __call__(self, path: str, size: int) -> Progress | None:
        if size < BIG:
            return None
        with self._lock:
            if self._bars is None:
                from rich.console import Console
                from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

                self._bars = Progress(
                    "hashing {task.description}",
                    BarColumn(),
                    DownloadColumn(),
                    TransferSpeedColumn(),
                    console=Console(stderr=True),
                    transient=True,
                )
                self._bars.start()
            # rich renders markup in descriptions, and passes ESC through: the file name must
            # carry neither.
            from rich.markup import escape

            from modelgate.escaping import terminal

            task = self._bars.add_task(escape(terminal(os.path.basename(path))), total=size)
        return _Advance(self._bars, task)

    def close(self) -> None:
        if self._bars is not None:
            self._bars.stop()
            self._bars = None


class _Advance:
    """Moves one file's bar, in steps of ``STEP`` bytes (the bar vanishes when hashing ends)."""

    def __init__(self, bars: Any, task: Any) -> None:
        self.bars = bars
        self.task = task
        self.pending = 0

    def __call__(self, count: int) -> None:
        self.pending += count
        if self.pending >= STEP:
            self.bars.advance(self.task, self.pending)
            self.pending = 0
