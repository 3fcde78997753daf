"""MG101 artifact-path and MG102 artifact-hash."""

from __future__ import annotations

import json
import os

import pytest

from tests.conftest import Repo, check_in_process, sha256


def test_matching_artifact_passes(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.manifest("m")
    report = check_in_process(repo, capsys=capsys)
    assert report.code == 0
    assert report.outcomes("MG101") == ["passed"]
    assert report.outcomes("MG102") == ["passed"]


def test_tampered_artifact_names_path_hashes_and_line(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.manifest("m", artifact_bytes=b"original")
    (repo.root / "m" / "model.bin").write_bytes(b"tampered")  # same size, other bytes
    report = check_in_process(repo, capsys=capsys)
    assert report.code == 1
    result = report.result("MG102")
    assert result["outcome"] == "failed"
    assert result["message"] == (
        f"model.bin: sha256 mismatch: manifest says {sha256(b'original')} (8 bytes),"
        f" file has {sha256(b'tampered')} (8 bytes)"
    )
    assert result["location"] == {"path": "m/modelgate.yaml", "line": 13, "column": 7}
    assert "m/modelgate.yaml:13:7" in report.out


def test_size_mismatch_reports_both_hashes(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.manifest("m", artifact_bytes=b"short")
    (repo.root / "m" / "model.bin").write_bytes(b"much longer")
    message = check_in_process(repo, capsys=capsys).messages("MG102")[0]
    assert f"manifest says {sha256(b'short')} (5 bytes)" in message
    assert f"file has {sha256(b'much longer')} (11 bytes)" in message


def test_size_alone_wrong_fails(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    content = b"abc"
    repo.manifest("m", artifacts=[{"path": "model.bin", "sha256": sha256(content), "size": 4}], artifact_bytes=content)
    assert check_in_process(repo, capsys=capsys).messages("MG102") == ["model.bin: size is 3 bytes, manifest says 4"]


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/etc/passwd", "artifact path is absolute; make it relative to the manifest's folder"),
        ("C:x", "artifact path is absolute; make it relative to the manifest's folder"),
        ("C:\\x", "artifact path contains a backslash; use '/' as separator"),
        ("../../x", "artifact path leaves the repository ('..' climbs above its root)"),
        ("sub/../../../repo/m/model.bin", "artifact path leaves the repository ('..' climbs above its root)"),
        ("../.git/config", "artifact path is inside .git/, which no commit holds; keep artifacts in the work tree"),
        (".GIT/../model.bin", "artifact path is inside .git/, which no commit holds; keep artifacts in the work tree"),
        ("missing.bin", "artifact file is missing"),
    ],
)
def test_unacceptable_paths(repo: Repo, capsys: pytest.CaptureFixture[str], path: str, message: str) -> None:
    repo.manifest("m", artifacts=[{"path": path, "sha256": "0" * 64, "size": 1}])
    report = check_in_process(repo, capsys=capsys)
    assert report.code == 1
    assert report.messages("MG101") == [f"{path}: {message}"]
    assert report.outcomes("MG102") == ["failed"]  # never a pass when unverifiable


def test_symlink_leaving_repo_is_refused(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.manifest("m")
    os.symlink("/dev/zero", repo.root / "m" / "zero.bin")
    os.symlink(repo.root.parent, repo.root / "m" / "up")
    repo.manifest(
        "m",
        artifacts=[
            {"path": "zero.bin", "sha256": "0" * 64, "size": 1},
            {"path": "up/report.json", "sha256": "0" * 64, "size": 1},
        ],
    )
    messages = check_in_process(repo, capsys=capsys).messages("MG101")
    assert messages == [
        "zero.bin: artifact path leaves the repository (through a symlink)",
        "up/report.json: artifact path leaves the repository (through a symlink)",
    ]


def test_symlink_inside_repo_is_followed(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    art = repo.artifact("store/weights.bin", b"w")
    (repo.root / "m").mkdir()
    os.symlink("../store/weights.bin", repo.root / "m" / "model.bin")
    # manifest() writes model.bin through the symlink: keep the same bytes.
    repo.manifest("m", artifacts=[{**art, "path": "model.bin"}], artifact_bytes=b"w")
    assert check_in_process(repo, capsys=capsys).code == 0


def test_nul_in_path_is_an_invalid_manifest(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.manifest("m", artifacts=[{"path": "a\x00b", "sha256": "0" * 64, "size": 1}])
    report = check_in_process(repo, capsys=capsys)
    assert report.code == 1
    assert report.messages("MG001") == ["control or bidi character U+0000 is not allowed in text"]


def test_fifo_and_directory_are_refused_without_hanging(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    (repo.root / "m").mkdir()
    os.mkfifo(repo.root / "m" / "pipe.bin")
    (repo.root / "m" / "dir.bin").mkdir()
    repo.manifest(
        "m",
        artifacts=[
            {"path": "pipe.bin", "sha256": "0" * 64, "size": 1},
            {"path": "dir.bin", "sha256": "0" * 64, "size": 1},
        ],
    )
    assert check_in_process(repo, capsys=capsys).messages("MG101") == [
        "pipe.bin: artifact path is not a regular file (device, FIFO or socket)",
        "dir.bin: artifact path is a directory; list each file as an artifact",
    ]


def test_artifact_path_selects_its_manifest(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.manifest("a", name="model-a")
    repo.manifest("b", name="model-b")
    report = check_in_process(repo, "a/model.bin", capsys=capsys)
    assert [m["path"] for m in report.data["manifests"]] == ["a/modelgate.yaml"]


def _pointer(content: bytes) -> bytes:
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256(content)}\nsize {len(content)}\n".encode()


@pytest.mark.parametrize(
    ("attributes", "link", "lfs"),
    [
        (None, False, False),  # no attributes: pointer-shaped bytes are just bytes
        ("*.bin filter=lfs diff=lfs merge=lfs -text\n", False, True),
        ("*.bin filter=lfs\nm/model.bin -filter\n", False, False),  # unset again for this path
        ("*.bin filter=something-else\n", False, False),
        # model.bin is named like an LFS file but is a link to a file that is not one: what
        # is read is the target, so the target's attributes decide.
        ("*.bin filter=lfs\n", True, False),
    ],
    ids=["no-attributes", "filter-lfs", "unset-again", "other-filter", "link-to-non-lfs-file"],
)
def test_an_lfs_pointer_is_evidence_only_where_git_attributes_say_lfs(
    repo: Repo, attributes: str | None, link: bool, lfs: bool
) -> None:
    weights = b"weights that are not in this clone"
    repo.manifest("m", artifact_bytes=weights)
    if attributes is not None:
        repo.write(".gitattributes", attributes)
    if link:
        os.remove(repo.root / "m" / "model.bin")
        repo.write("m/pointer.txt", _pointer(weights))
        os.symlink("pointer.txt", repo.root / "m" / "model.bin")
    else:
        repo.write("m/model.bin", _pointer(weights))
    proc = repo.run("check", "--select", "MG102", "--json", "../r.json")
    [result] = [r for r in json.loads((repo.root.parent / "r.json").read_text())["results"] if r["check"] == "MG102"]
    if lfs:
        assert (proc.returncode, result["message"]) == (
            0,
            "verified by Git LFS pointer, content not downloaded: model.bin",
        ), proc.stdout
    else:
        assert proc.returncode == 1, proc.stdout
        assert result["message"].startswith(
            "model.bin: looks like a Git LFS pointer, but git's attributes do not give it filter=lfs"
        )


def test_a_path_may_climb_with_dotdot_while_it_stays_inside(repo: Repo) -> None:
    """A tokenizer shared by several models, at the repository's top, named from each
    model's folder with '..'; symlinks inside the repository are followed as before."""
    shared = repo.artifact("common/vocab.txt", b"a b c")
    repo.manifest("models/churn", artifacts=[{**shared, "path": "../../common/vocab.txt"}])
    proc = repo.run("check", "--json", "../r.json")
    assert proc.returncode == 0, proc.stdout
    report = json.loads((repo.root.parent / "r.json").read_text())
    assert [r["outcome"] for r in report["results"] if r["name"] in ("artifact-path", "artifact-hash")] == [
        "passed",
        "passed",
    ]
    repo.write("common/vocab.txt", b"a b d")
    assert repo.run("check").returncode == 1
