"""The base side of a comparison: which commit, its manifests, and the history behind it.

A pull request is compared like GitHub's three-dot diff: manifests at the merge-base of the
base and HEAD are what the change started from. Policies and config are read from the base
commit itself (the trusted tip of the target branch). History questions (was this version
ever in production? did this version ever have other bytes?) walk the base's history.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from modelgate import confine
from modelgate.datamodel import manifest, strictyaml
from modelgate.datamodel.manifest import ManifestDoc
from modelgate.datamodel.records import record
from modelgate.datamodel.snapshot import Snapshot
from modelgate.errors import ModelgateError, UsageError
from modelgate.git.catfile import ReadAhead
from modelgate.git.log import FileChange
from modelgate.git.repo import GitRepo
from modelgate.git.trees import CommitTree
from modelgate.pipeline import discovery
from modelgate.pipeline.ci import NONE, named_base
from modelgate.pipeline.history import Event, History, blobs_of, manifest_changes, read_history

if TYPE_CHECKING:
    import threading

    from modelgate.datamodel.validation import Verdicts
    from modelgate.pipeline.index import WorkIndex

__all__ = ["NONE", "Base", "BaseChoice", "Event", "History", "base_ref", "choose_base", "read_history"]


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
            raise UsageError(
                f"the {self.event} event is about commit {self.head} but the checkout is"
                f" {actual or 'no commit'}: check out the event's commit (actions/checkout does by"
                " default)"
            )


def choose_base(flag: str | None, env: Mapping[str, str], configured: str | None, *, ci: bool) -> BaseChoice:
    """The base of a run: ``--base`` > MODELGATE_BASE > (in CI) the event payload,
    (elsewhere) config ``base``; ``none`` names no base.

    In CI the work tree's config never chooses: it belongs to the change under review.
    There an event that checks a change under review must yield a base (exit 4 otherwise,
    and ``--base none`` is refused for it), and without any event information the base
    must be named.
    """
    named = named_base(flag, env)
    if not ci:
        ref = named or configured
        return BaseChoice(None if ref in (None, "", NONE) else ref)
    from modelgate.pipeline import ci as ci_events

    name = ci_events.event_name(env)
    if named is not None:
        if named == NONE and name in ci_events.UNDER_REVIEW:
            raise UsageError(
                f"--base none: the {name} event checks a change under review, which is judged"
                " against its base (by the base's configuration and policy), never as it stands"
            )
        return BaseChoice(None if named == NONE else named)
    event = ci_events.event_base(env)
    if event is None:
        raise UsageError(
            "in CI the base must be named: --base REF (or MODELGATE_BASE) to compare with REF, or"
            " --base none to check the checkout as it stands (no GITHUB_EVENT_NAME or"
            " GITHUB_EVENT_PATH says which; the work tree's config `base` is not used in CI)"
        )
    return BaseChoice(event.base, event.branch, event.head, event.event)


def base_ref(flag: str | None, env: Mapping[str, str], configured: str | None, *, ci: bool) -> str | None:
    """:func:`choose_base`'s commit alone."""
    return choose_base(flag, env, configured, ci=ci).ref


