"""Which manifests a run checks: every one, a shard's part of them (``--shard K/N``), the
ones named, or the ones a change affects (``--changed``); and the base's manifests a change
removed.

What is collected is loaded through the run's :class:`~modelgate.pipeline.context.Context`
(its work-tree index parses each manifest once); a shard and ``--changed`` look at a
manifest's bytes before parsing it, so that they parse only what they keep.
"""

from __future__ import annotations

import hashlib
import os

from modelgate.datamodel import textscan
from modelgate.datamodel.manifest import ManifestDoc
from modelgate.datamodel.policy import Policy
from modelgate.errors import GitError, UsageError
from modelgate.git.repo import GitRepo
from modelgate.pipeline import discovery
from modelgate.pipeline.base import Base
from modelgate.pipeline.context import Context
from modelgate.pipeline.paths import ArtifactPathError
from modelgate.pipeline.rules import RuleSet
from modelgate.pipeline.selection import Selector
from modelgate.pipeline.workspace import Options

# What a manifest the change adds or edits weighs in the shard deal, against 1 for one it
# leaves alone: it is compared with its base version and its history, and it asks the
# approvals provider. In benchmarks/monorepo.py (100 models over 4 shards) the shard that
# held the one promotion took 45 ms longer than the others, the time of 16 manifests there.
# A matrix finishes with its slowest job, so the deal evens out time, not only counts.
EDITED_WEIGHT = 16


