"""Streamed sha256 of artifact files, from one file descriptor.

The file is opened once (``O_NOFOLLOW``, non-blocking so a FIFO swapped in cannot hang us),
checked to be a regular file with ``fstat``, read in 1 MiB chunks into one reused buffer,
and ``fstat``-ed again afterwards: a file whose size or mtime moved while we read it is an
error, never a digest.
"""

from __future__ import annotations

import hashlib
import os
import stat
import threading
from dataclasses import dataclass

CHUNK = 1 << 20


class HashError(Exception):
    """The file could not be hashed as a stable regular file."""


@dataclass(frozen=True)
class Digest:
    sha256: str
    size: int


def hash_file(path: str) -> Digest:
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise HashError(f"cannot open: {exc.strerror}") from None
    try:
        before = os.fstat(fd)
        if not stat.S_ISREG(before.st_mode):
            raise HashError("not a regular file")
        digest = hashlib.sha256()
        buffer = bytearray(CHUNK)
        view = memoryview(buffer)
        total = 0
        with os.fdopen(os.dup(fd), "rb", buffering=0) as stream:
            while True:
                count = stream.readinto(view)
                if not count:
                    break
                digest.update(view[:count])
                total += count
        after = os.fstat(fd)
    except OSError as exc:
        raise HashError(f"cannot read: {exc.strerror}") from None
    finally:
        os.close(fd)
    if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns) or total != after.st_size:
        raise HashError("file changed while it was being hashed; re-run when it is stable")
    return Digest(digest.hexdigest(), total)


class Hasher:
    """Hashes each file once per run, however many manifests list it."""

    def __init__(self) -> None:
        self._done: dict[str, Digest | HashError] = {}
        self._lock = threading.Lock()

    def digest(self, path: str) -> Digest:
        with self._lock:
            found = self._done.get(path)
        if found is None:
            try:
                found = hash_file(path)
            except HashError as exc:
                found = exc
            with self._lock:
                self._done[path] = found
        if isinstance(found, HashError):
            raise found
        return found
