"""The base side: merge-base manifests (the work tree's document standing for a base file
it holds byte for byte) and the base branch's history."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from modelgate.git.repo import GitRepo
from modelgate.pipeline.base import Base
from modelgate.pipeline.history import blobs_of
from modelgate.pipeline.index import WorkIndex
from tests.conftest import Repo


def _work(repo: Repo) -> WorkIndex:
    return WorkIndex(str(repo.root), (), lambda path: Path(path).read_bytes())


def _attached(git: GitRepo, repo: Repo) -> tuple[Base, WorkIndex]:
    """The base ``main`` with the work tree's manifests attached."""
    base = Base(git, "main", str(repo.root))
    work = _work(repo)
    base.attach(work)
    return base, work


def _path(repo: Repo, folder: str) -> str:
    return os.path.join(str(repo.root), folder, "modelgate.yaml")


def test_an_unchanged_manifest_is_parsed_once_and_a_changed_one_again(repo: Repo) -> None:
    repo.manifest("a")
    repo.manifest("b", name="b")
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "change")
    repo.manifest("b", name="b", version="1.1.0")
    repo.commit("b 1.1.0")
    git = GitRepo(str(repo.root))
    try:
        base, work = _attached(git, repo)
        same, changed = work.load(_path(repo, "a")), work.load(_path(repo, "b"))
        assert base.match(same) is same
        found = base.match(changed)
        assert found is not None and found is not changed
        assert found.model is not None and found.model.version == "1.0.0"
        assert [d.path for d in base.manifests()] == ["a/modelgate.yaml", "b/modelgate.yaml"]
        # Each manifest parsed once: a and b's head on the work tree's side, b's base blob here.
        assert work.parsed == ["a/modelgate.yaml", "b/modelgate.yaml"]
        assert base.parsed == ["b/modelgate.yaml"]
    finally:
        git.close()


def test_untouched_is_what_the_merge_base_holds_byte_for_byte_at_the_same_path(repo: Repo) -> None:
    """What the shard deal weighs: a manifest the change neither added nor edited."""
    repo.manifest("a")
    repo.manifest("b", name="b")
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "change")
    repo.manifest("b", name="b", version="1.1.0")  # edited
    repo.manifest("c", name="c")  # added
    repo.write("d/modelgate.yaml", (repo.root / "a" / "modelgate.yaml").read_bytes())  # a's bytes elsewhere
    repo.commit("change")
    git = GitRepo(str(repo.root))
    try:
        base, _ = _attached(git, repo)
        assert [base.untouched(_path(repo, f)) for f in "abcd"] == [True, False, False, False]
        assert base.untouched(_path(repo, "a"))  # asked again: the same answer
    finally:
        git.close()


def test_a_head_file_with_other_bytes_at_the_same_path_is_not_reused(repo: Repo) -> None:
    repo.manifest("a")
    repo.commit("base")
    repo.manifest("a", description="edited, not committed")
    git = GitRepo(str(repo.root))
    try:
        base, work = _attached(git, repo)
        head = work.load(_path(repo, "a"))
        (at_base,) = base.manifests()
        assert at_base is not head and at_base.model is not None and at_base.model.description is None
    finally:
        git.close()


def test_history_by_name_and_version(repo: Repo) -> None:
    repo.manifest("a")
    repo.manifest("b", name="b")
    repo.commit("1.0.0")
    repo.manifest("a", version="1.1.0")
    repo.commit("1.1.0")
    git = GitRepo(str(repo.root))
    try:
        history = Base(git, "main", str(repo.root)).history()
        assert [e.model.version for e in history.of("fraud-detector") if e.model] == ["1.0.0", "1.1.0"]
        assert [e.path for e in history.versions("fraud-detector", "1.1.0")] == ["a/modelgate.yaml"]
        assert [e.path for e in history.of("b")] == ["b/modelgate.yaml"]
        assert history.of("nobody") == []
    finally:
        git.close()


