"""``context``: what a check may ask about the run beyond its own manifest."""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from modelgate import confine
from modelgate.confine import real_below
from modelgate.datamodel.manifest import ManifestDoc
from modelgate.errors import InputError
from modelgate.hashing.digest import Digest, Hasher
from modelgate.pipeline import discovery
from modelgate.pipeline.index import WorkIndex
from modelgate.pipeline.paths import ArtifactPathError, is_repository_path, resolve

if TYPE_CHECKING:
    from modelgate.approvals.ahead import Pending
    from modelgate.approvals.evidence import Approval, ApprovalRequest, Approvals, Rejection
    from modelgate.checkapi.decorator import Check
    from modelgate.datamodel.config import Config
    from modelgate.datamodel.results import MetricRow
    from modelgate.errors import ModelgateError
    from modelgate.git.repo import GitRepo
    from modelgate.git.trees import Tree
    from modelgate.interop.dvc import Record
    from modelgate.pipeline.base import Base


@dataclass(frozen=True, kw_only=True, eq=False)
class Context:
    """Everything a check may ask about the run, complete and frozen when the session builds
    it. What checks record for the audit goes to the :class:`AuditLog` they ask for."""

    root: str
    config: Config
    checks: Mapping[str, Check]
    tree: Tree  # the trusted tree: the base commit when there is a base, else the work tree
    git: GitRepo | None = None
    base: Base | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    hasher: Hasher = field(default_factory=Hasher)
    deep: bool = False  # --deep: hash LFS content instead of trusting pointers
    overlay: Mapping[str, bytes] = field(default_factory=dict)  # abspath -> bytes checked instead of the file
    hook: Any = None  # the plugin manager's hook relay, for provider hooks
    approvals_provider: str | None = None
    in_ci: bool = False  # inside CI an unverifiable approval fails; on a laptop it is skipped
    today: dt.date = field(default_factory=lambda: dt.datetime.now(dt.UTC).date())
    # What the run has worked out so far: filled as checks ask, never replaced.
    _memo: _Memo = field(default_factory=lambda: _Memo(), init=False, repr=False)

    @property
    def index(self) -> WorkIndex:
        """The work tree's manifests, read once and parsed when asked (see :mod:`modelgate.pipeline.index`)."""
        if self._memo.index is None:
            self._memo.index = WorkIndex(self.root, self.config.manifests, self._read, self.hasher.cache, self.git)
        return self._memo.index

    def load(self, abspath: str) -> ManifestDoc:
        """The manifest at ``abspath``, parsed once per run."""
        return self.index.load(abspath)

    def registry(self) -> list[ManifestDoc]:
        """Every manifest in the repository, each parsed once.

        Cross-manifest rules ask :meth:`versions_of` instead, which parses only the
        manifests that may be of the model asked about; this is for what needs them all.
        """
        return self.index.all()

    def versions_of(self, name: str) -> list[ManifestDoc]:
        """Every manifest of model ``name`` in the repository (unique versions, exclusive
        stages and aliases span them), without parsing the manifests of other models."""
        return self.index.named(name)

    def first_manifest(self, keep: Callable[[ManifestDoc], bool]) -> ManifestDoc | None:
        """The first manifest of the repository, in path order, that ``keep`` keeps."""
        return self.index.first(keep)

    def _read(self, abspath: str) -> bytes | ManifestDoc:
        """A manifest's bytes as checked: the overlay's, or the file's (a symlink, or a path
        that leads out of the repository or into ``.git``, is refused unread); or the
        invalid document that says why there are none."""
        raw = self.overlay.get(abspath)
        if raw is not None:
            return raw
        display = discovery.relpath(self.root, abspath)
        # The folder's real path is cached: a thousand manifests cost a thousand lstats, not
        # a realpath walk each. (A link as the file is refused anyway.)
        folder, name = os.path.split(abspath)
        try:
            return confine.read(
                self.root,
                abspath,
                display,
                links=False,
                real_root=self._real(self.root),
                real=os.path.join(self._real(folder), name),
            )
        except InputError as exc:
            return ManifestDoc(display, abspath, "", None, tuple(exc.problems), None)

    def artifact_path(self, doc: ManifestDoc, path: str, kind: str = "artifact") -> str:
        """The real path of a file the manifest names (``kind``: ``artifact``, ``data``,
        ``lockfile``, which words the messages); raises ``ArtifactPathError`` when
        unacceptable, ``MissingFile`` (with the path it would have) when only the file is
        missing."""
        key = (doc.folder, path, kind)
        found = self._memo.resolved.get(key)
        if found is None:
            try:
                found = resolve(self.root, doc.folder, path, self._real(self.root), self._real(doc.folder), kind)
            except ArtifactPathError as exc:
                found = exc
            self._memo.resolved[key] = found
        if isinstance(found, ArtifactPathError):
            raise found
        return found

    def files(self, doc: ManifestDoc, kind: str) -> dict[str, bool]:
        """The real paths of the files of ``doc`` that resolve, of one ``kind``: its
        ``artifacts``, its ``data`` files (``lineage.data`` entries whose uri is a path in
        the repository and that record a digest) or its ``lockfile``; each with whether the
        manifest records the file's md5 (then a check of it takes the md5 too)."""
        model = doc.model
        if model is None:
            return {}
        named: list[tuple[str, bool]] = []
        if kind == "artifacts":
            named = [(a.path, a.md5 is not None) for a in model.artifacts]
        elif kind == "data" and model.lineage is not None:
            named = [
                (d.uri, d.md5 is not None)
                for d in model.lineage.data
                if is_repository_path(d.uri) and (d.sha256 is not None or d.md5 is not None)
            ]
        elif kind == "lockfile":
            env = model.lineage.environment if model.lineage else None
            named = [(env.lockfile.path, False)] if env is not None and env.lockfile is not None else []
        found: dict[str, bool] = {}
        noun = {"artifacts": "artifact", "data": "data", "lockfile": "lockfile"}[kind]
        for path, md5 in named:
            try:
                real = self.artifact_path(doc, path, noun)
            except ArtifactPathError:
                continue  # the check that reads it reports it
            found[real] = found.get(real, False) or md5
        return found

    def dvc_records(self, path: str) -> list[Record]:
        """What DVC recorded about the file at real path ``path`` (present or not): the outs
        of ``<path>.dvc`` and of every ``dvc.lock`` from its folder up, exact matches and
        folders that contain it (``Record.within``). Raises ModelgateError for a DVC file
        that cannot be read, or that leads out of the repository or into ``.git``."""
        found = self._memo.dvc.get(path)
        if found is None:
            from modelgate.errors import ModelgateError
            from modelgate.interop import dvc

            try:
                found = dvc.records(self.root, path, within=True)
            except ModelgateError as exc:
                found = exc
            self._memo.dvc[path] = found
        if isinstance(found, Exception):
            raise found
        return found

    def _real(self, folder: str) -> str:
        """``os.path.realpath(folder)``, once per folder and run."""
        found = self._memo.realpaths.get(folder)
        if found is None:
            # From the parent's, so that a thousand manifest folders cost a thousand lstats,
            # not a realpath walk from / each.
            parent, name = os.path.split(folder)
            if parent == folder or name in ("", ".", ".."):
                found = os.path.realpath(folder)
            else:
                found = real_below(self._real(parent), [name])
            self._memo.realpaths[folder] = found
        return found

    def digest(self, abspath: str, md5: bool = False) -> Digest:
        """The file's digest (with ``md5``, its md5 as well, from the same read)."""
        return self.hasher.digest(abspath, md5=md5)

    def lfs_tracked(self, path: str) -> bool:
        """Whether git's attributes give the artifact at real path ``path`` ``filter=lfs``:
        only there is a Git LFS pointer evidence of content; elsewhere pointer-shaped bytes
        are just bytes. One ``git check-attr`` answers for every artifact resolved so far."""
        if self.git is None:
            return False
        if path not in self._memo.lfs:
            real_root = self._real(self.root)
            asked = {p for p in self._memo.resolved.values() if isinstance(p, str) and p not in self._memo.lfs} | {path}
            rels = {p: discovery.relpath(real_root, p) for p in asked}
            tracked = self.git.lfs_paths(sorted(rels.values()))
            self._memo.lfs.update((p, rel in tracked) for p, rel in rels.items())
        return self._memo.lfs[path]

    def lfs_object(self, oid: str) -> str | None:
        """The local Git LFS content of ``oid``, if this clone has it."""
        if self.git is None:
            return None
        from modelgate.git.lfs import object_path

        path = object_path(self.git.common_dir(), oid)
        return path if os.path.isfile(path) else None

    def schema_validator(self, schema: dict[str, Any] | None, file: str | None) -> Any:
        """A compiled JSON Schema validator, built once per schema (jsonschema, lazily imported)."""
        key = file or json.dumps(schema, sort_keys=True)
        if key not in self._memo.validators:
            import jsonschema
            from jsonschema.validators import validator_for

            from modelgate.errors import ConfigError

            if file is not None:
                try:
                    schema = json.loads(self.tree.read(file))
                except FileNotFoundError:
                    raise ConfigError(f"schema file {file} not found") from None
                except ValueError as exc:
                    raise ConfigError(f"schema file {file}: not JSON: {exc}") from None
                except RecursionError:
                    raise ConfigError(f"schema file {file}: nested too deeply") from None
            assert schema is not None
            cls = validator_for(schema, default=jsonschema.Draft202012Validator)
            try:
                cls.check_schema(schema)
            except RecursionError:
                raise ConfigError(f"schema {file or '(inline)'}: nested too deeply") from None
            except jsonschema.SchemaError as exc:
                raise ConfigError(f"schema {file or '(inline)'} is not a valid JSON Schema: {exc.message}") from None
            self._memo.validators[key] = cls(schema)
        return self._memo.validators[key]

    def approvals(self, provider: str | None = None) -> Approvals | None:
        """The verified approvals of this change from ``provider`` (default: the configured
        one), asked of the provider once per run; None when no provider is configured."""
        name = provider or self.approvals_provider
        if name is None:
            return None
        found = self._memo.approvals.get(name)
        if found is None:
            from modelgate.approvals.evidence import Approvals

            pending = self._memo.ahead.pop(name, None)
            if pending is not None:
                answer = pending.result()
            else:
                request = self._approval_request(name, self.git, self.tree)
                answer = self.hook.modelgate_collect_approvals(request=request) if self.hook else None
            found = answer or Approvals(name, error=f"no plugin provides approvals {name!r}")
            self._memo.approvals[name] = found
        return found

    def approvals_ahead(self, provider: str | None = None) -> None:
        """Begin asking ``provider`` (default: the configured one) for the approvals now, on
        a thread with its own git (:mod:`modelgate.approvals.ahead`); :meth:`approvals` takes
        the answer, or raises what asking raised."""
        name = provider or self.approvals_provider
        if name is None or self.hook is None or self.git is None:
            return
        if name in self._memo.approvals or name in self._memo.ahead:
            return
        from modelgate.approvals.ahead import Pending
        from modelgate.git.repo import GitRepo
        from modelgate.git.trees import CommitTree

        git = GitRepo(self.git.root)
        tree = self.tree.through(git) if isinstance(self.tree, CommitTree) else self.tree
        request = self._approval_request(name, git, tree)
        hook = self.hook
        self._memo.ahead[name] = Pending(lambda: hook.modelgate_collect_approvals(request=request), git.close)

    def _approval_request(self, name: str, git: GitRepo | None, tree: Tree) -> ApprovalRequest:
        from modelgate.approvals.evidence import ApprovalRequest

        return ApprovalRequest(
            name,
            self.config.approvals,
            git,
            self.base.merge_base if self.base else None,
            self.git.head() if self.git else None,
            tree,
            self.env,
        )

    def close(self) -> None:
        """Wait for approvals still being asked ahead (their git processes end with them)."""
        for pending in self._memo.ahead.values():
            pending.wait()

    @functools.cached_property
    def target_branch(self) -> str | None:
        """The branch this change lands on: the CI event's, the pull request's base, else the
        current branch."""
        if self.base is not None and self.base.branch:
            return self.base.branch
        if self.env.get("GITHUB_BASE_REF"):
            return self.env["GITHUB_BASE_REF"]
        if self.base is not None:
            ref = self.base.ref
            return ref.split("/", 1)[1] if ref.startswith("origin/") else ref
        return self.git.current_branch() if self.git else None


