"""prepare(): which tree a run trusts, and where its configuration comes from."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelgate.errors import UsageError
from modelgate.options import Options, prepare
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


def test_closing_a_setup_ends_its_git_process(repo: Repo) -> None:
    repo.write(".modelgate.yaml", "policies: [reviewed.yaml]\n")
    repo.commit("base")
    setup = prepare(Options(base="main"), str(repo.root))
    assert setup.git is not None
    catfile = setup.git._catfile  # started to read the configuration from the base commit
    assert catfile is not None and catfile._proc.poll() is None
    setup.close()
    assert catfile._proc.poll() is not None and setup.git._catfile is None


def test_a_run_asks_for_nothing_it_is_not_told() -> None:
    """The defaults programmatic callers rely on (`pytest --modelgate`, `promote --dry-run`):
    every manifest, no strictness or deep hashing, the cache and CI decided by the environment."""
    options = Options()
    assert (options.paths, options.select, options.ignore, options.policies, options.base) == ((), (), (), None, None)
    assert (options.strict, options.traceback, options.changed, options.deep) == (False, False, False, False)
    assert (options.cache, options.ci, options.shard) == (None, None, None)