def test_a_symlink_named_like_a_manifest_is_refused_at_the_base_and_in_history(repo: Repo) -> None:
    # The link's target text is a whole manifest (JSON is YAML): read as content it would be
    # a model version that no file holds, at the merge-base and in the base's history.
    phantom = json.dumps(
        {
            "apiVersion": "modelgate/v1",
            "kind": "Model",
            "name": "phantom",
            "version": "1.0.0",
            "stage": "production",
            "owners": ["@a"],
            "artifacts": [{"path": "model.bin", "size": 1, "sha256": "0" * 64}],
        }
    )
    repo.manifest("a")
    os.symlink(phantom, repo.root / "a" / "other.modelgate.yaml")
    repo.commit("base")
    git = GitRepo(str(repo.root))
    try:
        base = Base(git, "main", str(repo.root))
        assert [(d.path, d.model is not None, [p.message for p in d.problems]) for d in base.manifests()] == [
            ("a/modelgate.yaml", True, []),
            (
                "a/other.modelgate.yaml",
                False,
                ["is a symbolic link, so it was not read; a manifest must be a regular file: commit the file itself"],
            ),
        ]
        assert [(e.path, e.model is not None) for e in base.history().events] == [
            ("a/modelgate.yaml", True),
            ("a/other.modelgate.yaml", False),
        ]
        assert base.history().of("phantom") == []
    finally:
        git.close()


def test_the_checkout_must_be_the_commit_the_event_is_about() -> None:
    from modelgate.errors import UsageError
    from modelgate.pipeline.base import BaseChoice

    choice = BaseChoice("b" * 40, "main", "c" * 40, "merge_group")
    choice.require_head("c" * 40)  # the event's commit: fine
    BaseChoice("b" * 40).require_head(None)  # no event commit to match
    for actual, shown in ((None, "no commit"), ("d" * 40, "d" * 40)):
        with pytest.raises(UsageError) as raised:
            choice.require_head(actual)
        assert str(raised.value) == (
            f"the merge_group event is about commit {'c' * 40} but the checkout is {shown}: check out the"
            " event's commit (actions/checkout does by default)"
        )


def test_an_unreadable_state_in_history_is_named_by_its_commit(repo: Repo) -> None:
    repo.manifest("a")
    repo.commit("1.0.0")
    repo.write("a/modelgate.yaml", "name: fraud-detector\nversion: [\n")
    broken = repo.commit("broken")
    repo.manifest("a", version="1.1.0")
    repo.commit("1.1.0")
    git = GitRepo(str(repo.root))
    try:
        base = Base(git, "main", str(repo.root))
        assert base.unreadable_history() == []  # nothing asked yet: nothing read
        assert [e.model.version for e in base.history().of("fraud-detector") if e.model] == ["1.0.0", "1.1.0"]
        assert base.unreadable_history() == [
            f"history: a/modelgate.yaml as of commit {broken[:12]} on the base branch could not be read (3:1:"
            " invalid YAML: did not find expected node content); the rules that search the history did not"
            " see that state"
        ]
    finally:
        git.close()


def test_history_takes_the_work_trees_document_for_the_bytes_it_holds(repo: Repo) -> None:
    """A history state whose blob the work tree holds unchanged, parsed there already, is
    that document: the history parses only the states nobody has read."""
    repo.manifest("a", version="0.9.0")
    repo.manifest("b", name="b")
    repo.commit("0.9.0")
    repo.manifest("a")
    repo.commit("1.0.0")
    repo.git("checkout", "-q", "-b", "change")
    repo.manifest("b", name="b", version="1.1.0")  # edited: its base blob is parsed on the base side
    git = GitRepo(str(repo.root))
    try:
        base, work = _attached(git, repo)
        head = work.load(_path(repo, "a"))
        assert head.model is not None
        history = base.history()
        events = history.of("fraud-detector")
        assert [e.model.version for e in events if e.model] == ["0.9.0", "1.0.0"]
        assert events[1].model == type(events[1].model).of(head.model)
        assert [e.model.version for e in history.of("b") if e.model] == ["1.0.0"]
        assert base.parsed == ["b/modelgate.yaml"]
        assert [path for path, _ in history.parsed] == ["a/modelgate.yaml"]  # 0.9.0's state alone
        assert work.parsed == ["a/modelgate.yaml"]
    finally:
        git.close()