class Base:
    """A verified base: its commit, the merge-base with HEAD, and what was there.

    The merge-base's manifests are read by path from its tree listing. A manifest whose
    bytes the work tree holds unchanged at the same path (same git blob id) is the work
    tree's document, parsed once for both sides and only when asked for; the others (what
    the change edited, moved or deleted) are parsed from their blobs. So the base side
    of a run costs what the change touched, and a question about one model reads that
    model alone.
    """

    def __init__(self, repo: GitRepo, ref: str, root: str, globs: tuple[str, ...] = (), *, early: bool = False) -> None:
        """``early``: begin reading what a check asks of the base (its history, the
        merge-base's tree) in the background as soon as the commits are known."""
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
        if early:  # the longest question of a run: git answers it while Python goes on
            repo.start_changes(self.commit)
        self.head = head
        self.merge_base = repo.merge_base(self.commit, head)
        if early:
            repo.start("ls-tree", "-r", "-z", "--full-tree", self.merge_base)
        self.tree = CommitTree(repo, self.commit)
        self.verdicts: Verdicts | None = None  # manifests validated before (the run's hash cache)
        self.parsed: list[str] = []  # paths of the merge-base's blobs parsed so far, in order
        self._work: WorkIndex | None = None
        self._listing: tuple[dict[str, str], list[str]] | None = None
        self._same: dict[str, str] | None = None  # path -> the work tree's manifest with its bytes
        self._kept: frozenset[str] | None = None  # the absolute paths of _same
        self._own: list[ManifestDoc] | None = None
        self._own_by_name: dict[str, list[ManifestDoc]] | None = None
        self._by_name: dict[str, list[ManifestDoc]] = {}
        self._history: History | None = None
        self._reader: threading.Thread | None = None  # see read_ahead
        self._closing = False
        self._changes: list[FileChange] | None = None
        self._ahead: ReadAhead | None = None
        self._blobs: dict[str, str] | None = None  # blob id -> path, at the merge-base
        self._expected: set[tuple[str, str]] = set()
        self._owned: dict[str, ManifestDoc] = {}

    def attach(self, work: WorkIndex) -> None:
        """The work tree's manifests: one that holds a base manifest's exact bytes at its
        path stands for it, parsed once for both sides."""
        self._work = work

    def manifests(self) -> list[ManifestDoc]:
        """Manifests at the merge-base (what this change started from); every one parsed."""
        same = self._unchanged()
        work = self._work
        docs = list(self.own())
        if work is not None:
            docs += [work.load(abspath) for abspath in same.values()]
        return sorted(docs, key=lambda doc: doc.path)

    def own(self) -> list[ManifestDoc]:
        """The merge-base's manifests that the work tree does not hold byte for byte at the
        same path: what the change edited, moved away or deleted (and symlinks, refused)."""
        if self._own is None:
            files, links = self._listed()
            same = self._unchanged()
            wanted = sorted((path, sha) for path, sha in files.items() if path not in same)
            raws = self.repo.blobs([sha for _, sha in wanted], limit=strictyaml.MAX_BYTES)
            docs = []
            for (path, _), raw in zip(wanted, raws, strict=True):
                docs.append(manifest.from_bytes(raw, path, os.path.join(self.root, path), self.verdicts))
                self.parsed.append(path)
            # A symlink named like a manifest is refused here as in the work tree: its blob
            # is a path, and parsing it could make a manifest of the link's target text.
            docs += [manifest.refused(path, os.path.join(self.root, path), confine.LINK) for path in links]
            self._own = sorted(docs, key=lambda doc: doc.path)
        return self._own

    def untouched(self, abspath: str) -> bool:
        """Whether the merge-base holds the work tree's manifest at ``abspath`` byte for byte
        at the same path: the change neither added nor edited it."""
        if self._kept is None:
            self._kept = frozenset(self._unchanged().values())
        return abspath in self._kept

    def versions_of(self, name: str) -> list[ManifestDoc]:
        """The merge-base's manifests of model ``name``."""
        found = self._by_name.get(name)
        if found is None:
            if self._own_by_name is None:
                self._own_by_name = {}
                for doc in self.own():
                    if doc.model is not None:
                        self._own_by_name.setdefault(doc.model.name, []).append(doc)
            same = self._unchanged()
            kept = [doc for doc in self._work.named(name) if doc.path in same] if self._work is not None else []
            found = self._by_name[name] = sorted([*kept, *self._own_by_name.get(name, [])], key=lambda d: d.path)
        return found

    def match(self, doc: ManifestDoc) -> ManifestDoc | None:
        """The base version of a head manifest: same name@version, else same path and name."""
        if doc.model is None:
            return None
        versions = self.versions_of(doc.model.name)
        for other in versions:
            assert other.model is not None
            if other.model.version == doc.model.version:
                return other
        return next((other for other in versions if other.path == doc.path), None)

    def history(self) -> History:
        """The base branch's manifest history (for version-immutable and rollback): the
        states of its first-parent line. A version "was in production" or "had these bytes"
        when the branch itself held it so; an intermediate commit of a feature branch merged
        later never did (a version promoted and then withdrawn inside a pull request was
        never in production, and bytes corrected before merging were never published)."""
        if self._history is None:
            changes, ahead = self._join_reader()
            self.own()  # the merge-base's own blobs are in the history: parsed once
            self._history = read_history(
                self.repo, self.commit, self.root, self.globs, known=self._state, changes=changes, ahead=ahead
            )
            self._history.expect(self._expected)
        return self._history

    def read_ahead(self) -> None:
        """Begin reading the history in the background, once the base's globs are set: a
        thread reads the ``git log`` begun early and has git rebuild its manifests' blobs into
        a file (:class:`ReadAhead`) while the work tree's manifests are parsed here. Anything
        that fails there is left for :meth:`history` to do again, where it is reported."""
        import threading

        if self._reader is None and self._history is None:
            self._reader = threading.Thread(target=self._read, daemon=True)
            self._reader.start()

    def _read(self) -> None:
        with contextlib.suppress(ModelgateError, OSError):
            self._changes = manifest_changes(self.repo, self.commit, self.globs)
            if not self._closing:
                # Newest first: git's packs keep a file's newest version whole and older ones as
                # deltas of newer ones, so each is rebuilt from what git rebuilt just before
                # (2,099 blobs of benchmarks/monorepo.py's history: 62.5 ms, oldest first 76.3).
                newest_first = blobs_of(self._changes)[::-1]
                self._ahead = self.repo.read_ahead(newest_first, strictyaml.MAX_BYTES)

    def _join_reader(self) -> tuple[list[FileChange] | None, ReadAhead | None]:
        if self._reader is not None:
            self._reader.join()
        return self._changes, self._ahead

    def close(self) -> None:
        """End what :meth:`read_ahead` began: wait for its thread, stop git if it is still
        reading (a run that never asked for the history), and free the file."""
        self._closing = True  # a reader still at the log begins no read-ahead after it
        _, ahead = self._join_reader()
        if ahead is not None:
            ahead.close()

    def history_read(self) -> History | None:
        """The history if a rule has asked for it (None: never read); never reads it."""
        return self._history

    def expect(self, models: Iterable[tuple[str, str]]) -> None:
        """The (name, version) of the manifests the run checks: the history is read for all
        of them in one pass, when a rule first asks."""
        self._expected.update(models)
        if self._history is not None:
            self._history.expect(self._expected)

    def unreadable_history(self) -> list[str]:
        """Notices for the history's states the rules asked about and that could not be
        read (a malformed old blob: trusted, but never a crash and never silent)."""
        if self._history is None:
            return []
        return [
            f"history: {path} as of commit {commit[:12]} on the base branch could not be read"
            f" ({problem.line}:{problem.column}: {problem.message}); the rules that search the history did not"
            " see that state"
            for commit, path, problem in self._history.unreadable()
        ]

    def _listed(self) -> tuple[dict[str, str], list[str]]:
        """(path -> blob id of every manifest file, paths of manifest-named symlinks) at the
        merge-base, selected by the base's globs."""
        if self._listing is None:
            blobs, links = self.repo.listing(self.merge_base)
            wanted = discovery.manifest_selector(self.globs)
            self._listing = ({p: sha for p, sha in blobs.items() if wanted(p)}, sorted(p for p in links if wanted(p)))
        return self._listing

    def _unchanged(self) -> dict[str, str]:
        """path -> absolute path, for each merge-base manifest the work tree holds at the same
        path with the same bytes."""
        if self._same is None:
            self._same = {}
            work = self._work
            if work is not None:
                for path, sha in self._listed()[0].items():
                    abspath = os.path.join(self.root, path)
                    if work.has(abspath) and work.blob_id(abspath, len(sha)) == sha:
                        self._same[path] = abspath
                        raw = work.raw(abspath)
                        if raw is not None:
                            self.repo.remember(sha, raw)
        return self._same

    def _state(self, sha: str) -> Snapshot | None:
        """A history blob's state, when a manifest with those bytes is parsed already (one
        of :meth:`own`, or the work tree's at an unchanged path)."""
        if self._blobs is None:
            files = self._listed()[0]
            self._blobs = {sha: path for path, sha in files.items()}
            self._owned = {files[d.path]: d for d in self._own or () if d.path in files}
        doc = self._owned.get(sha)
        path = self._blobs.get(sha)
        if doc is None and path is not None and self._work is not None and self._same is not None:
            abspath = self._same.get(path)
            doc = self._work.loaded(abspath) if abspath is not None else None
        return Snapshot.of(doc.model) if doc is not None and doc.model is not None else None