class Collection:
    """What one run collects, from its options, under its rules and policies."""

    def __init__(self, options: Options, context: Context, rules: RuleSet, policies: list[Policy]) -> None:
        self._options = options
        self._root = context.root
        self._context = context
        self._rules = rules
        self._policies = policies
        self._keys: dict[str, str] = {}  # work-tree manifest -> its shard key
        self._dealt: dict[str, int] | None = None  # shard key -> the shard it was dealt to (0-based)

    def manifests(self, git: GitRepo | None, base: Base | None) -> list[ManifestDoc]:
        """The manifests this run checks, by path."""
        index = self._context.index
        if self._options.changed:
            docs = self._changed(git, base)
        elif not self._options.paths:  # the whole repository, or this shard's part of it
            docs = {path: index.load(path) for path in index.paths() if self.in_shard(path)}
        else:
            found = discovery.discover(self._root, list(self._options.paths), self._context.config.manifests)
            docs = {path: self._context.load(path) for path in found.manifests}
            if found.others:
                wanted = {os.path.realpath(p) for p in found.others}
                for doc in self._context.registry():
                    if doc.abspath not in docs and wanted.intersection(self._artifact_paths(doc)):
                        docs[doc.abspath] = doc
        return sorted((d for d in docs.values() if self.in_shard(d.abspath)), key=lambda d: d.path)

    def in_shard(self, abspath: str, raw: bytes | None = None) -> bool:
        """Whether the manifest at ``abspath`` (at the base: with these ``raw`` bytes) is in
        this shard. A deterministic partition, so that a CI matrix checks each manifest in
        exactly one shard: by the model name its ``name:`` line gives (so a model's versions
        are checked together, and the rules that look across them parse them once), else by
        path. The name is read from the bytes before they are parsed; a wrong guess only
        moves a manifest to another shard, which checks it against the whole repository.

        The work tree's names are dealt out, each to the shard with the least weight so far:
        a manifest weighs 1, or :data:`EDITED_WEIGHT` when the change adds or edits it (the
        merge-base does not hold its bytes at its path); the heaviest names go first, then
        the others in the order of their hashes. So the shards take about as long as each
        other (a name's hash alone put 14 of 100 models in one shard and 32 in another, and
        the shard that held a promotion was the slowest). A name no work-tree manifest has
        (a manifest the change removed) goes by its hash alone. The deal depends on the
        commit checked out and on the merge-base: every job of a matrix must check out the
        same commit and compare it with the same base commit."""
        if self._options.shard is None:
            return True
        k, n = self._options.shard
        key = self._key(abspath) if raw is None else _key(self._root, abspath, raw)
        place = self._deal().get(key)
        return (place if place is not None else _hash(key) % n) == k - 1

    def _key(self, abspath: str) -> str:
        """The shard key of the work tree's manifest at ``abspath``."""
        key = self._keys.get(abspath)
        if key is None:
            key = self._keys[abspath] = _key(self._root, abspath, self._context.index.raw(abspath))
        return key

    def _deal(self) -> dict[str, int]:
        """Each work-tree manifest's key -> the shard (0-based) it is dealt to."""
        if self._dealt is None:
            assert self._options.shard is not None
            n = self._options.shard[1]
            base = self._context.base
            weights: dict[str, int] = {}
            for path in self._context.index.paths():
                key = self._key(path)
                edited = base is not None and not base.untouched(path)
                weights[key] = weights.get(key, 0) + (EDITED_WEIGHT if edited else 1)
            loads = [0] * n
            self._dealt = {}
            # The heaviest first, then in the order of their hashes: each to the least loaded.
            for key in sorted(weights, key=lambda key: (-weights[key], _hash(key), key)):
                shard = loads.index(min(loads))
                self._dealt[key] = shard
                loads[shard] += weights[key]
        return self._dealt

    def _changed(self, git: GitRepo | None, base: Base | None) -> dict[str, ManifestDoc]:
        """``--changed``: the manifests the change affects, plus the other versions of their
        models (exclusive stages and aliases span versions).

        With no PATH, the change is what git says changed (:meth:`_ranges`). With PATHs,
        it is every file named (pre-commit names the files of the change it gates, even
        when they differ from nothing: ``--all-files``, a range already committed; a named
        file is never dropped), git's changes below a named folder, and git's changes that
        no longer exist: what the change deleted or renamed away, which no one can name.
        Which manifests the changed paths affect is :mod:`modelgate.pipeline.selection`'s answer.
        """
        if git is None:
            raise UsageError("--changed needs a git repository")
        named = [p for p in self._options.paths if not os.path.isdir(p)]
        folders = []
        for path in self._options.paths:
            if os.path.isdir(path):
                full = os.path.abspath(path)
                if os.path.commonpath([self._root, full]) != self._root:
                    raise UsageError(f"{path}: outside the repository {self._root}")
                folders.append(discovery.relpath(self._root, full))
        found = discovery.discover(self._root, named, self._context.config.manifests) if named else None
        ranges = self._ranges(git, base)
        changed = set().union(*(git.changed_paths(since, until) for since, until in ranges))
        if self._options.paths and "" not in folders:
            changed = {
                p
                for p in changed
                if any(p.startswith(f"{f}/") for f in folders) or not os.path.lexists(os.path.join(self._root, p))
            }
        real_root = os.path.realpath(self._root)
        for path in named:
            changed.add(discovery.relpath(self._root, os.path.abspath(path)))
            real = os.path.realpath(path)
            if real.startswith(real_root + os.sep):
                changed.add(os.path.relpath(real, real_root).replace(os.sep, "/"))
        head = git.head()
        since = [start for start in (s or head for s, _ in ranges) if start is not None]
        selector = Selector(
            self._root,
            self._context.config,
            self._policies,
            lambda name: self._rules.governing(name, self._policies),
            self._context.artifact_path,
            git,
            since,
            [end for _, end in ranges if end],
        )
        # Which manifests can the changed paths reach? Asked of the bytes first: only the
        # candidates are parsed and asked properly (every manifest when it cannot be told).
        index = self._context.index
        # Bytes checked in place of a file (promote --dry-run) are a change of that file.
        changed |= {discovery.relpath(self._root, path) for path in self._options.overlay}
        rels = {discovery.relpath(self._root, path): path for path in index.paths()}
        candidates = selector.candidates(changed, rels, lambda rel: index.raw(rels[rel]))
        docs = index.all() if candidates is None else [index.load(rels[rel]) for rel in candidates]
        chosen, names = selector.affected(changed, docs)
        kept = {doc.abspath: doc for doc in chosen}
        for path in found.manifests if found else ():
            kept.setdefault(path, self._context.load(path))
        names |= {d.model.name for d in kept.values() if d.model is not None}
        for name in sorted(names):
            for doc in self._context.versions_of(name):
                kept.setdefault(doc.abspath, doc)
        return kept

    def _ranges(self, git: GitRepo, base: Base | None) -> list[tuple[str | None, str | None]]:
        """The (since, until) commits whose differences are the change (None: HEAD, and the
        work tree): the base's merge-base; pre-commit's range when it gives one
        (``PRE_COMMIT_FROM_REF``/``PRE_COMMIT_TO_REF``, set for ``--from-ref``/``--to-ref``
        and the pre-push stage: it names only the files that still exist, and what the
        range deleted or renamed away must count too); else HEAD."""
        ranges: list[tuple[str | None, str | None]] = []
        if base is not None:
            ranges.append((base.merge_base, None))
        env = self._options.env
        start, end = env.get("PRE_COMMIT_FROM_REF"), env.get("PRE_COMMIT_TO_REF")
        if start and end:
            first = git.verify(start, "PRE_COMMIT_FROM_REF")
            last = git.verify(end, "PRE_COMMIT_TO_REF")
            try:
                since = git.merge_base(first, last)
            except GitError:
                since = first  # unrelated histories: pre-commit then diffs the two commits too
            ranges.append((since, last))
        return ranges or [(None, None)]

    def _artifact_paths(self, doc: ManifestDoc) -> set[str]:
        paths = set()
        for artifact in doc.model.artifacts if doc.model else ():
            try:
                paths.add(self._context.artifact_path(doc, artifact.path))
            except ArtifactPathError:
                continue
        return paths

    def removed(self, base: Base) -> list[ManifestDoc]:
        """Base manifests whose name@version is gone from the work tree. A manifest edited in
        place to another version removes the old one; one that no longer loads is reported
        as invalid, not as removed.

        Only the base's :meth:`~Base.own` manifests can be gone: one whose bytes the work
        tree holds at the same path is there, as the same name@version (or as the same
        invalid document)."""
        index = self._context.index
        gone = []
        for doc in base.own():
            model = doc.model
            if model is None or not self.in_shard(doc.abspath, doc.doc.raw if doc.doc is not None else b""):
                continue
            if any(
                d.model is not None and d.model.version == model.version for d in self._context.versions_of(model.name)
            ):
                continue
            if index.has(doc.abspath) and index.load(doc.abspath).model is None:
                continue
            gone.append(doc)
        return gone


def _key(root: str, abspath: str, raw: bytes | None) -> str:
    """What a manifest is sharded by: its model's name, else its path."""
    name = textscan.guess_name(raw) if raw is not None else None
    return f"name:{name}" if name is not None else f"path:{discovery.relpath(root, abspath)}"


def _hash(key: str) -> int:
    return int(hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest(), 16)