def test_history_reads_the_bytes_the_work_tree_holds_from_the_work_tree(repo: Repo) -> None:
    """The work tree's bytes stand for the base's identical blob: git is not asked for it.
    (Here git could not answer: the blob is gone from its object store.)"""
    repo.manifest("a")
    repo.commit("1.0.0")
    blob = repo.git("rev-parse", "HEAD:a/modelgate.yaml")
    (repo.root / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    git = GitRepo(str(repo.root))
    try:
        base = Base(git, "main", str(repo.root))
        base.attach(_work(repo))
        history = base.history()
        assert [e.model.version for e in history.of("fraud-detector") if e.model] == ["1.0.0"]
    finally:
        git.close()


def test_history_read_ahead_gives_the_states_read_without_it(repo: Repo) -> None:
    """Blobs git rebuilt into a file in the background are the history's, state for state,
    and only what a rule asks about is parsed, as without."""
    repo.manifest("a")
    repo.manifest("b", name="b")
    repo.commit("1.0.0")
    for version in ("1.1.0", "1.2.0"):
        repo.manifest("a", version=version)
        repo.commit(version)
    found = []
    for ahead in (False, True):
        git = GitRepo(str(repo.root))
        try:
            base = Base(git, "main", str(repo.root), early=True)
            if ahead:
                base.read_ahead()
            history = base.history()
            assert (base._ahead is not None and len(base._ahead.held()) == 4) is ahead
            if ahead:  # asked newest first, as git's packs rebuild them fastest
                assert base._ahead is not None and list(base._ahead._at) == blobs_of(history.changes)[::-1]
            versions = [e.model.version for e in history.versions("fraud-detector", "1.1.0") if e.model]
            found.append((versions, list(history.parsed), [(e.commit, e.path, e.model) for e in history.events]))
        finally:
            base.close()
            git.close()
    assert found[0] == found[1]
    assert found[0][0] == ["1.1.0"]


def test_a_base_closed_before_its_history_is_asked_for_stops_the_read_ahead(repo: Repo) -> None:
    repo.manifest("a")
    repo.commit("1.0.0")
    git = GitRepo(str(repo.root))
    base = Base(git, "main", str(repo.root), early=True)
    base.read_ahead()
    base.close()
    git.close()
    assert base._reader is not None and not base._reader.is_alive()
    assert base._ahead is not None and base._ahead._proc is not None and base._ahead._proc.poll() is not None


def test_the_history_is_read_ahead_once_and_never_after_it_was_read(repo: Repo) -> None:
    repo.manifest("a")
    repo.commit("1.0.0")
    git = GitRepo(str(repo.root))
    base = Base(git, "main", str(repo.root), early=True)
    later = Base(git, "main", str(repo.root))
    try:
        base.read_ahead()
        first = base._reader
        base.read_ahead()
        assert first is not None and base._reader is first
        later.history()
        later.read_ahead()  # the history is read already: nothing to read ahead
        assert later._reader is None
    finally:
        base.close()
        later.close()
        git.close()


def test_a_closed_base_has_its_reader_begin_no_read_ahead(repo: Repo) -> None:
    """close() tells a reader still at the log (it finishes after close) to read nothing ahead."""
    repo.manifest("a")
    repo.commit("1.0.0")
    git = GitRepo(str(repo.root))
    base = Base(git, "main", str(repo.root), early=True)
    try:
        base.close()
        base._read()  # what a reader thread that got past the log only now would do
        assert base._changes is not None and base._ahead is None
    finally:
        base.close()
        git.close()
