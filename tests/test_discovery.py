"""Finding manifests: names, git ignores, skipped folders, explicit paths."""

from __future__ import annotations

import os

import pytest

from modelgate.discovery import discover, find_root, is_manifest_name
from modelgate.errors import UsageError
from tests.conftest import Repo


@pytest.mark.parametrize(
    ("name", "expected"),
    [("modelgate.yaml", True), ("fraud.modelgate.yaml", True), (".modelgate.yaml", False),
     ("modelgate.yml", False), ("xmodelgate.yaml", False)],
)
def test_manifest_names(name: str, expected: bool) -> None:
    assert is_manifest_name(name) is expected


def test_git_ignored_venv_and_node_modules_are_skipped(repo: Repo) -> None:
    for folder in ("a", "ignored", "node_modules/pkg", ".venv-x", "b"):
        repo.write(f"{folder}/modelgate.yaml", "x: 1\n")
    repo.write(".venv-x/pyvenv.cfg", "home = /usr\n")
    repo.write("b/extra.modelgate.yaml", "x: 1\n")
    repo.write(".gitignore", "ignored/\n")
    repo.write(".modelgate.yaml", "{}\n")
    found = discover(str(repo.root), [])
    assert [os.path.relpath(p, repo.root) for p in found.manifests] == [
        "a/modelgate.yaml", "b/extra.modelgate.yaml", "b/modelgate.yaml",
    ]


def test_walk_outside_git(tmp_path: object) -> None:
    from pathlib import Path

    root = Path(str(tmp_path))
    (root / "m").mkdir()
    (root / "m" / "modelgate.yaml").write_text("x: 1\n")
    (root / "node_modules").mkdir()
    (root / "node_modules" / "modelgate.yaml").write_text("x: 1\n")
    assert [os.path.relpath(p, root) for p in discover(str(root), [str(root)]).manifests] == ["m/modelgate.yaml"]


def test_explicit_paths_and_globs(repo: Repo) -> None:
    repo.write("models/a/modelgate.yaml", "x: 1\n")
    repo.write("other/modelgate.yaml", "x: 1\n")
    repo.write("models/a/model.bin", "w")
    root = str(repo.root)
    found = discover(root, [], ("models/**",))
    assert [os.path.relpath(p, root) for p in found.manifests] == ["models/a/modelgate.yaml"]
    found = discover(root, [str(repo.root / "other/modelgate.yaml"), str(repo.root / "models/a/model.bin")])
    assert [os.path.relpath(p, root) for p in found.manifests] == ["other/modelgate.yaml"]
    assert [os.path.relpath(p, root) for p in found.others] == ["models/a/model.bin"]
    with pytest.raises(UsageError, match="outside the repository"):
        discover(root, ["/etc"])


def test_root_is_the_git_toplevel(repo: Repo) -> None:
    repo.write("deep/er/modelgate.yaml", "x: 1\n")
    assert find_root([str(repo.root / "deep" / "er")]) == str(repo.root)


@pytest.mark.parametrize(
    ("root", "path"),
    [("/r", "/r/a/b.yaml"), ("/r", "/r"), ("/r", "/rx/a"), ("/r", "/r/a/../b"), ("/r", "/r/./a"),
     ("/r", "/r//a"), ("/r", "/r/a/"), ("/r/", "/r/a"), ("/", "/a/b"), ("/r/s", "/r/t/u")],
)
def test_relpath_agrees_with_os_path_relpath(root: str, path: str) -> None:
    from modelgate.discovery import relpath

    assert relpath(root, path) == os.path.relpath(path, root)
