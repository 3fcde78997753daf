"""Progress bars for artifacts over ~1 GB, on a terminal only (rich, imported on first use)."""

from __future__ import annotations

import os
import threading
from typing import Any

from modelgate.hashing import Progress

BIG = 1 << 30


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

                self._bars = Progress("hashing {task.description}", BarColumn(), DownloadColumn(),
                                      TransferSpeedColumn(), console=Console(stderr=True), transient=True)
                self._bars.start()
            # rich renders markup in descriptions: the file name must not carry any.
            from rich.markup import escape

            task = self._bars.add_task(escape(os.path.basename(path)), total=size)
        bars = self._bars
        return lambda count: bars.advance(task, count)

    def close(self) -> None:
        if self._bars is not None:
            self._bars.stop()
            self._bars = None
