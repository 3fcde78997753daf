"""Which manifests a change can affect: the selection of ``check --changed``.

Two questions, answered apart. :meth:`modelgate.git.repo.GitRepo.changed_paths` says which
paths changed (pre-commit adds the files it hands the hook); :meth:`Selector.affected` says
which manifests those paths can change the verdict of. A manifest's verdict reads:

- its own file;
- its artifacts and its lockfile, by the path written in the manifest and by where a
  symlink leads, and so every folder or symlink on the way to them;
- its local data files: a ``lineage.data`` uri without a scheme, relative to the manifest's
  folder as ``data-hash`` reads it (``..`` climbs), and also read relative to the
  repository root, so that selection only widens; a uri that names a folder covers the
  files below it;
- what DVC recorded of an artifact or data file (``<file>.dvc``, the ``.dvc`` of a folder
  above it, a ``dvc.lock`` in any folder above it) and the git attributes of any file above
  (a ``.gitattributes`` in any folder above it: attributes decide what is an LFS pointer);
- the policy that governs its model: every file the policy is made of (``extends``), and
  every file one of its rules names in ``with:`` (a JSON Schema, say);
- the configuration, local plugin modules and the approvals' files (CODEOWNERS, allowed
  signers), which every verdict reads.

A manifest the change deletes, renames or edits also selects the other versions of the
model it held before (exclusive stages and aliases span versions); the deleted version
itself is judged by ``manifest-removed``, which runs on every removed manifest whenever
there is a base.

When the effect of a change cannot be told (a policy whose ``match`` or ``extends`` moved,
a policy file that is not among the loaded ones, a configuration that does not load, no
commit to compare with), every manifest is selected: selecting too much costs time,
selecting too little lets a change past the gate.
"""

from __future__ import annotations

import functools
import hashlib
import os
import posixpath
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from modelgate.approvals.codeowners import LOCATIONS as CODEOWNERS
from modelgate.datamodel import config, strictyaml, textscan
from modelgate.datamodel.manifest import ManifestDoc
from modelgate.datamodel.policy import Policy
from modelgate.errors import ModelgateError
from modelgate.git.repo import GitRepo
from modelgate.git.trees import CommitTree, Tree, WorkTree
from modelgate.pipeline import discovery
from modelgate.pipeline.paths import ArtifactPathError, is_repository_path

_SIGNERS = ".github/allowed_signers"  # the signed-commits provider's default
_PER_FOLDER = (".gitattributes", "dvc.lock")  # apply to every file below their folder