class _Memo:
    """The context's caches: documents loaded, paths resolved, answers asked once per run."""

    def __init__(self) -> None:
        self.index: WorkIndex | None = None
        self.resolved: dict[tuple[str, str, str], str | ArtifactPathError] = {}
        self.dvc: dict[str, list[Record] | ModelgateError] = {}
        self.realpaths: dict[str, str] = {}
        self.lfs: dict[str, bool] = {}  # artifact real path -> git attributes say filter=lfs
        self.validators: dict[str, Any] = {}
        self.approvals: dict[str, Approvals] = {}
        self.ahead: dict[str, Pending] = {}  # approvals being asked on their own thread


class AuditLog:
    """What checks record for the audit record, passed to a check that asks for ``audit``.

    The ``approvals`` rule records the approvals it counted and refused; the summary lists
    them. Insertion-ordered and without repeats: several rules may count one approval. A
    rule that compares metrics records what it compared, so that the reports' metric
    tables show the numbers, goals and tolerance it judged by.
    """

    def __init__(self) -> None:
        self._counted: dict[Approval, None] = {}
        self._refused: dict[Rejection, None] = {}
        self._compared: dict[str, list[MetricRow]] = {}

    def compared(self, manifest: str, rows: Iterable[MetricRow]) -> None:
        """Keep the metric comparisons a rule made for ``manifest`` (its repo-relative path)."""
        self._compared.setdefault(manifest, []).extend(rows)

    def comparisons(self, manifest: str) -> tuple[MetricRow, ...]:
        """The metric comparisons rules recorded for ``manifest``, in the order they were made."""
        return tuple(self._compared.get(manifest, ()))

    def approvals(self, counted: Iterable[Approval], rejected: Iterable[Rejection]) -> None:
        """Keep what an ``approvals`` rule counted and refused."""
        for approval in counted:
            self._counted.setdefault(approval, None)
        for rejection in rejected:
            self._refused.setdefault(rejection, None)

    @property
    def counted(self) -> tuple[Approval, ...]:
        """The approvals that counted for a rule in this run."""
        return tuple(self._counted)

    @property
    def refused(self) -> tuple[Rejection, ...]:
        """The approvals a provider or a rule refused in this run, with the reason."""
        return tuple(self._refused)
