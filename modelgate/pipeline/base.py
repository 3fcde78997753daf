"""The base side of a comparison: which commit, its manifests, and the history behind it.

A pull request is compared like GitHub's three-dot diff: manifests at the merge-base of the
base and HEAD are what the change started from. Policies and config are read from the base
commit itself (the trusted tip of the target branch). History questions (was this version
ever in production? did this version ever have other bytes?) walk the base's history.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from modelgate import confine
from modelgate.datamodel import manifest, strictyaml
from modelgate.datamodel.manifest import Manifest, ManifestDoc
from modelgate.datamodel.records import record
from modelgate.datamodel.validation import Verdicts
from modelgate.errors import UsageError
from modelgate.git.repo import LINK_MODE, ZERO, GitRepo
from modelgate.git.trees import CommitTree
from modelgate.pipeline import discovery

MANIFEST_PATHSPECS = [":(glob)**/modelgate.yaml", ":(glob)**/*.modelgate.yaml"]


NONE = "none"  # `--base none`: no base, the checkout is checked as it stands


@record
class BaseChoice:
    """Which commit a run compares with (``ref`` None: none), and the branch it stands for
    when the CI event says (the ``branch-stage`` rule's branch); ``head``: the commit the CI
    event is about (a merge queue's ``head_sha``, a push's ``after``), which the checkout must be."""

    ref: str | None
    branch: str | None = None
    head: str | None = None
    event: str | None = None

    def require_head(self, actual: str | None) -> None:
        """Exit 4 unless the checkout (``actual``, HEAD) is the commit the event is about: a
        verdict on another commit would be reported as the verdict on this one."""
        if self.head is not None and actual != self.head:
            raise UsageError(f"the {self.event} event is about commit {self.head} but the checkout is"
                             f" {actual or 'no commit'}: check out the event's commit (actions/checkout does by"
                             " default)")


def choose_base(flag: str | None, env: Mapping[str, str], configured: str | None, *, ci: bool) -> BaseChoice:
    """The base of a run: ``--base`` > MODELGATE_BASE > (in CI) the event payload,
    (elsewhere) config ``base``; ``none`` names no base.

    In CI the work tree's config never chooses: it belongs to the change under review.
    There an event that checks a change under review must yield a base (exit 4 otherwise,
    and ``--base none`` is refused for it), and without any event information the base
    must be named.
    """
    named = flag or env.get("MODELGATE_BASE") or None
    if not ci:
        ref = named or configured
        return BaseChoice(None if ref in (None, "", NONE) else ref)
    from modelgate.pipeline import ci as ci_events

    name = ci_events.event_name(env)
    if named is not None:
        if named == NONE and name in ci_events.UNDER_REVIEW:
            raise UsageError(f"--base none: the {name} event checks a change under review, which is judged"
                             " against its base (by the base's configuration and policy), never as it stands")
        return BaseChoice(None if named == NONE else named)
    event = ci_events.event_base(env)
    if event is None:
        raise UsageError("in CI the base must be named: --base REF (or MODELGATE_BASE) to compare with REF, or"
                         " --base none to check the checkout as it stands (no GITHUB_EVENT_NAME or"
                         " GITHUB_EVENT_PATH says which; the work tree's config `base` is not used in CI)")
    return BaseChoice(event.base, event.branch, event.head, event.event)


def base_ref(flag: str | None, env: Mapping[str, str], configured: str | None, *, ci: bool) -> str | None:
    """:func:`choose_base`'s commit alone."""
    return choose_base(flag, env, configured, ci=ci).ref


@record
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
    # name -> its events: checks ask once per manifest, and a registry has thousands.
    _by_name: dict[str, list[Event]] | None = field(default=None, repr=False, compare=False)

    def of(self, name: str) -> list[Event]:
        if self._by_name is None:
            self._by_name = {}
            for event in self.events:
                if event.model is not None:
                    self._by_name.setdefault(event.model.name, []).append(event)
        return list(self._by_name.get(name, ()))

    def versions(self, name: str, version: str) -> list[Event]:
        return [e for e in self.of(name) if e.model is not None and e.model.version == version]


def read_history(repo: GitRepo, rev: str, root: str, globs: tuple[str, ...] = (),
                 known: Mapping[str, Manifest | None] | None = None, verdicts: Verdicts | None = None) -> History:
    """Manifest states along ``rev``'s first-parent line, through one ``git log`` and one batch of blob
    reads; ``known`` (blob SHA -> model) spares parsing blobs already read. A manifest that
    was a symlink is no manifest in that state: its blob is a path, never parsed."""
    changes = [c for c in repo.changes(rev, MANIFEST_PATHSPECS) if discovery.is_selected_manifest(c.path, globs)]
    parsed: dict[str, Manifest | None] = dict(known or {})
    wanted = {c.blob: c.path for c in changes if c.blob != ZERO and c.mode != LINK_MODE and c.blob not in parsed}
    raws = repo.blobs(list(wanted), limit=strictyaml.MAX_BYTES)
    for (sha, path), raw in zip(wanted.items(), raws, strict=True):
        parsed[sha] = manifest.from_bytes(raw, path, os.path.join(root, path), verdicts).model
    history = History()
    for change in changes:
        model = None if change.mode == LINK_MODE else parsed.get(change.blob)
        history.events.append(Event(change.commit, change.timestamp, change.author, change.path, model))
    return history


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
        self.branch: str | None = None  # the branch the base stands for, when the CI event says
        self.commit = repo.verify(ref)
        self.head = head
        self.merge_base = repo.merge_base(self.commit, head)
        self.tree = CommitTree(repo, self.commit)
        self._docs: list[ManifestDoc] | None = None
        self._history: History | None = None
        # (name, version) and (name, "@" + path) -> base manifest: a SemVer never starts with @.
        self._index: dict[tuple[str, str], ManifestDoc] | None = None
        self._models: dict[str, Manifest | None] = {}  # blob SHA -> model, at the merge-base
        self._known: dict[str, ManifestDoc] = {}  # path -> the head's parsed manifest
        self.verdicts: Verdicts | None = None  # manifests validated before (the run's hash cache)

    def reuse(self, docs: Iterable[ManifestDoc]) -> None:
        """Head manifests already parsed: a base blob with the same path and bytes is the
        same document, so most of a large registry is parsed once, not twice."""
        self._known.update((doc.path, doc) for doc in docs)

    def manifests(self) -> list[ManifestDoc]:
        """Manifests at the merge-base (what this change started from)."""
        if self._docs is None:
            blobs, links = self.repo.listing(self.merge_base)
            files = sorted((p, sha) for p, sha in blobs.items() if discovery.is_selected_manifest(p, self.globs))
            raws = self.repo.blobs([sha for _, sha in files], limit=strictyaml.MAX_BYTES)
            docs = [self._doc(path, raw) for (path, _), raw in zip(files, raws, strict=True)]
            self._models = {sha: doc.model for (_, sha), doc in zip(files, docs, strict=True)}
            # A symlink named like a manifest is refused here as in the work tree: its blob
            # is a path, and parsing it could make a manifest of the link's target text.
            docs += [manifest.refused(path, os.path.join(self.root, path), confine.LINK)
                     for path in links if discovery.is_selected_manifest(path, self.globs)]
            self._docs = sorted(docs, key=lambda doc: doc.path)
        return self._docs

    def _doc(self, path: str, raw: bytes) -> ManifestDoc:
        abspath = os.path.join(self.root, path)
        known = self._known.get(path)
        if known is not None and known.abspath == abspath and known.sha256 == hashlib.sha256(raw).hexdigest():
            return known
        return manifest.from_bytes(raw, path, abspath, self.verdicts)

    def match(self, doc: ManifestDoc) -> ManifestDoc | None:
        """The base version of a head manifest: same name@version, else same path and name."""
        if doc.model is None:
            return None
        if self._index is None:
            self._index = {}
            for base in self.manifests():
                if base.model is not None:
                    self._index.setdefault((base.model.name, base.model.version), base)
                    self._index[(base.model.name, "@" + base.path)] = base
        key = doc.model.name
        return self._index.get((key, doc.model.version)) or self._index.get((key, "@" + doc.path))

    def history(self) -> History:
        """The base branch's manifest history (for version-immutable and rollback): the
        states of its first-parent line. A version "was in production" or "had these bytes"
        when the branch itself held it so; an intermediate commit of a feature branch merged
        later never did (a version promoted and then withdrawn inside a pull request was
        never in production, and bytes corrected before merging were never published)."""
        if self._history is None:
            self.manifests()  # the merge-base's blobs are in the history: parse them once
            self._history = read_history(self.repo, self.commit, self.root, self.globs, self._models,
                                         self.verdicts)
        return self._history
