"""Streamed sha256 of artifact files, from one file descriptor, at CPU speed.

The file is opened once (``O_NOFOLLOW``, non-blocking so a FIFO swapped in cannot hang
us) and checked to be a regular file with ``fstat``. Large files are read by a second
thread into a small pool of buffers while this thread hashes the previous one: reads and
``hashlib`` both release the GIL, so I/O overlaps hashing even when the file is cold. The
file is ``fstat``-ed again afterwards: one whose size, mtime or ctime moved while we read
it is an error, never a digest. Several files are hashed in parallel on a thread pool.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import queue
import stat
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from modelgate.hashcache import HashCache

CHUNK = 1 << 20  # fits in L2 between the read and the hash; measured best here
DEPTH = 8  # buffers in flight: the reader stays ahead without using much memory
PIPELINE_FROM = 16 << 20  # below this a thread costs more than it saves


class HashError(Exception):
    """The file could not be hashed as a stable regular file."""


@dataclass(frozen=True)
class Digest:
    sha256: str
    size: int


Progress = Callable[[int], None]


def hash_file(path: str, progress: Progress | None = None, pipeline: bool = True) -> tuple[Digest, os.stat_result]:
    """The file's digest, and the ``fstat`` it was taken under (for the cache).

    ``pipeline=False`` reads and hashes on the calling thread: right when a pool already
    hashes several files at once, since a reader thread per file would compete for cores.
    """
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
        pipelined = pipeline and before.st_size >= PIPELINE_FROM
        total = (_pipelined if pipelined else _simple)(fd, digest, progress)
        after = os.fstat(fd)
    except OSError as exc:
        raise HashError(f"cannot read: {exc.strerror}") from None
    finally:
        os.close(fd)
    moved = (after.st_size, after.st_mtime_ns, after.st_ctime_ns) != (
        before.st_size, before.st_mtime_ns, before.st_ctime_ns)
    if moved or total != after.st_size:
        raise HashError("file changed while it was being hashed; re-run when it is stable")
    return Digest(digest.hexdigest(), total), before


def _simple(fd: int, digest: hashlib._Hash, progress: Progress | None) -> int:
    buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    total = 0
    while count := os.readv(fd, [buffer]):
        digest.update(view[:count])
        total += count
        if progress:
            progress(count)
    return total


def _pipelined(fd: int, digest: hashlib._Hash, progress: Progress | None) -> int:
    free: queue.SimpleQueue[bytearray] = queue.SimpleQueue()
    full: queue.SimpleQueue[tuple[bytearray, int] | OSError] = queue.SimpleQueue()
    for _ in range(DEPTH):
        free.put(bytearray(CHUNK))
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            buffer = free.get()
            try:
                count = os.readv(fd, [buffer])
            except OSError as exc:
                full.put(exc)
                return
            full.put((buffer, count))
            if count == 0:
                return

    reader = threading.Thread(target=read, name="modelgate-reader", daemon=True)
    reader.start()
    total = 0
    try:
        while True:
            item = full.get()
            if isinstance(item, OSError):
                raise item
            buffer, count = item
            if count == 0:
                break
            digest.update(memoryview(buffer)[:count])
            total += count
            free.put(buffer)
            if progress:
                progress(count)
    finally:
        stop.set()
        free.put(bytearray(0))  # unblock a reader waiting for a buffer
        reader.join()
    return total


class Hasher:
    """Hashes each file once per run, however many manifests list it; consults the
    persistent cache when there is one; hashes many files in parallel on request."""

    def __init__(self, cache: HashCache | None = None, workers: int | None = None) -> None:
        self.cache = cache
        self.workers = workers or min(8, os.cpu_count() or 1)
        self.progress: Callable[[str, int], Progress | None] | None = None
        self._done: dict[str, Digest | HashError] = {}
        self._lock = threading.Lock()
        self._in_pool = threading.local()
        self.hashed = 0  # files actually read this run (the rest came from the cache)

    def digest(self, path: str) -> Digest:
        with self._lock:
            found = self._done.get(path)
        if found is None:
            found = self._compute(path)
            with self._lock:
                self._done[path] = found
        if isinstance(found, HashError):
            raise found
        return found

    def _compute(self, path: str) -> Digest | HashError:
        try:
            st = os.stat(path)
        except OSError as exc:
            return HashError(f"cannot read: {exc.strerror}")
        if self.cache is not None:
            cached = self.cache.get(st)
            if cached is not None:
                return Digest(cached, st.st_size)
        try:
            progress = self.progress(path, st.st_size) if self.progress else None
            digest, seen = hash_file(path, progress, pipeline=not getattr(self._in_pool, "active", False))
        except HashError as exc:
            return exc
        with self._lock:
            self.hashed += 1
        if self.cache is not None:
            self.cache.put(seen, digest.sha256, time.time_ns())
        return digest

    def prefetch(self, paths: Iterable[str]) -> None:
        """Hash these files in parallel now, so checks later find their digests ready."""
        todo = [p for p in dict.fromkeys(paths) if p not in self._done]
        if len(todo) < 2:
            return
        with ThreadPoolExecutor(max_workers=min(self.workers, len(todo)), thread_name_prefix="modelgate-hash") as pool:
            list(pool.map(self._fill, todo))

    def _fill(self, path: str) -> None:
        self._in_pool.active = True
        with contextlib.suppress(HashError):  # recorded; the check that asks reports it
            self.digest(path)
