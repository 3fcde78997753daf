"""Git LFS pointers: a CI clone without the content is verified against the pointers,
using the real git-lfs to make them; malformed pointers, written by hand, need no git-lfs."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from modelgate.git.lfs import LfsError, Pointer, parse, read_pointer
from tests.conftest import Repo, sha256

# Only the tests that make pointers with the real git-lfs need it; the malformed-pointer
# tests write their pointers by hand and run everywhere.
needs_git_lfs = pytest.mark.skipif(
    subprocess.run(["git", "lfs", "version"], capture_output=True).returncode != 0,
    reason="git-lfs is not installed (.ci/run installs it)",
)

CONTENT = b"large model weights " * 1000


def lfs_clone(repo: Repo, tmp_path: Path, manifest_sha: str | None = None, size: int | None = None) -> Repo:
    """Commit model.bin through LFS, then clone without the content (as CI often does)."""
    repo.git("lfs", "install", "--local")
    repo.write(".gitattributes", "*.bin filter=lfs diff=lfs merge=lfs -text\n")  # what `git lfs track` writes
    repo.manifest("m", artifact_bytes=CONTENT)
    if manifest_sha or size:
        data = json.loads((repo.root / "m" / "modelgate.yaml").read_text())
        data["artifacts"][0].update({k: v for k, v in (("sha256", manifest_sha), ("size", size)) if v})
        (repo.root / "m" / "modelgate.yaml").write_text(json.dumps(data))
    repo.commit("model via lfs")
    clone = tmp_path / "clone"
    subprocess.run(
        ["git", "clone", "-q", f"file://{repo.root}", str(clone)],
        check=True,
        env={**os.environ, "GIT_LFS_SKIP_SMUDGE": "1"},
    )
    pointer = (clone / "m" / "model.bin").read_bytes()
    assert pointer.startswith(b"version https://git-lfs.github.com/spec/v1\n")
    return Repo(clone)


@needs_git_lfs
def test_pointer_matching_the_manifest_passes_without_content(repo: Repo, tmp_path: Path) -> None:
    clone = lfs_clone(repo, tmp_path)
    proc = clone.run("check", "-v", "--json", "r.json")
    assert proc.returncode == 0, proc.stdout
    results = json.loads((clone.root / "r.json").read_text())["results"]
    result = next(r for r in results if r["check"] == "MG102")
    assert result["message"] == "verified by Git LFS pointer, content not downloaded: model.bin"


@needs_git_lfs
def test_pointer_oid_mismatch_fails(repo: Repo, tmp_path: Path) -> None:
    clone = lfs_clone(repo, tmp_path, manifest_sha=sha256(b"other"))
    proc = clone.run("check")
    assert proc.returncode == 1
    assert (
        f"model.bin: LFS pointer oid sha256:{sha256(CONTENT)} differs from the manifest's sha256 {sha256(b'other')}"
    ) in proc.stdout


@needs_git_lfs
def test_pointer_size_mismatch_fails(repo: Repo, tmp_path: Path) -> None:
    clone = lfs_clone(repo, tmp_path, size=len(CONTENT) + 1)
    proc = clone.run("check")
    assert proc.returncode == 1
    expected = f"model.bin: LFS pointer size {len(CONTENT)} differs from the manifest's size {len(CONTENT) + 1}"
    assert expected in proc.stdout


@needs_git_lfs
def test_deep_hashes_the_local_lfs_content(repo: Repo, tmp_path: Path) -> None:
    clone = lfs_clone(repo, tmp_path)
    proc = clone.run("check", "--deep")
    assert proc.returncode == 1
    assert "--deep: the LFS content is not in this clone; run `git lfs pull` first" in proc.stdout
    store = clone.root / ".git" / "lfs" / "objects" / sha256(CONTENT)[:2] / sha256(CONTENT)[2:4]
    store.mkdir(parents=True)
    shutil.copyfile(
        repo.root / ".git" / "lfs" / "objects" / sha256(CONTENT)[:2] / sha256(CONTENT)[2:4] / sha256(CONTENT),
        store / sha256(CONTENT),
    )
    assert clone.run("check", "--deep").returncode == 0
    (store / sha256(CONTENT)).write_bytes(b"corrupted store")
    assert "LFS content has sha256" in clone.run("check", "--deep", "--no-cache").stdout


V1 = b"version https://git-lfs.github.com/spec/v1\n"
OID = b"oid sha256:" + b"a" * 64 + b"\n"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (V1 + b"oid sha256:zz\nsize 3\n", "no valid 'oid sha256:<64 hex>'"),
        (V1 + OID + b"size -1\n", "no valid 'size'"),
        (V1 + b"size 3\n" + OID, "not unique and sorted"),
        (V1 + OID + b"size 3\nsize 4\n", "not unique and sorted"),  # the same key twice, values differing
        (V1 + OID + b"Size 3\n", "malformed line b'Size 3'"),
        (V1 + b"OID " + b"x" * 60 + b"\n", "malformed line b'OID " + "x" * 36 + "'$"),  # its first 40 bytes
        (V1 + OID + b"size 3", "newline"),
    ],
)
def test_malformed_pointers(data: bytes, message: str) -> None:
    with pytest.raises(LfsError, match=re.escape(message).replace(r"\$", "$")):
        parse(data)


def test_a_pointer_is_at_most_1024_bytes(tmp_path: Path) -> None:
    """Real pointers are ~130 bytes; a larger file that starts like one is content."""

    def pointer_of(size: int) -> bytes:
        head = V1 + OID + b"size 3\n" + b"x-pad "
        return head + b"p" * (size - len(head) - 1) + b"\n"

    exact, over = tmp_path / "exact.bin", tmp_path / "over.bin"
    exact.write_bytes(pointer_of(1024))
    over.write_bytes(pointer_of(1025))
    assert read_pointer(str(exact)) == Pointer("a" * 64, 3)
    assert read_pointer(str(over)) is None
    assert read_pointer(str(tmp_path)) is None  # a folder: cannot be read, so not a pointer
    assert read_pointer(str(tmp_path / "missing.bin")) is None


def test_malformed_pointer_in_a_checkout_fails(repo: Repo) -> None:
    repo.manifest("m")
    repo.write(".gitattributes", "*.bin filter=lfs diff=lfs merge=lfs -text\n")  # what `git lfs track` writes
    (repo.root / "m" / "model.bin").write_bytes(b"version https://git-lfs.github.com/spec/v1\noid sha256:zz\nsize 3\n")
    proc = repo.run("check")
    assert proc.returncode == 1
    assert "model.bin: not verified: LFS pointer has no valid 'oid sha256:<64 hex>'" in proc.stdout


def test_only_files_git_gives_filter_lfs_are_tracked(repo: Repo, tmp_path: Path) -> None:
    """git's attributes decide, asked by path (symlinks followed); outside a repository no file is."""
    from modelgate.git.lfs import tracked_by

    repo.write(".gitattributes", "*.bin filter=lfs diff=lfs merge=lfs -text\n")
    repo.write("m/model.bin", b"x")
    repo.write("m/model.onnx", b"x")
    tracked = tracked_by(str(repo.root))
    assert tracked(str(repo.root / "m" / "model.bin"))
    assert not tracked(str(repo.root / "m" / "model.onnx"))
    elsewhere = tmp_path / "not-a-repository"
    elsewhere.mkdir()
    (elsewhere / "model.bin").write_bytes(b"x")
    assert not tracked_by(str(elsewhere))(str(elsewhere / "model.bin"))
