"""A branch's manifest history: every state of every manifest, read when a rule asks.

One ``git log --raw`` without pathspecs lists every file each commit changed (a pattern
such as ``**/modelgate.yaml`` would make git match it against the whole tree at every
commit); manifests are picked from it by name and by the configuration's globs. Their
blobs are read and parsed only for what the rules ask: "every state of model X" or "every
state of X@1.4.0". A blob is parsed when its bytes may hold what is asked
(:mod:`modelgate.datamodel.textscan`), so a change to one model reads that model's past,
not the registry's. A state is read strictly, but only the fields the rules about change
need (:func:`modelgate.datamodel.snapshot.snapshot`); one that cannot be read is kept as
unreadable, with the reason, for the run to report.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from modelgate.datamodel import strictyaml, textscan
from modelgate.datamodel.records import record
from modelgate.datamodel.snapshot import Snapshot, snapshot
from modelgate.errors import Problem
from modelgate.git.catfile import ReadAhead
from modelgate.git.log import FileChange
from modelgate.git.repo import LINK_MODE, ZERO, GitRepo
from modelgate.pipeline import discovery


@record
class Event:
    """A manifest as one commit left it (``model`` None: deleted, a symlink, unreadable)."""

    commit: str
    timestamp: int
    author: str
    path: str
    model: Snapshot | None


@dataclass
class History:
    """Every state of every manifest along a history, oldest first.

    ``read`` gives blobs' bytes by id, one at a time as they are looked at (a
    :class:`GitRepo`'s ``stream_blobs``, which reads ahead while the caller parses);
    ``known`` the state
    of a blob already parsed as a whole manifest (the work tree's, the merge-base's), or
    None. What has been parsed here is in :attr:`parsed` (path and blob of each state
    read), for tests that prove a run reads only what it needs.
    """

    changes: list[FileChange]
    read: Callable[[list[str]], Iterable[bytes]] | None = None
    known: Callable[[str], Snapshot | None] | None = None
    parsed: list[tuple[str, str]] = field(default_factory=list)
    _states: dict[str, Snapshot | None] = field(default_factory=dict, repr=False)
    _problems: dict[str, Problem] = field(default_factory=dict, repr=False)
    _names: set[str] = field(default_factory=set, repr=False)  # names whose every state is read
    _pairs: set[tuple[str, str]] = field(default_factory=set, repr=False)  # (name, version) read
    _expected: set[tuple[str, str]] = field(default_factory=set, repr=False)
    _complete: bool = False
    _by_name: dict[str, list[Event]] | None = field(default=None, repr=False)  # of the states read

    @property
    def events(self) -> list[Event]:
        """Every state, every blob read; a deletion, a symlink or an unreadable state has
        no model."""
        if not self._complete:
            self._scan(lambda raw: True)
            self._complete = True
        return [
            Event(c.commit, c.timestamp, c.author, c.path, None if c.mode == LINK_MODE else self._states.get(c.blob))
            for c in self.changes
        ]

    def of(self, name: str) -> list[Event]:
        """The states of model ``name``."""
        if not self._complete and name not in self._names:
            self._scan(lambda raw: textscan.may_hold(raw, name))
            self._names.add(name)
        return list(self._events(name))

    def versions(self, name: str, version: str) -> list[Event]:
        """The states of ``name@version``."""
        if not self._complete and name not in self._names and (name, version) not in self._pairs:
            wanted = {(name, version)} | {pair for pair in self._expected if pair not in self._pairs}
            self._scan(_holding(wanted))
            self._pairs |= wanted
        return [e for e in self._events(name) if e.model is not None and e.model.version == version]

    def expect(self, pairs: Iterable[tuple[str, str]]) -> None:
        """The (name, version) pairs rules are going to ask about: the first question reads
        the blobs for all of them in one pass."""
        self._expected.update(pairs)

    def unreadable(self) -> list[tuple[str, str, Problem]]:
        """(commit, path, why) of the states read that could not be."""
        found = []
        for change in self.changes:
            problem = self._problems.get(change.blob)
            if problem is not None:
                found.append((change.commit, change.path, problem))
        return found

    def _events(self, name: str) -> list[Event]:
        """The events of model ``name`` among the states read so far."""
        if self._by_name is None:
            self._by_name = {}
            for change in self.changes:
                state = None if change.mode == LINK_MODE else self._states.get(change.blob)
                if state is not None:
                    self._by_name.setdefault(state.name, []).append(
                        Event(change.commit, change.timestamp, change.author, change.path, state)
                    )
        return self._by_name.get(name, [])

    def _scan(self, may_hold: Callable[[bytes], bool]) -> None:
        """Parse every blob not parsed yet whose bytes ``may_hold`` what is asked."""
        pending: dict[str, str] = {}
        states = self._states
        for change in self.changes:
            # A symlink's blob holds a path, never a manifest: it is never parsed.
            if change.blob != ZERO and change.mode != LINK_MODE and change.blob not in states:
                state = self.known(change.blob) if self.known is not None else None
                if state is not None:
                    states[change.blob] = state
                else:
                    pending.setdefault(change.blob, change.path)
        self._by_name = None  # states may be added: index them again when asked
        if not pending or self.read is None:
            return
        ids = list(pending)
        for sha, raw in zip(ids, self.read(ids), strict=True):
            if not may_hold(raw):
                continue
            path = pending[sha]
            found = snapshot(raw, path)
            self.parsed.append((path, sha))
            if isinstance(found, Problem):
                self._states[sha] = None
                self._problems[sha] = found
            else:
                self._states[sha] = found


def _holding(pairs: set[tuple[str, str]]) -> Callable[[bytes], bool]:
    """Whether bytes may hold one of the (name, version) pairs."""
    versions: dict[str, set[str]] = {}  # name -> its versions asked about
    by_version: dict[str, set[str]] = {}  # version -> the names asked about with it
    for name, version in pairs:
        versions.setdefault(name, set()).add(version)
        by_version.setdefault(version, set()).add(name)
    names = textscan.Values(versions)
    if len(by_version) <= _FEW:
        # Few versions (a registry's models mostly at 1.x): a search for each version
        # passes over most bytes in C, and the names are looked for only where one is.
        needles = [(v.encode("ascii") if textscan.is_safe(v) else None, v, n) for v, n in by_version.items()]

        def holds_version(raw: bytes) -> bool:
            if textscan.escaped(raw):
                return True  # then any value may be held
            found: set[str] | None = None
            for needle, version, named in needles:
                if needle is not None and needle not in raw:
                    continue  # the common case, in C: this version is nowhere in the bytes
                if textscan.may_hold(raw, version):
                    found = names.held(raw) if found is None else found
                    if not found.isdisjoint(named):
                        return True
            return False

        return holds_version

    def holds(raw: bytes) -> bool:
        found = names.held(raw) if len(versions) > 8 else {n for n in versions if textscan.may_hold(raw, n)}
        return any(textscan.may_hold(raw, v) for n in found for v in versions[n])

    return holds


# Up to this many distinct versions asked about, :func:`_holding` looks for the versions
# first: each is one search through the bytes, against splitting them into words (on a
# 2.9 KB manifest a search for a version it lacks costs about a tenth of the split).
_FEW = 8


def manifest_changes(repo: GitRepo, rev: str, globs: tuple[str, ...] = ()) -> list[FileChange]:
    """The changes to manifests (by file name and ``globs``) along ``rev``'s first-parent
    line, through one ``git log`` (started early by :meth:`GitRepo.start_changes`, when the
    caller knew)."""
    return list(repo.changes(rev, [], keep=discovery.manifest_selector(globs)))


def blobs_of(changes: Iterable[FileChange]) -> list[str]:
    """The blobs a history may parse, each once: not a deletion's, never a symlink's."""
    return list(dict.fromkeys(c.blob for c in changes if c.blob != ZERO and c.mode != LINK_MODE))


def read_history(
    repo: GitRepo,
    rev: str,
    root: str = "",
    globs: tuple[str, ...] = (),
    *,
    known: Callable[[str], Snapshot | None] | None = None,
    changes: list[FileChange] | None = None,
    ahead: ReadAhead | None = None,
) -> History:
    """Manifest states in ``rev``'s history (``changes``, when the caller has them already:
    :func:`manifest_changes`); blobs are read when a rule asks, those ``ahead`` holds from
    there (``known``: see :class:`History`). A manifest that was a symlink is no manifest in
    that state: its blob is a path, never parsed. (``root``: kept for callers that pass it;
    blobs are read through ``repo``.)"""
    if changes is None:
        changes = manifest_changes(repo, rev, globs)
    return History(changes, lambda shas: repo.stream_blobs(shas, limit=strictyaml.MAX_BYTES, ahead=ahead), known)
