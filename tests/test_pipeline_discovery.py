"""Finding manifests: names, git ignores, skipped folders, explicit paths."""

from __future__ import annotations

import json
import os

import pytest

from modelgate.errors import UsageError
from modelgate.pipeline.discovery import discover, is_manifest_name, is_selected_manifest
from tests.conftest import Repo, production_fields, staging_fields


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("modelgate.yaml", True),
        ("fraud.modelgate.yaml", True),
        (".modelgate.yaml", False),
        ("modelgate.yml", False),
        ("xmodelgate.yaml", False),
    ],
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
        "a/modelgate.yaml",
        "b/extra.modelgate.yaml",
        "b/modelgate.yaml",
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


@pytest.mark.parametrize(
    ("root", "path"),
    [
        ("/r", "/r/a/b.yaml"),
        ("/r", "/r"),
        ("/r", "/rx/a"),
        ("/r", "/r/a/../b"),
        ("/r", "/r/./a"),
        ("/r", "/r//a"),
        ("/r", "/r/a/"),
        ("/r/", "/r/a"),
        ("/", "/a/b"),
        ("/r/s", "/r/t/u"),
    ],
)
def test_relpath_agrees_with_os_path_relpath(root: str, path: str) -> None:
    from modelgate.pipeline.discovery import relpath

    assert relpath(root, path) == os.path.relpath(path, root)


def test_a_tracked_manifest_is_never_skipped(repo: Repo) -> None:
    # Tracked: found wherever it is. Untracked beside them: skipped as before.
    for folder in ("node_modules/pkg", "env", "ignored", "a"):
        repo.write(f"{folder}/modelgate.yaml", "x: 1\n")
    repo.write("env/pyvenv.cfg", "home = /usr\n")
    repo.write(".gitignore", "ignored/\n")
    repo.git("add", "-A")
    repo.git("add", "-f", "ignored/modelgate.yaml")
    for folder in ("node_modules/other", "env/sub", "ignored/untracked", ".venv-x", "b/node_modules"):
        repo.write(f"{folder}/modelgate.yaml", "x: 1\n")
    repo.write(".venv-x/pyvenv.cfg", "home = /usr\n")
    found = discover(str(repo.root), [])
    assert [os.path.relpath(p, repo.root) for p in found.manifests] == [
        "a/modelgate.yaml",
        "env/modelgate.yaml",
        "ignored/modelgate.yaml",
        "node_modules/pkg/modelgate.yaml",
    ]


def test_a_manifest_a_change_hides_beside_a_venv_or_in_node_modules_is_still_gated(repo: Repo) -> None:
    repo.manifest("m", **staging_fields())
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")
    # New manifests may not enter at production; a change tried to keep these from being seen.
    repo.manifest("node_modules/evil", name="evil", **production_fields())
    repo.manifest("venv-like", name="venv-like", **production_fields())
    repo.write("venv-like/pyvenv.cfg", "home = /usr\n")
    repo.commit("production models the gate would not see")
    proc = repo.run("check", "--base", "main", "--json", "../r.json")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    report = json.loads((repo.root.parent / "r.json").read_text())
    assert sorted(
        r["manifest"] for r in report["results"] if r["name"] == "stage-transition" and r["outcome"] == "failed"
    ) == ["node_modules/evil/modelgate.yaml", "venv-like/modelgate.yaml"]


@pytest.mark.parametrize(
    ("globs", "expected"),
    [
        (("examples/**",), ["examples/modelgate.yaml", "examples/x/y/modelgate.yaml"]),
        (("models/*/modelgate.yaml",), ["models/a/modelgate.yaml"]),  # `*` stays within one folder
        (("models/**/modelgate.yaml",), ["models/a/b/modelgate.yaml", "models/a/modelgate.yaml"]),
        (("*.modelgate.yaml",), ["models/x.modelgate.yaml"]),  # no `/`: at any depth, as in .gitignore
        (("models/**", "!models/a/b/**"), ["models/a/modelgate.yaml", "models/x.modelgate.yaml"]),
    ],
)
def test_manifest_globs_are_gitignore_style(repo: Repo, globs: tuple[str, ...], expected: list[str]) -> None:
    for path in (
        "examples/modelgate.yaml",
        "examples/x/y/modelgate.yaml",
        "models/a/modelgate.yaml",
        "models/a/b/modelgate.yaml",
        "models/x.modelgate.yaml",
    ):
        repo.write(path, "x: 1\n")
    found = discover(str(repo.root), [], globs)
    assert [os.path.relpath(p, repo.root) for p in found.manifests] == expected
    # The base side reads a commit's tree with the same rule.
    assert (
        sorted(
            p
            for p in (
                "examples/modelgate.yaml",
                "examples/x/y/modelgate.yaml",
                "models/a/modelgate.yaml",
                "models/a/b/modelgate.yaml",
                "models/x.modelgate.yaml",
            )
            if is_selected_manifest(p, globs)
        )
        == expected
    )


def test_a_star_does_not_cross_folders_end_to_end(repo: Repo) -> None:
    repo.write(".modelgate.yaml", "manifests: ['models/*/modelgate.yaml']\n")
    repo.manifest("models/a")
    repo.write("models/a/drafts/modelgate.yaml", "not: a manifest yet\n")
    proc = repo.run("check")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 manifest" in proc.stdout


def test_a_manifest_path_is_one_with_a_manifests_file_name() -> None:
    from modelgate.pipeline.discovery import is_manifest_path, manifest_selector

    named = ["modelgate.yaml", "a/modelgate.yaml", "a/b/fraud.modelgate.yaml"]
    others = [".modelgate.yaml", "a/.modelgate.yaml", "a/notmodelgate.yaml", "a/modelgate.yaml/x", "a/modelgate.yml"]
    assert [is_manifest_path(p) for p in named] == [True] * 3
    assert [is_manifest_path(p) for p in others] == [False] * 5
    assert [manifest_selector(("models/**",))(p) for p in ("models/a/modelgate.yaml", "a/modelgate.yaml")] == [
        True,
        False,
    ]
