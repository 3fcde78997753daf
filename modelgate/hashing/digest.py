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
import stat
import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Protocol

from modelgate.datamodel.records import record

if TYPE_CHECKING:
    from modelgate.hashing.cache import HashCache

# A buffer is hashed while it is still in the CPU cache the read copied it into. Measured
# on the 2-core machine, warm / cold: 1 MiB x 8 buffers 1.22 / 0.90 GB/s (the reader ran
# so far ahead that the hash read from RAM); 256 KiB x 2 1.57 / 1.47 GB/s, as fast as
# reading and hashing on one thread while still overlapping a slow disk with hashing.
CHUNK = 256 << 10
DEPTH = 2  # buffers in flight: one being read while the other is hashed
PIPELINE_FROM = 16 << 20  # below this a thread costs more than it saves


class HashError(Exception):
    """The file could not be hashed as a stable regular file."""


@record
class Digest:
    sha256: str
    size: int
    md5: str | None = None  # only when asked for: DVC records md5, and md5 costs as much as sha256


class _Sink(Protocol):
    def update(self, data: memoryview, /) -> None: ...


class _Tee:
    """Feeds each buffer to several digests: sha256 and md5 from one read of the file."""

    def __init__(self, *digests: hashlib._Hash) -> None:
        self.digests = digests

    def update(self, data: memoryview, /) -> None:
        for digest in self.digests:
            digest.update(data)


Progress = Callable[[int], None]


def hash_file(
    path: str, progress: Progress | None = None, pipeline: bool = True, md5: bool = False
) -> tuple[Digest, os.stat_result]:
    """The file's digest (with ``md5``, its md5 too, from the same read), and the
    ``fstat`` it was taken under (for the cache).

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
        second = hashlib.md5(usedforsecurity=False) if md5 else None
        sink: _Sink = _Tee(digest, second) if second is not None else digest
        pipelined = pipeline and before.st_size >= PIPELINE_FROM
        total = (_pipelined if pipelined else _simple)(fd, sink, progress)
        after = os.fstat(fd)
    except OSError as exc:
        raise HashError(f"cannot read: {exc.strerror}") from None
    finally:
        os.close(fd)
    moved = (after.st_size, after.st_mtime_ns, after.st_ctime_ns) != (
        before.st_size,
        before.st_mtime_ns,
        before.st_ctime_ns,
    )
    if moved or total != after.st_size:
        raise HashError("file changed while it was being hashed; re-run when it is stable")
    return Digest(digest.hexdigest(), total, second.hexdigest() if second else None), before


def _simple(fd: int, digest: _Sink, progress: Progress | None) -> int:
    buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    total = 0
    while count := os.readv(fd, [buffer]):
        digest.update(view[:count])
        total += count
        if progress:
            progress(count)
    return total


def _pipelined(fd: int, digest: _Sink, progress: Progress | None) -> int:
    import queue  # here: a re-check with cached digests never reads a file

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
        # Files whose md5 will be asked for too (DVC-tracked artifacts under a dvc rule):
        # hashed for both in one read, even by a prefetch that only wants sha256.
        self.md5_paths: set[str] = set()
        # Cache entries of files hashed on the pool, written in one transaction afterwards.
        self._pending: list[tuple[os.stat_result, str, int, str | None]] = []

    def digest(self, path: str, md5: bool = False) -> Digest:
        """The file's digest; with ``md5``, one that carries its md5 as well."""
        with self._lock:
            found = self._done.get(path)
        if found is None or (md5 and isinstance(found, Digest) and found.md5 is None):
            found = self._compute(path, md5 or path in self.md5_paths)
            with self._lock:
                self._done[path] = found
        if isinstance(found, HashError):
            raise found
        return found

    def _compute(self, path: str, md5: bool = False) -> Digest | HashError:
        try:
            st = os.stat(path)
        except OSError as exc:
            return HashError(f"cannot read: {exc.strerror}")
        cached = self._cached(st, md5)
        if cached is not None:
            return cached
        try:
            progress = self.progress(path, st.st_size) if self.progress else None
            digest, seen = hash_file(path, progress, pipeline=not getattr(self._in_pool, "active", False), md5=md5)
        except HashError as exc:
            return exc
        with self._lock:
            self.hashed += 1
        if self.cache is not None:
            if getattr(self._in_pool, "active", False):
                with self._lock:
                    self._pending.append((seen, digest.sha256, time.time_ns(), digest.md5))
            else:
                self.cache.put(seen, digest.sha256, time.time_ns(), digest.md5)
        return digest

    def _cached(self, st: os.stat_result, md5: bool = False) -> Digest | None:
        """The cache's digest of the file ``st`` describes; with ``md5``, only one that has it."""
        found = self.cache.lookup(st) if self.cache is not None else None
        if found is None or (md5 and found[1] is None):
            return None
        return Digest(found[0], st.st_size, found[1])

    def prefetch(self, paths: Iterable[str]) -> None:
        """Hash these files in parallel now, so checks later find their digests ready."""
        todo = []
        for path in dict.fromkeys(paths):
            if path in self._done:
                continue
            # Cache hits are looked up here: handing each to a pool thread costs more.
            try:
                hit = self._cached(os.stat(path), path in self.md5_paths)
            except OSError:
                hit = None  # hashing it will record why
            if hit is not None:
                self._done[path] = hit
            else:
                todo.append(path)
        if len(todo) < 2:
            return
        from concurrent.futures import ThreadPoolExecutor  # ~6 ms: only when there is work for it

        with ThreadPoolExecutor(max_workers=min(self.workers, len(todo)), thread_name_prefix="modelgate-hash") as pool:
            list(pool.map(self._fill, todo))
        if self.cache is not None and self._pending:
            self.cache.put_many(self._pending)
        self._pending = []

    def _fill(self, path: str) -> None:
        self._in_pool.active = True
        with contextlib.suppress(HashError):  # recorded; the check that asks reports it
            self.digest(path)
