"""The base side: merge-base manifests (the work tree's document standing for a base file
it holds byte for byte) and the base branch's history."""

from __future__ import annotations

import json
import os
from pathlib import Path

from modelgate.git.repo import GitRepo
from modelgate.pipeline.base import Base
from modelgate.pipeline.index import WorkIndex
from tests.conftest import Repo


def _work(repo: Repo) -> WorkIndex:
    return WorkIndex(str(repo.root), (), lambda path: Path(path).read_bytes())


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
        base = Base(git, "main", str(repo.root))
        work = _work(repo)
        base.attach(work)
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


def test_a_head_file_with_other_bytes_at_the_same_path_is_not_reused(repo: Repo) -> None:
    repo.manifest("a")
    repo.commit("base")
    repo.manifest("a", description="edited, not committed")
    git = GitRepo(str(repo.root))
    try:
        base = Base(git, "main", str(repo.root))
        work = _work(repo)
        base.attach(work)
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
