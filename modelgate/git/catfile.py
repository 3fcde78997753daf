"""One ``git cat-file --batch`` process per run: blobs' bytes by id.

Reading the manifests of a base commit and of its history means hundreds of small blobs:
one process serves them all, and requests go out in batches rather than one round trip
each. (gitpython's object database does the same one at a time, and its import alone,
~170 ms, cost more than reading every blob of a 200-commit history.)
"""

from __future__ import annotations

import bisect
import contextlib
import re
import subprocess
from collections.abc import Generator, Iterator, Sequence
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    import mmap

from modelgate.errors import GitError

OBJECT_ID = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
# Requests written at a time. Two batches of ids (2 x 64 x 41 bytes) fit in the smallest
# pipe there is (one 4 KiB page: Linux gives that to a user over its pipe quota) plus the
# 4 KiB or more git reads of them at a time: writing never waits for git, which may be waiting
# for us to read its answers.
_BATCH = 64
_CHUNK = 1 << 20
# How much of git's answers a pipe holds while we look at the ones before (Linux lets a
# process widen its pipes to 1 MiB; elsewhere, or when refused, the pipe stays as it is).
_PIPE = 1 << 20
# The most a read-ahead writes to its temporary file: a history's manifests are a few KB
# each (2,100 of them, 6 MB); past this, blobs are read from the pipe as they are asked for.
_BUDGET = 64 << 20