class Selector:
    """Maps changed paths to the manifests they can affect (see the module's docstring).

    ``resolve`` is :meth:`Context.artifact_path` (a real absolute path, or
    ``ArtifactPathError``); ``since`` are the commits the change started from (empty when
    there is none), ``until`` the commits it ends at besides the work tree.
    """

    def __init__(
        self,
        root: str,
        settings: config.Config,
        policies: Sequence[Policy],
        governing: Callable[[str], Policy | None],
        resolve: Callable[[ManifestDoc, str], str],
        git: GitRepo,
        since: Sequence[str],
        until: Sequence[str],
    ) -> None:
        self.root = root
        self.real_root = os.path.realpath(root)
        self.settings = settings
        self.policies = policies
        self.governing = governing
        self.resolve = resolve
        self.git = git
        self.since = since
        self.until = until

    @functools.cached_property
    def before(self) -> list[CommitTree]:
        """The trees the change started from; listed only when a question needs them."""
        return [CommitTree(self.git, sha) for sha in dict.fromkeys(self.since)]

    @functools.cached_property
    def after(self) -> list[Tree]:
        """The trees the change ends at: the work tree, and commits it is compared up to."""
        return [WorkTree(self.root), *(CommitTree(self.git, sha) for sha in dict.fromkeys(self.until))]

    def affected(self, changed: Iterable[str], docs: Sequence[ManifestDoc]) -> tuple[list[ManifestDoc], set[str]]:
        """The manifests among ``docs`` that the repo-relative ``changed`` paths can affect,
        and the names of the models whose manifests the change deleted, renamed or edited
        (their other versions are affected too)."""
        paths = {_normal(p) for p in changed}
        paths.discard("")
        if not paths:
            return [], set()
        names = self._names_before(paths, docs)
        if self._everything(paths):
            return list(docs), names
        policies = self._policies(paths)
        if policies is None:
            return list(docs), names
        below = {folder for p in paths for folder in _folders(p)}  # a changed path is below each
        per_folder = {posixpath.dirname(p) for p in paths if posixpath.basename(p) in _PER_FOLDER}
        chosen = []
        for doc in docs:
            if doc.path in paths:
                chosen.append(doc)
            elif doc.model is None:
                if policies:  # whose policy governs it cannot be told
                    chosen.append(doc)
            elif self._reads(doc, paths, below, per_folder) or any(
                p is self.governing(doc.model.name) for p in policies
            ):
                chosen.append(doc)
        return chosen, names

    def candidates(
        self, changed: Iterable[str], manifests: Iterable[str], raw: Callable[[str], bytes | None]
    ) -> list[str] | None:
        """The manifests (repo-relative paths; ``raw`` gives their bytes, None when they
        cannot be read) that the changed paths may affect, told from their bytes without
        parsing them (and without reading them when nothing changed): a superset of what
        :meth:`affected` chooses among them. None when it cannot be told that way (the
        configuration, a plugin or a policy changed: which models a policy governs is known
        from their names, parsed). A manifest is a candidate when:

        - a changed path (or a place that leads to one, see :meth:`_reach`) is the manifest,
          a folder above it, or below its folder;
        - its bytes may write the first component of such a path and either its last one
          (an input named by a path through that component) or any of its components as
          the end of a path (a data folder above a changed file): every input
          :meth:`_inputs` lists is written in the manifest, relative to its folder (then
          the path is below it, or climbs) or to the root (then it starts with the same
          first component; see :mod:`modelgate.datamodel.textscan` for why such a name is
          in the bytes);
        - its bytes may climb out of a folder (``..``, a path of dots alone), or use escapes.
        """
        paths = {_normal(p) for p in changed}
        paths.discard("")
        if not paths:
            return []
        if self._everything(paths) or self._policies(paths) != []:
            return None
        reach = self._reach(paths)
        if "" in reach:  # a .gitattributes or dvc.lock at the root: every input is below it
            return None
        splits = [(path, path.split("/")) for path in sorted(reach)]
        return [rel for rel in manifests if _may_read(rel, raw, splits)]

    def _reach(self, paths: set[str]) -> set[str]:
        """The changed paths, and the places through which a manifest may reach one: the
        folder of a changed ``.gitattributes`` or ``dvc.lock`` (they apply to every file
        below), the file a changed ``.dvc`` describes, every symlink that leads to or into
        one of these (its target read from the work tree, links to links followed), and
        every ignored folder git lists without its contents (a link inside it may lead
        anywhere)."""
        reach = set(paths)
        for path in paths:
            if posixpath.basename(path) in _PER_FOLDER:
                reach.add(posixpath.dirname(path))
            if path.endswith(".dvc"):
                reach.add(path[: -len(".dvc")])
        links, unlisted = self.git.links()
        reach.update(unlisted)
        targets = {}
        for link in links:
            real = os.path.realpath(os.path.join(self.root, link))
            if real == self.real_root or real.startswith(self.real_root + os.sep):
                targets[link] = os.path.relpath(real, self.real_root).replace(os.sep, "/")
            # A link out of the repository is refused wherever it is used: it reaches nothing.
        grew = True
        while grew:
            grew = False
            for link, target in targets.items():
                if link not in reach and any(_related(target, path) for path in reach):
                    reach.add(link)
                    grew = True
        return reach

    # -- everything ----------------------------------------------------------------

    def _everything(self, paths: set[str]) -> bool:
        """Whether a changed path is read for every manifest."""
        if config.CONFIG_FILE in paths:
            return True
        if "pyproject.toml" in paths and not self._same_config():
            return True
        plugins = {_normal(p) for p in self.settings.plugins if p.endswith(".py")}
        approvals = {_normal(s) for s in _strings(self.settings.approvals)}
        return bool(paths & (plugins | approvals | {_SIGNERS, *CODEOWNERS}))

    def _same_config(self) -> bool:
        """Whether every version of the configuration is the same (pyproject.toml changes
        for many reasons; only its [tool.modelgate] table governs)."""
        if not self.since:
            return False
        seen = []
        for tree in (*self.before, *self.after):
            try:
                seen.append(config.load(tree.read, {}, {}, self.settings.folder))
            except ModelgateError:
                return False
        return all(s == seen[0] for s in seen)

    # -- policies ------------------------------------------------------------------

    def _policies(self, paths: set[str]) -> list[Policy] | None:
        """The loaded policies a changed path belongs to; None when the change may move
        models from one policy to another, or touches a policy that is not loaded."""
        found: list[Policy] = []
        files: set[str] = set()
        for policy in self.policies:
            own = {_normal(f.path) for f in policy.files if f.source != "builtin"}
            named = {_normal(s) for rule in policy.rules for s in _strings(rule.params)}
            files |= own
            touched = paths & own
            if touched and not all(self._same_scope(p) for p in touched):
                return None
            if touched or paths & named:
                found.append(policy)
        for ref in self.settings.policies:
            if ref.startswith("builtin:"):
                continue
            where = _normal(ref)
            for path in paths - files:
                # A policy added to, or deleted from, the configuration's places.
                if path == where or (posixpath.dirname(path) == where and path.endswith((".yaml", ".yml"))):
                    return None
        return found

    def _same_scope(self, path: str) -> bool:
        """Whether ``match`` and ``extends`` of the policy file at ``path`` are the same in
        every version: then the models it governs are the same before and after."""
        if not self.since:
            return False
        seen = []
        for tree in (*self.before, *self.after):
            try:
                data = strictyaml.parse(tree.read(path), path).data
            except (FileNotFoundError, ModelgateError):
                return False
            if not isinstance(data, dict):
                return False
            seen.append((data.get("match"), data.get("extends")))
        return all(s == seen[0] for s in seen)

    # -- one manifest --------------------------------------------------------------

    def _reads(self, doc: ManifestDoc, paths: set[str], below: set[str], per_folder: set[str]) -> bool:
        """Whether ``doc``'s verdict reads a changed path (its policy and the files every
        verdict reads aside)."""
        files, data = self._inputs(doc)
        for path in files | data:
            if path in paths or any(folder in paths for folder in _folders(path)):
                return True  # the file, or a symlink or folder on the way to it
            if any(folder in per_folder for folder in ("", *_folders(path))):
                return True
        # What DVC recorded of a file, or of a folder `dvc add` tracked that holds it.
        if any(f"{tracked}.dvc" in paths for path in files | data for tracked in (path, *_folders(path))):
            return True
        return any(path in below or path in ("", ".") for path in data)  # a data folder

    def _inputs(self, doc: ManifestDoc) -> tuple[set[str], set[str]]:
        """The repo-relative files ``doc`` lists (itself, artifacts, lockfile) and its local
        data paths."""
        model = doc.model
        assert model is not None
        folder = posixpath.dirname(doc.path)
        listed = [a.path for a in model.artifacts]
        env = model.lineage.environment if model.lineage else None
        if env is not None and env.lockfile is not None:
            listed.append(env.lockfile.path)
        files = {doc.path}
        for path in listed:
            files.add(_normal(posixpath.join(folder, path)))
            try:
                real = os.path.relpath(self.resolve(doc, path), self.real_root)
            except (ArtifactPathError, ValueError):
                continue  # missing or refused: the path as written is what a change touches
            files.add(_normal(real.replace(os.sep, "/")))
        data = set()
        for entry in model.lineage.data if model.lineage else ():
            uri = entry.uri
            if not is_repository_path(uri) or uri.startswith("/"):
                continue
            data |= {_normal(posixpath.join(folder, uri)), _normal(uri)}
        return files, {p for p in data if p != ".." and not p.startswith("../")}

    def _names_before(self, paths: set[str], docs: Sequence[ManifestDoc]) -> set[str]:
        """The model names that changed manifest paths held in the commits the change
        started from, where those bytes differ from the work tree's."""
        wanted = sorted(p for p in paths if discovery.is_manifest_path(p))
        if not wanted:
            return set()
        now = {doc.path: doc.sha256 for doc in docs}
        names = set()
        for tree in self.before:
            found = [(p, tree.blobs[p]) for p in wanted if p in tree.blobs]
            raws = tree.repo.blobs([sha for _, sha in found], limit=strictyaml.MAX_BYTES) if found else []
            for (path, _), raw in zip(found, raws, strict=True):
                if now.get(path) == hashlib.sha256(raw).hexdigest():
                    continue  # unchanged: its model is the work tree's
                try:
                    data = strictyaml.parse(raw, path).data
                except ModelgateError:
                    continue  # was not a valid manifest: it held no model
                if isinstance(data, dict) and isinstance(data.get("name"), str):
                    names.add(data["name"])
        return names


