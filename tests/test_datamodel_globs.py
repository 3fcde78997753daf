"""Config ``manifests`` globs follow gitignore's rules (``*`` stays in one folder, ``**``
crosses folders), the same way in the work tree, at a base commit and in the registry."""

from __future__ import annotations

import json

import pytest

from modelgate.datamodel import globs
from modelgate.errors import ConfigError
from modelgate.git.repo import GitRepo
from modelgate.pipeline.base import Base
from tests.conftest import Repo


@pytest.mark.parametrize(
    ("pattern", "path", "selected"),
    [
        # The contract's example: `*` does not cross `/`.
        ("models/*/modelgate.yaml", "models/a/modelgate.yaml", True),
        ("models/*/modelgate.yaml", "models/a/1.0/modelgate.yaml", False),
        ("models/*/modelgate.yaml", "x/models/a/modelgate.yaml", False),  # a `/` inside anchors at the root
        ("models/*.modelgate.yaml", "models/fraud.modelgate.yaml", True),
        ("models/*.modelgate.yaml", "models/a/fraud.modelgate.yaml", False),
        ("models/?/modelgate.yaml", "models/a/modelgate.yaml", True),
        ("models/?/modelgate.yaml", "models/ab/modelgate.yaml", False),
        # `**` crosses folders.
        ("examples/**", "examples/modelgate.yaml", True),
        ("examples/**", "examples/a/b/c/modelgate.yaml", True),
        ("examples/**", "examplesx/modelgate.yaml", False),
        ("examples/**", "src/examples/modelgate.yaml", False),
        ("**/x.modelgate.yaml", "x.modelgate.yaml", True),
        ("**/x.modelgate.yaml", "a/b/x.modelgate.yaml", True),
        ("**/x.modelgate.yaml", "a/y.modelgate.yaml", False),
        ("models/**/modelgate.yaml", "models/modelgate.yaml", True),
        ("models/**/modelgate.yaml", "models/a/1.0/modelgate.yaml", True),
        # No `/` (or only a trailing one): any depth; a folder selects everything below it.
        ("*.modelgate.yaml", "deep/down/fraud.modelgate.yaml", True),
        ("models/", "models/a/1.0/modelgate.yaml", True),
        ("models/", "x/models/modelgate.yaml", True),
        ("/models/", "x/models/modelgate.yaml", False),
        ("modelgate.yaml", "a/modelgate.yaml", True),
    ],
)
def test_gitignore_semantics(pattern: str, path: str, selected: bool) -> None:
    assert globs.matches(path, [pattern]) is selected


def test_last_matching_pattern_decides_and_no_patterns_select_all() -> None:
    patterns = ["models/**", "!models/experimental/**", "models/experimental/keep/**"]
    assert globs.matches("models/a/modelgate.yaml", patterns)
    assert not globs.matches("models/experimental/x/modelgate.yaml", patterns)
    assert globs.matches("models/experimental/keep/modelgate.yaml", patterns)
    assert globs.matches("anything/modelgate.yaml", [])


@pytest.mark.parametrize("pattern", ["!", "# models/**", "  "])
def test_a_non_pattern_is_a_config_error(pattern: str) -> None:
    assert globs.problem(pattern)
    with pytest.raises(ConfigError):
        globs.matches("m/modelgate.yaml", [pattern])


def _layout(repo: Repo) -> None:
    repo.write(".modelgate.yaml", 'manifests: ["models/*/modelgate.yaml"]\n')
    repo.manifest("models/a", name="a")
    # Not selected: if it were, its broken content would fail the check.
    repo.write("models/b/1.0/modelgate.yaml", "not: a manifest\n")
    repo.manifest("models/c/1.0", name="c")


def test_check_and_list_select_by_the_same_rules(repo: Repo) -> None:
    _layout(repo)
    report = repo.root.parent / "report.json"
    proc = repo.run("check", "--json", str(report))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert [m["path"] for m in json.loads(report.read_text())["manifests"]] == ["models/a/modelgate.yaml"]
    repo.commit("models")
    for ref in ([], ["--ref", "HEAD"]):  # the work tree, and a commit's tree
        listed = json.loads(repo.run("list", "--json", *ref).stdout)
        assert [m["name"] for m in listed["models"]] == ["a"] and listed["invalid"] == []


def test_base_side_selects_by_the_same_rules(repo: Repo) -> None:
    _layout(repo)
    repo.commit("models")
    git = GitRepo(str(repo.root))
    try:
        base = Base(git, "HEAD", str(repo.root), ("models/*/modelgate.yaml",))
        assert [doc.path for doc in base.manifests()] == ["models/a/modelgate.yaml"]
    finally:
        git.close()  # its cat-file process: another test counts them


def test_a_bad_pattern_in_the_config_names_its_line(repo: Repo) -> None:
    repo.write(".modelgate.yaml", "policies: [builtin:default]\nmanifests: ['!']\n")
    repo.manifest("m")
    proc = repo.run("check")
    assert proc.returncode == 4
    assert ".modelgate.yaml:2:" in proc.stderr and "manifests" in proc.stderr
