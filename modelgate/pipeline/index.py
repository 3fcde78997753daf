"""The work tree's manifests before they are parsed: found once, read once, parsed on demand.

A check of the whole repository parses every manifest. A check of one change (``--changed``)
or of one CI shard must not: it parses the manifests it checks and, for the rules that look
across manifests (unique versions, exclusive stages, aliases), the other versions of their
models. Which manifests those are is asked of the bytes first (:mod:`modelgate.datamodel.textscan`:
a manifest whose bytes cannot hold the name is not one of them), and only the candidates
are parsed; each is parsed once, however it is reached.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from modelgate.datamodel import manifest, textscan
from modelgate.datamodel.manifest import ManifestDoc
from modelgate.git.repo import blob_id
from modelgate.pipeline import discovery

if TYPE_CHECKING:
    from modelgate.datamodel.validation import Verdicts
    from modelgate.git.repo import GitRepo


class WorkIndex:
    """The manifests of the work tree the configuration's globs select.

    ``read`` gives a manifest's bytes as checked (an overlay's, or the file's, read inside
    the repository only), or the invalid document that says why they cannot be read.
    :attr:`parsed` lists the manifests parsed so far, in order.
    """

    def __init__(
        self,
        root: str,
        globs: tuple[str, ...],
        read: Callable[[str], bytes | ManifestDoc],
        verdicts: Verdicts | None = None,
        git: GitRepo | None = None,
    ) -> None:
        self.root = root
        self.git = git
        self.globs = globs
        self.verdicts = verdicts
        self.parsed: list[str] = []
        self._read = read
        self._paths: list[str] | None = None
        self._listed: set[str] | None = None
        self._raw: dict[str, bytes | ManifestDoc] = {}
        self._docs: dict[str, ManifestDoc] = {}
        self._named: dict[str, list[str]] = {}  # name -> paths whose bytes may hold it
        self._by_name: dict[str, list[ManifestDoc]] | None = None
        self._complete = False
        self._ids: dict[tuple[str, int], str | None] = {}

    def paths(self) -> list[str]:
        """Every manifest's absolute path, sorted."""
        if self._paths is None:
            self._paths = list(discovery.discover(self.root, [], self.globs, self.git).manifests)
        return self._paths

    def has(self, abspath: str) -> bool:
        """Whether ``abspath`` is one of :meth:`paths`."""
        if self._listed is None:
            self._listed = set(self.paths())
        return abspath in self._listed

    def raw(self, abspath: str) -> bytes | None:
        """The manifest's bytes; None when they cannot be read (its document says why)."""
        found = self._bytes(abspath)
        return found if isinstance(found, bytes) else None

    def load(self, abspath: str) -> ManifestDoc:
        """The parsed manifest, parsed once."""
        doc = self._docs.get(abspath)
        if doc is None:
            found = self._bytes(abspath)
            if isinstance(found, bytes):
                display = discovery.relpath(self.root, abspath)
                doc = manifest.from_bytes(found, display, abspath, self.verdicts)
                self.parsed.append(display)
            else:
                doc = found
            self._docs[abspath] = doc
        return doc

    def loaded(self, abspath: str) -> ManifestDoc | None:
        """The manifest if it has been parsed already; never parses."""
        return self._docs.get(abspath)

    def all(self) -> list[ManifestDoc]:
        """Every manifest, parsed."""
        docs = [self.load(path) for path in self.paths()]
        self._complete = True
        return docs

    def named(self, name: str) -> list[ManifestDoc]:
        """Every valid manifest of model ``name``, in path order: the candidates whose bytes
        may hold the name, parsed, and kept when the name is theirs."""
        if self._complete:
            if self._by_name is None:
                self._by_name = {}
                for doc in self.all():
                    if doc.model is not None:
                        self._by_name.setdefault(doc.model.name, []).append(doc)
            return self._by_name.get(name, [])
        paths = self._named.get(name)
        if paths is None:
            paths = self._named[name] = [p for p in self.paths() if self._may_name(p, name)]
        return [d for d in map(self.load, paths) if d.model is not None and d.model.name == name]

    def expect(self, names: Iterable[str]) -> None:
        """Model names that are going to be asked about: their candidates are found in one
        pass over the bytes, instead of one pass each."""
        wanted = {n for n in names if n not in self._named}
        if self._complete or len(wanted) < 4:
            return
        for name in wanted:
            self._named[name] = []
        values = textscan.Values(wanted)
        for path in self.paths():
            raw = self.raw(path)
            if raw is not None:
                for name in values.held(raw):
                    self._named[name].append(path)

    def first(self, keep: Callable[[ManifestDoc], bool]) -> ManifestDoc | None:
        """The first manifest, in path order, that ``keep`` keeps (parsing no further)."""
        for path in self.paths():
            doc = self.load(path)
            if keep(doc):
                return doc
        return None

    def blob_id(self, abspath: str, size: int = 40) -> str | None:
        """The git blob id of the manifest's bytes (``size``: 40 hex digits, or 64 in a
        SHA-256 repository); None when they cannot be read."""
        key = (abspath, size)
        if key not in self._ids:
            raw = self.raw(abspath)
            self._ids[key] = None if raw is None else blob_id(raw, size)
        return self._ids[key]

    def guess(self, abspath: str) -> str | None:
        """The model name its ``name:`` line suggests (:func:`textscan.guess_name`)."""
        raw = self.raw(abspath)
        return textscan.guess_name(raw) if raw is not None else None

    def _bytes(self, abspath: str) -> bytes | ManifestDoc:
        found = self._raw.get(abspath)
        if found is None:
            found = self._raw[abspath] = self._read(abspath)
        return found

    def _may_name(self, abspath: str, name: str) -> bool:
        raw = self.raw(abspath)
        return raw is not None and textscan.may_hold(raw, name)
