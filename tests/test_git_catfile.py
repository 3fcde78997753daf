"""CatFile: blobs by id through one ``git cat-file --batch``, read in full or streamed with
the next batch asked for ahead, on real repositories."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from modelgate.errors import GitError
from modelgate.git import catfile
from modelgate.git.catfile import CatFile
from modelgate.git.repo import GitRepo
from tests.conftest import Repo


def _blobs(repo: Repo, count: int) -> tuple[list[str], list[bytes]]:
    """``count`` distinct blobs written into the repository's object store."""
    contents = [f"blob {i}\n".encode() * (1 + i % 7) for i in range(count)]
    for i, content in enumerate(contents):
        (repo.root / f"b{i}").write_bytes(content)
    out = subprocess.run(
        ["git", "hash-object", "-w", "--stdin-paths"],
        cwd=repo.root,
        input="".join(f"b{i}\n" for i in range(count)),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return out, contents


def test_a_stream_gives_what_a_read_gives_across_batches(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(catfile, "_BATCH", 16)  # many batches, each asked for ahead of its turn
    shas, contents = _blobs(repo, 100)
    reader = CatFile(str(repo.root))
    try:
        assert list(reader.stream(shas)) == contents
        assert reader.read(shas) == contents
        assert list(reader.stream(shas[:3], limit=8)) == [c[:9] for c in contents[:3]]
    finally:
        reader.close()


def test_a_stream_left_early_keeps_the_next_request_in_step(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(catfile, "_BATCH", 4)
    shas, contents = _blobs(repo, 30)
    reader = CatFile(str(repo.root))
    try:
        stream = reader.stream(shas)
        assert [next(stream) for _ in range(5)] == contents[:5]
        stream.close()  # 25 answers, some asked for already, are read and dropped
        assert reader.read(shas[10:12]) == contents[10:12]
    finally:
        reader.close()


def test_a_missing_blob_in_a_stream_is_a_git_error_and_the_next_request_works(repo: Repo) -> None:
    shas, contents = _blobs(repo, 3)
    reader = CatFile(str(repo.root))
    try:
        with pytest.raises(GitError, match="cannot read blob 1111111111111111111111111111111111111111"):
            list(reader.stream([shas[0], "1" * 40, shas[1]]))
        assert reader.read([shas[2]]) == [contents[2]]
        with pytest.raises(GitError, match="not an object id"):
            list(reader.stream(["HEAD"]))
    finally:
        reader.close()


def test_stream_blobs_answers_known_bytes_from_memory_and_takes_distinct_ids(repo: Repo) -> None:
    shas, contents = _blobs(repo, 4)
    git = GitRepo(str(repo.root))
    try:
        git.remember(shas[1], contents[1])
        assert list(git.stream_blobs(shas)) == contents
        assert list(git.stream_blobs([shas[1]])) == [contents[1]]  # from memory alone
        with pytest.raises(ValueError, match="distinct"):
            list(git.stream_blobs([shas[0], shas[0]]))
    finally:
        git.close()


@pytest.mark.skipif(not hasattr(__import__("fcntl"), "F_SETPIPE_SZ"), reason="pipe sizes are set only on Linux")
def test_a_stream_through_one_page_pipes_never_waits_on_itself(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    """With both pipes one page (what Linux gives a user over its pipe quota), the requests
    written ahead still fit: git, blocked on answers we have not read, never blocks our
    writing of the next batch (with 512 ids a batch, it did)."""
    import fcntl
    import threading

    monkeypatch.setattr(catfile, "_PIPE", 4096)  # what the stream widens its answers' pipe to
    shas, contents = _blobs(repo, 400)
    reader = CatFile(str(repo.root))
    assert reader._proc.stdin is not None
    fcntl.fcntl(reader._proc.stdin.fileno(), fcntl.F_SETPIPE_SZ, 4096)
    got: list[bytes] = []
    done = threading.Thread(target=lambda: got.extend(reader.stream(shas)), daemon=True)
    done.start()
    done.join(timeout=30)
    try:
        assert not done.is_alive(), "the stream waited on itself"
        assert got == contents
    finally:
        if done.is_alive():
            reader._proc.kill()  # unblocks the writer, so the thread ends
        reader.close()


def test_read_ahead_holds_what_a_read_gives_within_its_limit_and_budget(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    shas, contents = _blobs(repo, 20)  # blob i is 7 x (1 + i % 7) bytes and more
    commit = repo.commit("c")
    git = GitRepo(str(repo.root))
    big = max(range(20), key=lambda i: len(contents[i]))
    limit = len(contents[big]) - 1
    with pytest.raises(GitError, match="not an object id"):
        git.read_ahead(["HEAD"], limit)  # a request line is an id, never a name git resolves
    ahead = git.read_ahead([*shas, shas[0], commit, "f" * 40], limit)
    try:
        held = ahead.held()
        # Not the blob over the limit, nor a commit, nor what is missing; the others, once each.
        small = [sha for i, sha in enumerate(shas) if len(contents[i]) <= limit]
        assert held == frozenset(small)
        assert [ahead.get(sha) for sha in small] == git.blobs(small)
        # Through stream_blobs: held ones from the file, the others (over the limit) as before.
        assert list(git.stream_blobs(shas, limit=limit, ahead=ahead)) == git.blobs(shas, limit=limit)
    finally:
        ahead.close()
    monkeypatch.setattr(catfile, "_BUDGET", 200)
    tight = git.read_ahead(shas, 1 << 20)
    try:
        answers = sum(
            len(f"{sha} blob {len(contents[shas.index(sha)])}\n") + len(contents[shas.index(sha)]) + 1
            for sha in tight.held()
        )
        assert 0 < len(tight.held()) < len(shas) and answers <= 200
    finally:
        tight.close()
        git.close()


@pytest.mark.parametrize(
    "answer",
    [
        'printf "%s blob 9\\npart" "$first"; exit 0',  # cut short: the file is not as long as the answers
        '"$real" "$@"; exit 1',  # every answer, then a failure: git's word is not trusted either
    ],
)
def test_read_ahead_that_failed_holds_nothing_and_the_stream_reads_as_before(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, answer: str
) -> None:
    """A git that fails halfway through its answers (a crash, a full disk) leaves a file that
    is not what was asked: it is not used, and every blob is read from the pipe."""
    shas, contents = _blobs(repo, 10)
    fake = tmp_path / "bin" / "git"
    fake.parent.mkdir()
    # The read-ahead's cat-file reads its requests from a file; the stream's, from a pipe.
    fake.write_text(
        f"#!/bin/sh\nreal={shutil.which('git')}\nfirst={shas[0]}\n"
        f'for a; do if [ "$a" = --batch ] && [ ! -p /dev/stdin ]; then {answer}; fi; done\n'
        'exec "$real" "$@"\n'
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    git = GitRepo(str(repo.root))
    ahead = git.read_ahead(shas, 1 << 20)
    try:
        assert ahead.held() == frozenset()
        assert list(git.stream_blobs(shas, ahead=ahead)) == contents
    finally:
        ahead.close()
        git.close()


def test_read_ahead_closed_before_use_stops_git(repo: Repo) -> None:
    shas, _ = _blobs(repo, 50)
    git = GitRepo(str(repo.root))
    ahead = git.read_ahead(shas, 1 << 20)
    proc = ahead._proc
    ahead.close()
    git.close()
    assert proc is not None and proc.poll() is not None


def test_git_begins_before_the_sizes_are_known_and_is_asked_once_when_all_fit(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    shas, contents = _blobs(repo, 12)
    git = GitRepo(str(repo.root))
    begun: list[catfile.ReadAhead] = []
    real = catfile.ReadAhead._start

    def started(self: catfile.ReadAhead, ids: list[str]) -> None:
        begun.append(self)
        real(self, ids)

    monkeypatch.setattr(catfile.ReadAhead, "_start", started)
    sized = git.run
    running: list[bool] = []

    def sizes_asked(*args: str, **kwargs: object) -> bytes:
        running.append(bool(begun) and begun[0]._proc is not None)  # git is at work already
        return sized(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(git, "run", sizes_asked)
    ahead = git.read_ahead(shas, 1 << 20)
    try:
        assert running == [True] and len(begun) == 1  # asked once: every blob fits
        assert [ahead.get(sha) for sha in shas if sha in ahead.held()] == contents
    finally:
        ahead.close()
        git.close()


def test_sizes_that_do_not_answer_each_id_in_order_hold_nothing(repo: Repo) -> None:
    shas, contents = _blobs(repo, 3)
    ahead = catfile.ReadAhead(str(repo.root), shas, 1 << 20)
    proc = ahead._proc
    # Each id's true size, but not in the order asked: the file would be as long as expected.
    answers = "".join(
        f"{sha} blob {len(content)}\n" for sha, content in reversed(list(zip(shas, contents, strict=True)))
    ).encode()
    ahead.expect(answers)
    try:
        assert ahead.held() == frozenset()
        assert proc is not None and proc.poll() is not None  # git stopped
    finally:
        ahead.close()


def test_a_read_ahead_whose_sizes_cannot_be_asked_stops_git(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    shas, _ = _blobs(repo, 50)
    git = GitRepo(str(repo.root))
    begun: list[catfile.ReadAhead] = []
    real = catfile.ReadAhead.__init__

    def made(self: catfile.ReadAhead, *args: object) -> None:
        real(self, *args)  # type: ignore[arg-type]
        begun.append(self)

    def refused(*args: str, **kwargs: object) -> bytes:
        raise GitError("git cat-file failed: no")

    monkeypatch.setattr(catfile.ReadAhead, "__init__", made)
    monkeypatch.setattr(git, "run", refused)
    with pytest.raises(GitError, match="no"):
        git.read_ahead(shas, 1 << 20)
    proc = begun[0]._proc
    assert proc is not None and proc.poll() is not None and begun[0]._file.closed
    git.close()


def test_blobs_containing_finds_every_blob_that_holds_a_needle_read_ahead_or_not(repo: Repo) -> None:
    """Searched in the file git answered into: a needle in a blob's bytes finds it (also in
    one over the read-ahead's limit, read and searched the usual way); one that only spans
    the end of a blob and the start of the next, or stands in an answer's header, does not."""
    texts = [b"x needle y", b"nothing", b"ends in nee", b"dle starts here", b"needle" + b"." * 200, b"blob"]
    for i, text in enumerate(texts):
        (repo.root / f"n{i}").write_bytes(text)
    shas = subprocess.run(
        ["git", "hash-object", "-w", "--stdin-paths"],
        cwd=repo.root,
        input="".join(f"n{i}\n" for i in range(len(texts))),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    git = GitRepo(str(repo.root))
    try:
        found = git.blobs_containing(shas, [b"needle"], limit=100)
        assert found == {shas[0]: texts[0], shas[4]: texts[4][:101]}  # over the limit: cut as blobs() cuts
        assert git.blobs_containing(shas, [b"needle", b"nothing"], limit=1000).keys() == {shas[0], shas[1], shas[4]}
        assert git.blobs_containing(shas, [shas[2][:12].encode(), b" blob "], limit=1000) == {}  # headers only
        assert git.blobs_containing(shas, [b"nee\n"], limit=1000) == {}  # into the newline after a blob
        assert git.blobs_containing(shas, None, limit=1000) == dict(zip(shas, texts, strict=True))
    finally:
        git.close()
