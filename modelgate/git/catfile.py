"""One ``git cat-file --batch`` process per run: blobs' bytes by id.

Reading the manifests of a base commit and of its history means hundreds of small blobs:
one process serves them all, and requests go out in batches rather than one round trip
each. (gitpython's object database does the same one at a time, and its import alone,
~170 ms, cost more than reading every blob of a 200-commit history.)
"""

from __future__ import annotations

import contextlib
import re
import subprocess
from collections.abc import Generator, Iterator, Sequence
from typing import IO

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
        for sha in shas:
            if not OBJECT_ID.match(sha):
                raise GitError(f"not an object id: {sha[:80]!r}")
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
