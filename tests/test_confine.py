"""confine: a path the change wrote is read only when it resolves inside the repository and
out of .git/, and a refusal names that path at line 1, never the target."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from modelgate import confine
from modelgate.errors import InputError


@pytest.fixture
def tree(tmp_path: Path) -> tuple[str, Path]:
    """A repository folder (with a real-path root) holding a file, links in and out, a .git/."""
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / ".git" / "config").write_text("[core]\n")
    (root / "models").mkdir()
    (root / "models" / "m.yaml").write_text("name: m\n")
    (tmp_path / "secret").write_text("token\n")
    (root / "models" / "inside").symlink_to("m.yaml")
    (root / "models" / "outside").symlink_to(tmp_path / "secret")
    (root / "models" / "git").symlink_to(Path("..") / ".git" / "config")
    (root / "models" / "GIT").symlink_to(Path("..") / ".GIT")
    return os.path.realpath(root), tmp_path


def refusal_line(display: str, where: str) -> str:
    return f"{display}:1:1: leads {where}, so it was not opened; keep the file inside the repository, out of .git/"


def test_a_file_and_a_link_inside_are_read(tree: tuple[str, Path]) -> None:
    root, _ = tree
    assert confine.read(root, "models/m.yaml", "shown") == b"name: m\n"
    assert confine.read(root, "models/inside", "shown") == b"name: m\n"  # links are followed by default
    real = os.path.join(root, "models", "m.yaml")
    assert confine.read(root, "models/inside", "shown", real_root=root, real=real) == b"name: m\n"
    assert confine.read(root, "models/inside", "shown", real=real) == b"name: m\n"  # the root's real path found here
    assert confine.locate(root, "models/inside", "shown") == real


def test_a_manifest_that_is_a_link_is_refused_even_when_it_stays_inside(tree: tuple[str, Path]) -> None:
    root, _ = tree
    with pytest.raises(InputError) as info:
        confine.read(root, "models/inside", "models/inside", links=False)
    assert str(info.value) == f"models/inside:1:1: {confine.LINK}"
    assert confine.read(root, "models/m.yaml", "shown", links=False) == b"name: m\n"


@pytest.mark.parametrize(
    ("path", "where"),
    [
        ("models/outside", confine.OUTSIDE),
        ("models/git", confine.IN_GIT),
        ("models/GIT", confine.IN_GIT),
        ("../secret", confine.OUTSIDE),
    ],
)
@pytest.mark.parametrize("known", [False, True], ids=["resolved-here", "resolved-by-caller"])
def test_a_path_out_of_the_repository_or_into_git_is_refused_naming_the_path(
    tree: tuple[str, Path], path: str, where: str, known: bool
) -> None:
    root, outside = tree
    real = os.path.realpath(os.path.join(root, path)) if known else None
    with pytest.raises(InputError) as info:
        confine.read(root, path, "as written", real_root=root, real=real)
    assert str(info.value) == refusal_line("as written", where)
    assert str(outside / "secret") not in str(info.value)
    with pytest.raises(InputError) as info:
        confine.locate(root, path, "as written")
    assert str(info.value) == refusal_line("as written", where)


def test_refusal_allows_the_root_and_its_files_only(tree: tuple[str, Path]) -> None:
    root, _ = tree
    assert confine.refusal(root, root) is None
    assert confine.refusal(root, os.path.join(root, "models", "m.yaml")) is None
    assert confine.refusal(root, root + "-sibling") == confine.OUTSIDE  # a prefix of the name is not inside
    assert confine.refusal(root, os.path.join(root, "a", ".Git", "x")) == confine.IN_GIT


@pytest.mark.parametrize(
    "parts", [["models", "m.yaml"], ["models", "inside"], ["models", "missing", "x"], ["models", "outside"]]
)
def test_real_below_is_realpath(tree: tuple[str, Path], parts: list[str]) -> None:
    root, _ = tree
    assert confine.real_below(root, parts) == os.path.realpath(os.path.join(root, *parts))
