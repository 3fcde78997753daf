"""prepare(): which tree a run trusts, and where its configuration comes from."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from modelgate.errors import GitError, InputError, Problem, UsageError
from modelgate.git.repo import GitRepo
from modelgate.pipeline.workspace import EarlySetup, Options, Setup, config_folder, find_root, prepare
from tests.conftest import MODELGATE, Repo, extending_default, staging_fields


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


def test_the_root_is_git_s_top_folder_even_below_a_subfolder_config(repo: Repo, tmp_path: Path) -> None:
    repo.write("ml/.modelgate.yaml", "policies: [builtin:default]\n")
    (repo.root / "ml" / "models").mkdir()
    assert find_root([str(repo.root / "ml" / "models")]) == str(repo.root)
    outside = tmp_path / "plain" / "deep"
    outside.mkdir(parents=True)
    (tmp_path / "plain" / ".modelgate.yaml").write_text("policies: [builtin:default]\n")
    assert find_root([str(outside)]) == str(tmp_path / "plain")  # no git: the config's folder


def test_a_subfolder_config_governs_the_manifests_below_it(repo: Repo) -> None:
    """A monorepo: `ml/.modelgate.yaml` names its policy and globs relative to ml/; run from
    ml/, with a base, the gate compares against the base (no exit 4) and reports paths
    relative to the repository."""
    repo.write(
        "ml/policy.yaml",
        extending_default("{check: metric-threshold, stages: [staging], with: {metric: auc, min: 0.95}}"),
    )
    repo.write("ml/.modelgate.yaml", "policies: [policy.yaml]\nmanifests: [models/**]\n")
    repo.manifest("ml/models/fraud", **staging_fields())
    repo.manifest("web/models/other", name="other")  # outside ml/: not governed by ml's config
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "change")
    repo.manifest("ml/models/fraud", **staging_fields(description="described"))
    repo.commit("change")
    proc = subprocess.run(
        [MODELGATE, "check", "--base", "main", "--json", "../../r.json"],
        cwd=repo.root / "ml",
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    report = json.loads((repo.root.parent / "r.json").read_text())
    assert [m["path"] for m in report["manifests"]] == ["ml/models/fraud/modelgate.yaml"]
    assert sorted(p["path"] for p in report["policies"]) == ["builtin:default", "ml/policy.yaml"]
    assert report["git"]["base"] == repo.git("rev-parse", "main")
    failed = [r["message"] for r in report["results"] if r["outcome"] == "failed"]
    assert failed == ["auc = 0.93 is below the minimum 0.95"]


def test_which_config_governs_is_decided_by_the_base(repo: Repo) -> None:
    """A change cannot escape the root's policy by adding a config to a subfolder: with a
    base, the base commit says which configuration governs."""
    repo.write(
        "policy.yaml", extending_default("{check: metric-threshold, stages: [staging], with: {metric: auc, min: 0.95}}")
    )
    repo.write(".modelgate.yaml", "policies: [policy.yaml]\n")
    repo.manifest("ml/models/fraud", **staging_fields())
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "change")
    repo.write("ml/.modelgate.yaml", "policies: [builtin:default]\n")
    repo.commit("a permissive config next to the model")
    proc = subprocess.run(
        [MODELGATE, "check", "--base", "main", "."], cwd=repo.root / "ml", capture_output=True, text=True
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "auc = 0.93 is below the minimum 0.95" in proc.stdout
    local = subprocess.run(
        [MODELGATE, "check", "--base", "none", "."], cwd=repo.root / "ml", capture_output=True, text=True
    )
    assert local.returncode == 0, local.stdout  # on a laptop, without a base, the work tree is trusted


def test_a_configuration_error_leaves_no_process_or_file_open(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    """prepare -> session -> close runs its closing on errors too: a broken policy at the
    base leaves no `git cat-file` process, git or hash-cache file open."""
    import os

    from modelgate.cli import main

    repo.write(".modelgate.yaml", "policies: [policy.yaml]\n")
    repo.write("policy.yaml", "apiVersion: modelgate/v1\nkind: Policy\nname: broken\nrules: 5\n")
    repo.manifest("m")
    repo.commit("base")
    if not os.path.isdir("/proc/self/fd"):
        pytest.skip("needs /proc to count open files")
    old = os.getcwd()
    os.chdir(repo.root)
    try:
        before = sorted(os.listdir("/proc/self/fd"))
        assert main(["check", "--base", "main"]) == 4
        after = sorted(os.listdir("/proc/self/fd"))
    finally:
        os.chdir(old)
    assert "policy.yaml" in capsys.readouterr().err
    assert after == before


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


def test_the_root_is_what_git_says_even_beside_a_folder_named_dot_git(repo: Repo) -> None:
    """git's own answer wins over the marker walk: a `.git` folder that is no repository (a
    change may hold one) does not make its folder the root."""
    (repo.root / "sub" / ".git").mkdir(parents=True)
    (repo.root / "sub" / "x").mkdir()
    assert find_root([str(repo.root / "sub" / "x")]) == str(repo.root)


def test_without_git_installed_the_markers_decide(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "project" / "models").mkdir(parents=True)
    (tmp_path / "project" / ".modelgate.yaml").write_text("policies: [builtin:default]\n")
    monkeypatch.setenv("PATH", str(tmp_path / "no-programs-here"))
    assert find_root([str(tmp_path / "project" / "models")]) == str(tmp_path / "project")


def _reader(root: Path, refused: tuple[str, ...] = ()) -> Callable[[str], bytes]:
    def read(path: str) -> bytes:
        if path in refused:
            raise InputError([Problem(path, 1, 1, "leads outside the repository")])
        return (root / path).read_bytes()  # FileNotFoundError when absent, as a tree says

    return read


def test_the_governing_config_is_the_nearest_one_up_to_the_root(tmp_path: Path) -> None:
    (tmp_path / "a" / "b" / "c").mkdir(parents=True)
    (tmp_path / ".modelgate.yaml").write_text("")
    read = _reader(tmp_path)
    assert config_folder(read, str(tmp_path), [str(tmp_path)]) == ""  # the root itself
    assert config_folder(read, str(tmp_path), [str(tmp_path / "a" / "b" / "c")]) == ""
    (tmp_path / "a" / ".modelgate.yaml").write_text("")
    assert config_folder(read, str(tmp_path), [str(tmp_path / "a" / "b" / "c")]) == "a"
    (tmp_path / "a" / "b" / "pyproject.toml").write_text("[tool.modelgate]\n")  # no .modelgate.yaml there
    assert config_folder(read, str(tmp_path), [str(tmp_path / "a" / "b" / "c")]) == "a/b"
    (tmp_path / "a" / "b" / "pyproject.toml").write_text("[tool.black]\n")  # not ours
    assert config_folder(read, str(tmp_path), [str(tmp_path / "a" / "b" / "c")]) == "a"
    # A config the tree refuses (a link out, too large) is still where the config is: loading it says why.
    refusing = _reader(tmp_path, refused=("a/b/.modelgate.yaml",))
    assert config_folder(refusing, str(tmp_path), [str(tmp_path / "a" / "b" / "c")]) == "a/b"


def _based(repo: Repo) -> None:
    repo.write(".modelgate.yaml", "policies: [reviewed.yaml]\n")
    repo.commit("base")
    repo.git("branch", "-M", "main")


def test_a_setup_begun_early_is_the_one_prepare_gives_for_the_same_options(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    _based(repo)
    monkeypatch.chdir(repo.root)
    options = Options(base="main", env={})
    early = EarlySetup(options)
    setup = early.take(Options(base="main", env={}))
    try:
        assert setup is not None and setup.base is not None and setup.root == str(repo.root)
        assert setup.config.policies == ("reviewed.yaml",) and setup.base.commit == repo.git("rev-parse", "main")
    finally:
        setup.close()
    early.close()  # taken: nothing left to close


@pytest.mark.parametrize("ending", ["taken for other options", "never taken"])
def test_a_setup_begun_early_and_not_taken_is_closed(repo: Repo, monkeypatch: pytest.MonkeyPatch, ending: str) -> None:
    _based(repo)
    monkeypatch.chdir(repo.root)
    early = EarlySetup(Options(base="main", env={}))
    early._thread.join()
    begun = early._result
    assert isinstance(begun, Setup) and begun.git is not None and begun.git._started
    if ending == "never taken":
        early.close()  # a plugin failed, or a usage error: the run ends before taking it
    else:
        assert early.take(Options(base="main", env={}, changed=True)) is None
    assert begun.git._catfile is None and begun.git._started == {}  # closed: git's processes ended


def test_what_preparing_early_raised_is_raised_where_it_is_taken(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    _based(repo)
    monkeypatch.chdir(repo.root)
    options = Options(base="no-such-branch", env={})
    early = EarlySetup(options)
    with pytest.raises(GitError, match="no-such-branch"):
        early.take(options)
    # ... and dropped when the run ends before taking it (a plugin failed, a usage error).
    dropped = EarlySetup(options)
    dropped.close()
    assert dropped._result is None


def test_a_history_begun_for_a_base_that_moved_since_is_not_read(repo: Repo) -> None:
    """The log begun early is of the commit the name gave then; the setup reads the history
    of the commit it verifies, and the other log is stopped when the run closes."""
    _based(repo)
    ahead = GitRepo(str(repo.root))
    ahead.begin_history("main")
    [early] = ahead._started.values()
    repo.manifest("models/fraud", **staging_fields())
    moved = repo.commit("the base moves on")
    setup = prepare(Options(base="main", env={}), str(repo.root), ahead)
    try:
        assert setup.base is not None and setup.base.commit == moved
        assert [change.commit for change in setup.base.history().changes] == [moved]
    finally:
        setup.close()
    assert early._proc is not None and early._proc.poll() is not None  # stopped at close
    assert setup.git is not None and setup.git._started == {}


def test_a_history_begun_where_the_setup_finds_no_repository_is_stopped(tmp_path: Path, repo: Repo) -> None:
    _based(repo)
    ahead = GitRepo(str(repo.root))
    ahead.begin_history("main")
    [early] = ahead._started.values()
    setup = prepare(Options(base="none", env={}), str(tmp_path), ahead)  # not a repository
    setup.close()
    assert ahead._started == {} and early._proc is not None and early._proc.poll() is not None
