"""The hashing engine: same digest as hashlib on every path, parallel prefetch, TOCTOU."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from modelgate.hashing.digest import CHUNK, PIPELINE_FROM, Hasher, HashError, hash_file


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, PIPELINE_FROM, PIPELINE_FROM + 3 * CHUNK + 17])
def test_digest_equals_hashlib(tmp_path: Path, size: int) -> None:
    data = os.urandom(min(size, 1 << 16)) * (size // (1 << 16) + 1)
    path = tmp_path / "a.bin"
    path.write_bytes(data[:size])
    digest, st = hash_file(str(path))
    assert digest.sha256 == hashlib.sha256(data[:size]).hexdigest()
    assert digest.size == size == st.st_size


def test_progress_sees_every_byte(tmp_path: Path) -> None:
    path = tmp_path / "a.bin"
    path.write_bytes(b"x" * (PIPELINE_FROM + 5))
    seen: list[int] = []
    hash_file(str(path), seen.append)
    assert sum(seen) == PIPELINE_FROM + 5


def test_refuses_fifo_and_symlink(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(HashError, match="not a regular file"):
        hash_file(str(tmp_path / "fifo"))
    (tmp_path / "real").write_bytes(b"x")
    os.symlink(tmp_path / "real", tmp_path / "link")
    with pytest.raises(HashError, match="cannot open"):
        hash_file(str(tmp_path / "link"))  # O_NOFOLLOW: resolve first, then open the real file


def test_prefetch_hashes_in_parallel_once_each(tmp_path: Path) -> None:
    paths = []
    for index in range(6):
        path = tmp_path / f"{index}.bin"
        path.write_bytes(bytes([index]) * (PIPELINE_FROM + index))
        paths.append(str(path))
    hasher = Hasher(workers=2)
    hasher.prefetch(paths + paths)
    assert hasher.hashed == 6
    for index, path in enumerate(paths):
        assert hasher.digest(path).sha256 == hashlib.sha256(bytes([index]) * (PIPELINE_FROM + index)).hexdigest()
    assert hasher.hashed == 6


@pytest.mark.parametrize("size", [3 * CHUNK, PIPELINE_FROM + CHUNK], ids=["simple", "pipelined"])
def test_file_growing_while_read_is_an_error(tmp_path: Path, size: int) -> None:
    path = tmp_path / "a.bin"
    path.write_bytes(b"x" * size)

    grown: list[int] = []

    def grow(count: int) -> None:  # called after a buffer: the file grows under the reader, once
        if not grown:
            with path.open("ab") as out:
                out.write(b"y")
        grown.append(count)

    with pytest.raises(HashError, match="changed while it was being hashed"):
        hash_file(str(path), grow)


@pytest.mark.parametrize("size", [3 * CHUNK, PIPELINE_FROM + CHUNK], ids=["simple", "pipelined"])
def test_file_rewritten_in_place_while_read_is_an_error(tmp_path: Path, size: int) -> None:
    """Same size, same mtime (set back), different bytes: only the ctime shows it."""
    path = tmp_path / "a.bin"
    path.write_bytes(b"x" * size)
    before = os.stat(path)
    done: list[int] = []

    def rewrite(count: int) -> None:
        if not done:
            with path.open("r+b") as out:
                out.write(b"y")  # the first buffer, already hashed, no longer matches the file
            os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
        done.append(count)

    with pytest.raises(HashError, match="changed while it was being hashed"):
        hash_file(str(path), rewrite)


def test_file_rewritten_with_a_new_mtime_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "a.bin"
    path.write_bytes(b"x" * 3 * CHUNK)
    done: list[int] = []

    def rewrite(count: int) -> None:
        if not done:
            with path.open("r+b") as out:
                out.write(b"y")
        done.append(count)

    with pytest.raises(HashError, match="changed while it was being hashed"):
        hash_file(str(path), rewrite)


@pytest.mark.parametrize("size", [CHUNK + 1, PIPELINE_FROM + 1], ids=["simple", "pipelined"])
def test_md5_and_sha256_from_one_read(tmp_path: Path, size: int) -> None:
    data = os.urandom(1 << 16) * (size // (1 << 16) + 1)
    path = tmp_path / "a.bin"
    path.write_bytes(data[:size])
    digest, _ = hash_file(str(path), md5=True)
    assert digest.sha256 == hashlib.sha256(data[:size]).hexdigest()
    assert digest.md5 == hashlib.md5(data[:size]).hexdigest()
    assert hash_file(str(path))[0].md5 is None  # md5 only when asked for


def test_md5_asked_after_a_sha256_only_digest_reads_again(tmp_path: Path) -> None:
    path = tmp_path / "a.bin"
    path.write_bytes(b"weights")
    hasher = Hasher()
    assert hasher.digest(str(path)).md5 is None
    assert hasher.digest(str(path), md5=True).md5 == hashlib.md5(b"weights").hexdigest()
    assert hasher.hashed == 2
    assert hasher.digest(str(path), md5=True).md5 == hashlib.md5(b"weights").hexdigest()
    assert hasher.digest(str(path)).sha256 == hashlib.sha256(b"weights").hexdigest()
    assert hasher.hashed == 2  # both remembered


def test_missing_files_are_hash_errors_never_exceptions(tmp_path: Path) -> None:
    present = tmp_path / "a.bin"
    present.write_bytes(b"a")
    missing = str(tmp_path / "gone.bin")
    hasher = Hasher(workers=2)
    hasher.prefetch([missing, str(present), str(tmp_path / "also-gone.bin")])  # recorded, not raised
    with pytest.raises(HashError, match="cannot read: No such file"):
        hasher.digest(missing)
    assert hasher.digest(str(present)).sha256 == hashlib.sha256(b"a").hexdigest()
    with pytest.raises(HashError, match="cannot open: No such file"):
        hash_file(missing)


def test_a_cached_digest_without_an_md5_is_not_an_answer_when_the_md5_is_asked(tmp_path: Path) -> None:
    """The cache holds the sha256 of a file hashed without md5 (stored past the racy window,
    so it is trusted); a run that needs the md5 (a DVC-tracked file) hashes the file again."""
    from modelgate.hashing.cache import RACY_NS, HashCache
    from modelgate.hashing.digest import Digest

    path = tmp_path / "a.bin"
    path.write_bytes(b"weights")
    db = str(tmp_path / "hashes.sqlite")
    cache = HashCache(db)
    st = os.stat(path)
    sha = hashlib.sha256(b"weights").hexdigest()
    cache.put(st, sha, max(st.st_mtime_ns, st.st_ctime_ns) + RACY_NS + 1)
    cache.close()
    trusted = Hasher(HashCache(db))
    assert trusted.digest(str(path)) == Digest(sha, 7) and trusted.hashed == 0  # the cache answers
    asked = Hasher(HashCache(db))
    assert asked.digest(str(path), md5=True) == Digest(sha, 7, hashlib.md5(b"weights").hexdigest())
    assert asked.hashed == 1
