"""The base side: merge-base manifests (reusing the head's parse of identical files) and
the base branch's history."""

from __future__ import annotations

import os

from modelgate import manifest
from modelgate.base import Base
from modelgate.gitrepo import GitRepo
from tests.conftest import Repo


def _head(repo: Repo, folder: str) -> manifest.ManifestDoc:
    path = os.path.join(str(repo.root), folder, "modelgate.yaml")
    return manifest.load(path, f"{folder}/modelgate.yaml", root=str(repo.root))


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
        same, changed = _head(repo, "a"), _head(repo, "b")
        base.reuse([same, changed])
        assert base.match(same) is same
        found = base.match(changed)
        assert found is not None and found is not changed
        assert found.model is not None and found.model.version == "1.0.0"
        assert [d.path for d in base.manifests()] == ["a/modelgate.yaml", "b/modelgate.yaml"]
    finally:
        git.close()


def test_a_head_file_with_other_bytes_at_the_same_path_is_not_reused(repo: Repo) -> None:
    repo.manifest("a")
    repo.commit("base")
    repo.manifest("a", description="edited, not committed")
    git = GitRepo(str(repo.root))
    try:
        base = Base(git, "main", str(repo.root))
        head = _head(repo, "a")
        base.reuse([head])
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
