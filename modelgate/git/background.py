"""A git command begun in the background: :meth:`GitRepo.start` asks git the questions whose
arguments a run knows early, and git answers on the other core while Python goes on."""

from __future__ import annotations

import subprocess


class Background:
    """A git command run in the background, its output collected by a thread."""

    def __init__(self, command: list[str]) -> None:
        import threading

        self._done: tuple[int, bytes, bytes] | None = None
        try:
            self._proc: subprocess.Popen[bytes] | None = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
        except OSError:
            self._proc = None  # run again in the foreground, where the error is reported
            return
        self._thread = threading.Thread(target=self._collect, daemon=True)
        self._thread.start()

    def _collect(self) -> None:
        assert self._proc is not None
        stdout, stderr = self._proc.communicate()
        self._done = (self._proc.returncode, stdout, stderr)

    def result(self) -> tuple[int, bytes, bytes] | None:
        """(exit code, stdout, stderr); None when it could not start."""
        if self._proc is None:
            return None
        self._thread.join()
        return self._done

    def stop(self) -> None:
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.kill()
            self._thread.join()