class CatFile:
    """The ``git cat-file --batch`` process of one repository."""

    def __init__(self, root: str) -> None:
        try:
            self._proc = subprocess.Popen(
                ["git", "-C", root, "--no-optional-locks", "cat-file", "--batch"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        except OSError as exc:
            raise GitError(f"cannot run git: {exc.strerror}; install git or run outside a repository") from None
        self._widened = False

    def read(self, shas: Sequence[str], limit: int | None = None) -> list[bytes]:
        """The blobs' bytes, in order. With ``limit``, a larger blob gives only its first
        ``limit + 1`` bytes: the caller sees it is over the limit without holding it all."""
        return list(self._answers(shas, limit))

    def stream(self, shas: Sequence[str], limit: int | None = None) -> Generator[bytes, None, None]:
        """The blobs' bytes, in order (see :meth:`read`), as the caller looks at each.

        A history's manifests are stored as deltas of each other, and git spends about as
        long rebuilding them as the caller spends looking at them: the next batch is
        asked for before this one is handed out, so that git works on it meanwhile (on the
        other core, into a pipe made large enough to hold it where the system allows). A
        stream closed early reads the rest of its answers, so the next request starts in step.
        """
        answers = self._answers(shas, limit, ahead=True)
        try:
            # Not ``yield from``: that would close ``answers`` with this stream, unread.
            for blob in answers:  # noqa: UP028 - see above
                yield blob
        finally:
            for _ in answers:
                pass

    def _answers(self, shas: Sequence[str], limit: int | None, *, ahead: bool = False) -> Iterator[bytes]:
        require_ids(shas)
        stdin, stdout = self._proc.stdin, self._proc.stdout
        assert stdin is not None and stdout is not None
        if ahead and not self._widened:
            self._widened = True
            _widen(stdout)
        batches = [shas[start : start + _BATCH] for start in range(0, len(shas), _BATCH)]
        missing: list[str] = []
        lead = 1 if ahead else 0  # batches asked for before the one being read
        for index, batch in enumerate(batches):
            # Requests for at most two batches are out at a time (see _BATCH).
            for asked in batches[0 if index == 0 else index + lead : index + lead + 1]:
                try:
                    stdin.write("".join(f"{sha}\n" for sha in asked).encode("ascii"))
                    stdin.flush()
                except OSError:
                    raise GitError("git cat-file stopped unexpectedly") from None
            for sha in batch:
                blob = _answer(stdout, sha, limit)
                if blob is None:
                    missing.append(sha)
                elif not missing:
                    yield blob
        if missing:  # every answer read first: the next request starts in step
            raise GitError(f"cannot read blob {missing[0]}: not in this repository")

    def close(self) -> None:
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        if self._proc.stdout is not None:
            self._proc.stdout.close()


class ReadAhead:
    """Blobs read into a temporary file by a ``git cat-file --batch`` of their own, while
    the caller does other work.

    A history's manifests are stored as deltas of each other, and rebuilding two thousand
    of them costs git 60-110 ms. Begun while the work tree's manifests are parsed, that work
    is done on the other core by the time a rule asks, into a file rather than a pipe, so
    git never waits for a reader. git begins on every id at once; their sizes, asked
    meanwhile (``--batch-check``, which rebuilds nothing), say where each answer lies in the
    file (:meth:`expect`). Only blobs of at most ``limit`` bytes, and at most :data:`_BUDGET`
    bytes in all, are read ahead: when some id is another object, missing, or over either
    bound, git is stopped and asked again for the blobs that fit. Whatever is not
    :meth:`held` is read the usual way, and so is everything when the read failed.
    """

    def __init__(self, root: str, ids: Sequence[str], limit: int) -> None:
        """Begin reading the blobs ``ids`` (distinct, checked) of ``root``."""
        import tempfile

        self._root, self._ids, self._limit = root, list(ids), limit
        self._at: dict[str, tuple[int, int, bytes]] = {}  # id -> (offset, size, header)
        self._proc: subprocess.Popen[bytes] | None = None
        self._view: mmap.mmap | None = None
        self._ready: bool | None = None
        self._length = 0
        # Kept open until close(): git writes into it, and get() reads it mapped.
        self._file: IO[bytes] = tempfile.TemporaryFile(prefix="modelgate-blobs-")  # noqa: SIM115
        self._start(self._ids)

    def _start(self, ids: Sequence[str]) -> None:
        import tempfile

        if not ids:
            return
        with tempfile.TemporaryFile(prefix="modelgate-ids-") as requests:
            requests.write("".join(f"{sha}\n" for sha in ids).encode("ascii"))
            requests.seek(0)
            try:
                self._proc = subprocess.Popen(
                    ["git", "-C", self._root, "--no-optional-locks", "cat-file", "--batch"],
                    stdin=requests,
                    stdout=self._file,
                    stderr=subprocess.DEVNULL,
                )
            except OSError:
                self._proc = None  # nothing held: read the usual way, where the error is reported

    def expect(self, sizes: bytes) -> None:
        """Lay out the answers from ``sizes``, ``--batch-check``'s for the ids in order."""
        lines = sizes.splitlines()
        answers = [line.split() for line in lines]
        if [parts[:1] for parts in answers] != [[sha.encode()] for sha in self._ids]:
            self._stop()  # not an answer per id, in order: hold nothing
            return
        fits, offset = [], 0
        for sha, line, parts in zip(self._ids, lines, answers, strict=True):
            # "<id> blob <size>", or "<id> missing" (and other types): only blobs are read ahead.
            if len(parts) != 3 or parts[1] != b"blob" or not parts[2].isdigit():
                continue
            size, header = int(parts[2]), line + b"\n"
            if size > self._limit or offset + len(header) + size + 1 > _BUDGET:
                continue
            fits.append(sha)
            self._at[sha] = (offset + len(header), size, header)
            offset += len(header) + size + 1  # the answer ends with a newline
        self._length = offset
        if len(fits) != len(self._ids):  # git is writing what does not fit: ask again
            self._stop()
            self._file.seek(0)
            self._file.truncate()
            self._start(fits)

    def _stop(self) -> None:
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.kill()
            self._proc.wait()
            self._proc = None

    def held(self) -> frozenset[str]:
        """The ids whose bytes :meth:`get` gives: every one asked for and read ahead, once
        git has finished; none when it failed or left a file of another length than its
        answers (a crash, a full disk). Waits for git."""
        if self._ready is None:
            self._ready = False
            if self._proc is not None and self._at and self._proc.wait() == 0:
                self._file.seek(0, 2)
                if self._file.tell() == self._length:
                    import mmap

                    self._view = mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ)
                    self._ready = True
        return frozenset(self._at) if self._ready else frozenset()

    def containing(self, needles: Sequence[bytes]) -> set[str]:
        """The held blobs whose bytes contain one of ``needles``: searched in the file, in
        C, and each answer's bytes looked at only where a needle is (a registry's thousands
        of manifests asked for one name). Waits for git, as :meth:`held` does."""
        if not self.held():
            return set()
        view = self._view
        assert view is not None
        ordered = sorted((start, size, sha) for sha, (start, size, _) in self._at.items())
        starts = [start for start, _, _ in ordered]
        found: set[str] = set()
        for needle in needles:
            at = view.find(needle)
            while at != -1:
                index = bisect.bisect_right(starts, at) - 1
                if index < 0:  # in the first answer's header
                    at = view.find(needle, at + 1)
                    continue
                start, size, sha = ordered[index]
                if at + len(needle) <= start + size:
                    found.add(sha)
                    at = start + size  # the rest of this blob need not be searched
                at = view.find(needle, at + 1)
        return found

    def get(self, sha: str) -> bytes:
        """A held blob's bytes (see :meth:`held`)."""
        start, size, header = self._at[sha]
        view = self._view
        if view is None or view[start - len(header) : start] != header:
            raise GitError(f"the blobs read ahead are not what git answered for {sha}")
        return view[start : start + size]

    def close(self) -> None:
        """Stop git if it is still reading, and free the file."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        if self._view is not None:
            self._view.close()
            self._view = None
        if self._file is not None:
            self._file.close()


def require_ids(shas: Sequence[str]) -> None:
    """A GitError unless every one of ``shas`` is a full object id: nothing else is written
    to git's standard input, where a line is a request."""
    for sha in shas:
        if not OBJECT_ID.match(sha):
            raise GitError(f"not an object id: {sha[:80]!r}")


def _answer(stdout: IO[bytes], sha: str, limit: int | None) -> bytes | None:
    """Read one answer of the batch protocol: ``<sha> <type> <size>\\n<content>\\n``, or
    ``<sha> missing\\n``."""
    header = stdout.readline().split()
    if not header:
        raise GitError("git cat-file stopped unexpectedly")
    if len(header) == 2 and header[1] == b"missing":
        return None
    if len(header) != 3 or header[0].decode("ascii", "replace") != sha or not header[2].isdigit():
        raise GitError(f"git cat-file answered {b' '.join(header)[:80]!r} for {sha}")
    size = int(header[2])
    keep = size if limit is None else min(size, limit + 1)
    kept = _exactly(stdout, keep)
    rest = size - keep
    while rest > 0:  # drained in chunks, never held whole
        rest -= len(_exactly(stdout, min(rest, _CHUNK)))
    _exactly(stdout, 1)  # the newline after the content
    return kept


def _exactly(stdout: IO[bytes], n: int) -> bytes:
    data = stdout.read(n)
    if len(data) != n:
        raise GitError("git cat-file stopped unexpectedly")
    return data


def _widen(pipe: IO[bytes]) -> None:
    import fcntl

    setting = getattr(fcntl, "F_SETPIPE_SZ", None)
    if setting is not None:
        with contextlib.suppress(OSError):
            fcntl.fcntl(pipe.fileno(), setting, _PIPE)
