"""``context``: what a check may ask about the run beyond its own manifest."""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from modelgate import discovery, manifest
from modelgate.artifacts import ArtifactPathError, resolve
from modelgate.hashing import Digest, Hasher
from modelgate.manifest import ManifestDoc

if TYPE_CHECKING:
    from modelgate.approvals import Approval, Approvals
    from modelgate.base import Base
    from modelgate.checkapi import Check
    from modelgate.config import Config
    from modelgate.gitrepo import GitRepo
    from modelgate.trees import Tree


class Context:
    def __init__(
        self,
        root: str,
        config: Config,
        checks: Mapping[str, Check],
        git: GitRepo | None = None,
        base: Base | None = None,
        env: Mapping[str, str] | None = None,
        hasher: Hasher | None = None,
    ) -> None:
        self.root = root
        self.config = config
        self.checks = checks
        self.git = git
        self.base = base
        self.env = env or {}
        self.hasher = hasher or Hasher()
        self.deep = False  # --deep: hash LFS content instead of trusting pointers
        self.today = dt.datetime.now(dt.UTC).date()
        self._docs: dict[str, ManifestDoc] = {}
        self._registry: list[ManifestDoc] | None = None
        self._by_name: dict[str, list[ManifestDoc]] | None = None
        self._resolved: dict[tuple[str, str], str | ArtifactPathError] = {}
        self._validators: dict[str, Any] = {}
        self._approvals: Approvals | None = None
        self.approvals_provider: str | None = None
        self.in_ci = False  # inside CI an unverifiable approval fails; on a laptop it is skipped
        self.hook: Any = None  # the plugin manager's hook relay, for provider hooks
        self.tree: Tree | None = None  # the trusted tree (base commit or work tree)

    def load(self, abspath: str) -> ManifestDoc:
        doc = self._docs.get(abspath)
        if doc is None:
            doc = manifest.load(abspath, discovery.relpath(self.root, abspath))
            self._docs[abspath] = doc
        return doc

    def registry(self) -> list[ManifestDoc]:
        """Every manifest in the repository, loaded once on first use.

        Cross-manifest rules (unique versions, exclusive stages, aliases) look at all of
        them, even when only some are checked (pre-commit passes just the changed files).
        """
        if self._registry is None:
            found = discovery.discover(self.root, [], self.config.manifests)
            self._registry = [self.load(path) for path in found.manifests]
        return self._registry

    def versions_of(self, name: str) -> list[ManifestDoc]:
        """Every manifest of model ``name`` in the repository."""
        if self._by_name is None:
            self._by_name = {}
            for doc in self.registry():
                if doc.model is not None:
                    self._by_name.setdefault(doc.model.name, []).append(doc)
        return self._by_name.get(name, [])

    def artifact_path(self, doc: ManifestDoc, path: str) -> str:
        """The artifact's real path; raises ``ArtifactPathError`` when unacceptable."""
        key = (doc.folder, path)
        found = self._resolved.get(key)
        if found is None:
            try:
                found = resolve(self.root, doc.folder, path)
            except ArtifactPathError as exc:
                found = exc
            self._resolved[key] = found
        if isinstance(found, ArtifactPathError):
            raise found
        return found

    def digest(self, abspath: str) -> Digest:
        return self.hasher.digest(abspath)

    def lfs_object(self, oid: str) -> str | None:
        """The local Git LFS content of ``oid``, if this clone has it."""
        if self.git is None:
            return None
        from modelgate.lfs import object_path

        path = object_path(self.git.common_dir(), oid)
        return path if os.path.isfile(path) else None

    def schema_validator(self, schema: dict[str, Any] | None, file: str | None) -> Any:
        """A compiled JSON Schema validator, built once per schema (jsonschema, lazily imported)."""
        key = file or json.dumps(schema, sort_keys=True)
        if key not in self._validators:
            import jsonschema

            from modelgate.errors import ConfigError

            if file is not None:
                if self.tree is None:
                    raise ConfigError(f"schema file {file}: no trusted tree to read it from")
                try:
                    schema = json.loads(self.tree.read(file))
                except FileNotFoundError:
                    raise ConfigError(f"schema file {file} not found") from None
                except ValueError as exc:
                    raise ConfigError(f"schema file {file}: not JSON: {exc}") from None
            assert schema is not None
            cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
            try:
                cls.check_schema(schema)
            except jsonschema.SchemaError as exc:
                raise ConfigError(f"schema {file or '(inline)'} is not a valid JSON Schema: {exc.message}") from None
            self._validators[key] = cls(schema)
        return self._validators[key]

    def approvals(self) -> Approvals | None:
        """The verified approvals of this change (asked of the provider once), or None when
        no provider is configured."""
        if self._approvals is None and self.approvals_provider is not None:
            from modelgate.approvals import ApprovalRequest, Approvals

            assert self.tree is not None  # set by the session before any check runs
            settings = self.config.approvals
            request = ApprovalRequest(
                str(self.approvals_provider), settings, self.git,
                self.base.merge_base if self.base else None, self.git.head() if self.git else None,
                self.tree, self.env,
            )
            answer = self.hook.modelgate_collect_approvals(request=request) if self.hook else None
            self._approvals = answer or Approvals(str(self.approvals_provider),
                                                  error=f"no plugin provides approvals {self.approvals_provider!r}")
        return self._approvals

    def verified_approvals(self) -> tuple[Approval, ...]:
        """The approvals a provider accepted in this run, if any rule asked for them."""
        return self._approvals.accepted if self._approvals is not None else ()

    @functools.cached_property
    def target_branch(self) -> str | None:
        """The branch this change lands on: the pull request's base, else the current branch."""
        if self.env.get("GITHUB_BASE_REF"):
            return self.env["GITHUB_BASE_REF"]
        if self.base is not None:
            ref = self.base.ref
            return ref.split("/", 1)[1] if ref.startswith("origin/") else ref
        return self.git.current_branch() if self.git else None
