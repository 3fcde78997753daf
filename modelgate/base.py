"""The base side of a comparison: which commit, its manifests, and the history behind it.

A pull request is compared like GitHub's three-dot diff: manifests at the merge-base of the
base and HEAD are what the change started from. Policies and config are read from the base
commit itself (the trusted tip of the target branch). History questions (was this version
ever in production? did this version ever have other bytes?) walk the base's history.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from modelgate import discovery, manifest
from modelgate.gitrepo import ZERO, Change, GitRepo
from modelgate.manifest import Manifest, ManifestDoc
from modelgate.trees import CommitTree

MANIFEST_PATHSPECS = [":(glob)**/modelgate.yaml", ":(glob)**/*.modelgate.yaml"]


def base_ref(flag: str | None, env: Mapping[str, str], configured: str | None) -> str | None:
    """``--base`` > MODELGATE_BASE > the pull request's base (GITHUB_BASE_REF) > config."""
    if flag:
        return flag
    if env.get("MODELGATE_BASE"):
        return env["MODELGATE_BASE"]
    if env.get("GITHUB_BASE_REF"):
        return f"origin/{env['GITHUB_BASE_REF']}"
    return configured


@dataclass(frozen=True)
class Event:
    """A manifest as one commit left it (``model`` None: deleted or unreadable)."""

    commit: str
    timestamp: int
    author: str
    path: str
    model: Manifest | None


@dataclass
class History:
    """Every state of every manifest along a history, oldest first."""

    events: list[Event] = field(default_factory=list)

    def of(self, name: str) -> list[Event]:
        return [e for e in self.events if e.model is not None and e.model.name == name]

    def versions(self, name: str, version: str) -> list[Event]:
        return [e for e in self.of(name) if e.model is not None and e.model.version == version]


def read_history(repo: GitRepo, rev: str, root: str, globs: tuple[str, ...] = ()) -> History:
    """Manifest states in ``rev``'s history, through one ``git log`` and the blob reader."""
    parsed: dict[str, Manifest | None] = {}
    history = History()
    for change in repo.changes(rev, MANIFEST_PATHSPECS):
        if not _wanted(change, globs):
            continue
        model = None
        if change.blob != ZERO:
            if change.blob not in parsed:
                raw = repo.blob(change.blob)
                parsed[change.blob] = manifest.from_bytes(raw, change.path, os.path.join(root, change.path)).model
            model = parsed[change.blob]
        history.events.append(Event(change.commit, change.timestamp, change.author, change.path, model))
    return history


def _wanted(change: Change, globs: tuple[str, ...]) -> bool:
    return discovery.is_manifest_name(os.path.basename(change.path)) and (
        not globs or any(fnmatch.fnmatchcase(change.path, g) for g in globs)
    )


class Base:
    """A verified base: its commit, the merge-base with HEAD, and what was there."""

    def __init__(self, repo: GitRepo, ref: str, root: str, globs: tuple[str, ...] = ()) -> None:
        head = repo.head()
        if head is None:
            from modelgate.errors import GitError

            raise GitError("HEAD has no commit yet; commit the change before comparing with a base")
        self.repo = repo
        self.ref = ref
        self.root = root
        self.globs = globs
        self.commit = repo.verify(ref)
        self.head = head
        self.merge_base = repo.merge_base(self.commit, head)
        self.tree = CommitTree(repo, self.commit)
        self._docs: list[ManifestDoc] | None = None
        self._history: History | None = None

    def manifests(self) -> list[ManifestDoc]:
        """Manifests at the merge-base (what this change started from)."""
        if self._docs is None:
            files = self.repo.tree(self.merge_base)
            docs = []
            for path, sha in sorted(files.items()):
                if discovery.is_manifest_name(os.path.basename(path)) and (
                    not self.globs or any(fnmatch.fnmatchcase(path, g) for g in self.globs)
                ):
                    docs.append(manifest.from_bytes(self.repo.blob(sha), path, os.path.join(self.root, path)))
            self._docs = docs
        return self._docs

    def match(self, doc: ManifestDoc) -> ManifestDoc | None:
        """The base version of a head manifest: same name@version, else same path and name."""
        if doc.model is None:
            return None
        same_path = None
        for base in self.manifests():
            if base.model is None:
                continue
            if (base.model.name, base.model.version) == (doc.model.name, doc.model.version):
                return base
            if base.path == doc.path and base.model.name == doc.model.name:
                same_path = base
        return same_path

    def history(self) -> History:
        """The base branch's manifest history (for version-immutable and rollback)."""
        if self._history is None:
            self._history = read_history(self.repo, self.commit, self.root, self.globs)
        return self._history