def _normal(path: str) -> str:
    """A repo-relative path as git writes it: '/'-separated, no '.', no trailing '/'."""
    normal = posixpath.normpath(path.replace(os.sep, "/")) if path else ""
    return "" if normal == "." else normal


def _may_read(rel: str, read: Callable[[str], bytes | None], reach: list[tuple[str, list[str]]]) -> bool:
    """Whether the manifest at ``rel`` (bytes: ``read(rel)``) may read one of the paths in
    ``reach`` (each with its components): see :meth:`Selector.candidates`."""
    folder = posixpath.dirname(rel)
    inside = f"{folder}/" if folder else ""
    if any(rel == path or rel.startswith(f"{path}/") or path.startswith(inside) for path, _ in reach):
        return True
    raw = read(rel)
    if raw is None:  # unreadable: no model, no inputs; only its own path selects it
        return False
    if textscan.escaped(raw) or textscan.climbs(raw):
        return True
    # Not through its folder and not climbing, a manifest reaches a path only by a data
    # path written from the root that leads to it, into it or to a folder above it: that
    # path starts with the same first component (every manifest names a "model.bin"; few
    # name "models").
    return any(
        textscan.may_write_component(raw, parts[0], ending=False)
        and (
            textscan.may_write_component(raw, parts[-1], ending=False)
            or any(textscan.may_write_component(raw, part, ending=True) for part in parts[:-1])
        )
        for _, parts in reach
    )


def _related(a: str, b: str) -> bool:
    """Whether one repo-relative path is the other or a folder above it ("." is the root)."""
    if a in (".", "") or b in (".", ""):
        return True
    return a == b or a.startswith(f"{b}/") or b.startswith(f"{a}/")


def _folders(path: str) -> Iterator[str]:
    """The folders above a repo-relative path, nearest last: ``a``, ``a/b`` for ``a/b/c``."""
    parts = path.split("/")
    for end in range(1, len(parts)):
        yield "/".join(parts[:end])


def _strings(value: Any) -> Iterator[str]:
    """Every string in a nest of mappings and lists (a rule's ``with:``)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)
