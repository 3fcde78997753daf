"""prepare(): which tree a run trusts, and where its configuration comes from."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelgate.errors import UsageError
from modelgate.pipeline.workspace import Options, prepare
from tests.conftest import Repo


def test_without_a_base_the_work_tree_is_trusted(repo: Repo) -> None:
    repo.write(".modelgate.yaml", "policies: [mine.yaml]\n")
    setup = prepare(Options(), str(repo.root))
    try:
        assert setup.base is None and setup.tree.source == "worktree"
        assert setup.config.policies == ("mine.yaml",)
    finally:
        setup.close()


def test_with_a_base_the_configuration_comes_from_the_base_commit(repo: Repo) -> None:
    repo.write(".modelgate.yaml", "policies: [reviewed.yaml]\n")
    repo.commit("base")
    repo.git("branch", "-M", "main")
    repo.git("checkout", "-q", "-b", "change")
    repo.write(".modelgate.yaml", "policies: [edited-in-the-change.yaml]\n")
    repo.commit("change")
    setup = prepare(Options(base="main"), str(repo.root))
    try:
        assert setup.base is not None and setup.tree.source == "base"
        assert setup.config.policies == ("reviewed.yaml",)
    finally:
        setup.close()


def test_a_base_needs_a_repository(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="needs a git repository"):
        prepare(Options(base="main"), str(tmp_path))
