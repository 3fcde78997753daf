"""Artifact paths: the fast resolution from known real folders agrees with realpath."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from modelgate.pipeline.paths import ArtifactPathError, MissingFile, resolve


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "repo"
    folder = root / "models" / "m"
    (folder / "sub").mkdir(parents=True)
    (folder / "model.bin").write_bytes(b"w")
    (folder / "sub" / "deep.bin").write_bytes(b"d")
    (root / "common").mkdir()
    (root / "common" / "vocab.txt").write_text("v")
    (tmp_path / "outside.bin").write_bytes(b"o")
    os.symlink(root / "common", folder / "linked")  # a folder symlink that stays inside
    os.symlink(root / "common" / "vocab.txt", folder / "vocab.txt")
    os.symlink(tmp_path / "outside.bin", folder / "escape.bin")
    os.symlink(tmp_path, folder / "up")  # a folder symlink that leaves
    os.symlink(folder / "nowhere", folder / "dangling.bin")
    # The manifest folder itself reached through a symlink.
    os.symlink(folder, root / "alias")
    return root, folder


@pytest.mark.parametrize(
    "path",
    [
        "model.bin",
        "./model.bin",
        "sub/deep.bin",
        "sub//deep.bin",
        "linked/vocab.txt",
        "vocab.txt",
        "escape.bin",
        "up/outside.bin",
        "dangling.bin",
        "missing.bin",
        "sub",
        "linked",
    ],
)
@pytest.mark.parametrize("via_alias", [False, True])
def test_known_real_folders_give_the_same_answer(tree: tuple[Path, Path], path: str, via_alias: bool) -> None:
    root, folder = tree
    manifest_dir = str(root / "alias") if via_alias else str(folder)

    def outcome(**known: str) -> str:
        try:
            return resolve(str(root), manifest_dir, path, **known)
        except ArtifactPathError as exc:
            return f"error: {exc}"

    plain = outcome()
    assert plain == outcome(real_root=os.path.realpath(root), real_dir=os.path.realpath(manifest_dir))
    if path in ("escape.bin", "up/outside.bin"):
        assert plain == "error: artifact path leaves the repository (through a symlink)"
    elif path in ("dangling.bin", "missing.bin"):
        assert plain == "error: artifact file is missing"
    elif path in ("sub", "linked"):
        assert plain.startswith("error: artifact path is a directory")
    else:
        assert plain == os.path.realpath(os.path.join(folder, path))


@pytest.mark.parametrize("path", ["model.bin/inner.bin", "loop.bin"])
def test_a_path_the_file_system_refuses_is_an_error_not_a_crash(tree: tuple[Path, Path], path: str) -> None:
    """Through a file (ENOTDIR) or a symlink loop (ELOOP): unreadable, named, never raised."""
    root, folder = tree
    os.symlink(folder / "loop.bin", folder / "loop.bin")
    with pytest.raises(ArtifactPathError, match=r"^artifact file cannot be read: (Not a directory|Too many levels)"):
        resolve(str(root), str(folder), path)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("../m/model.bin", "models/m/model.bin"),
        ("sub/../model.bin", "models/m/model.bin"),
        ("../../common/vocab.txt", "common/vocab.txt"),
        ("linked/../models/m/model.bin", "models/m/model.bin"),  # the link is followed before its '..'
        ("../../../repo/common/vocab.txt", "error: artifact path leaves the repository ('..' climbs above its root)"),
        ("../../..", "error: artifact path leaves the repository ('..' climbs above its root)"),
        ("sub/../../../../outside.bin", "error: artifact path leaves the repository ('..' climbs above its root)"),
        ("up/../outside.bin", "error: artifact path leaves the repository (through a symlink)"),
        (
            "../../.git/config",
            "error: artifact path is inside .git/, which no commit holds; keep artifacts in the work tree",
        ),
        (
            ".GIT/../model.bin",
            "error: artifact path is inside .git/, which no commit holds; keep artifacts in the work tree",
        ),  # named, even where no such folder exists to follow
        ("../../missing.bin", "error: artifact file is missing"),
    ],
)
@pytest.mark.parametrize("via_alias", [False, True])
def test_dotdot_is_taken_while_the_path_stays_inside(
    tree: tuple[Path, Path], path: str, expected: str, via_alias: bool
) -> None:
    """Written out, a path may climb with '..' but never above the root, not even on its way
    back in; through a symlinked manifest folder it climbs from the real folder."""
    root, folder = tree
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("[core]")
    manifest_dir = str(root / "alias") if via_alias else str(folder)
    for known in ({}, {"real_root": os.path.realpath(root), "real_dir": os.path.realpath(manifest_dir)}):
        try:
            found = os.path.relpath(resolve(str(root), manifest_dir, path, **known), os.path.realpath(root))
        except ArtifactPathError as exc:
            found = f"error: {exc}"
        assert found == expected


def test_a_missing_file_says_where_it_would_be_and_messages_name_the_kind(tree: tuple[Path, Path]) -> None:
    root, folder = tree
    with pytest.raises(MissingFile, match=r"^data file is missing$") as missing:
        resolve(str(root), str(folder), "../../data/train.csv", kind="data")
    assert missing.value.real == os.path.join(os.path.realpath(root), "data", "train.csv")
    with pytest.raises(ArtifactPathError, match=r"^lockfile path is a directory; name the lockfile itself$"):
        resolve(str(root), str(folder), "sub", kind="lockfile")


@pytest.mark.parametrize(
    ("manifest_in", "path", "expected"),
    [
        # From the root itself, one '..' is above it; a detour that comes back is inside.
        ("", "../outside.bin", "error: artifact path leaves the repository ('..' climbs above its root)"),
        ("", "common/../common/vocab.txt", "common/vocab.txt"),
        # Every component down counts, every '..' up: two down then two up is the root.
        ("models", "m/sub/../../m/model.bin", "models/m/model.bin"),
        ("models/m", "sub/../../../common/vocab.txt", "common/vocab.txt"),
        (
            "models/m",
            "sub/../../../../outside.bin",
            "error: artifact path leaves the repository ('..' climbs above its root)",
        ),
    ],
)
def test_dotdot_counts_from_the_manifests_depth_below_the_root(
    tree: tuple[Path, Path], manifest_in: str, path: str, expected: str
) -> None:
    root, _ = tree
    try:
        found = os.path.relpath(resolve(str(root), str(root / manifest_in), path), os.path.realpath(root))
    except ArtifactPathError as exc:
        found = f"error: {exc}"
    assert found == expected


@pytest.mark.parametrize(
    ("uri", "in_repository"),
    [
        ("data/train.parquet", True),
        ("../common/train.parquet", True),
        ("s3://acme-data/fraud/train.parquet", False),
        ("https://example.org/train.csv", False),
        ("gs://bucket/x", False),
    ],
)
def test_a_data_uri_without_a_scheme_is_a_repository_path(uri: str, in_repository: bool) -> None:
    from modelgate.pipeline.paths import is_repository_path

    assert is_repository_path(uri) is in_repository
