"""The repository as a model registry: which versions exist, at which stage, and where.

``resolve`` answers "the production fraud-detector" with its manifest and artifact
paths, at the work tree or at any commit, so serving code asks for a stage instead of
hard-coding a path; ``verify=True`` re-hashes the files before anything loads them. A
question with no single answer is an error, never a guess: two versions in one stage, or
an invalid manifest that may be the one asked for. An error says how the word asked for
was taken (a stage of the governing policy, a version or an alias), with a did-you-mean.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from modelgate import confine
from modelgate.datamodel import config, manifest
from modelgate.datamodel.manifest import Manifest, ManifestDoc
from modelgate.datamodel.records import record
from modelgate.errors import RegistryError, UsageError
from modelgate.pipeline import discovery
from modelgate.registry.suggest import did_you_mean

if TYPE_CHECKING:
    from modelgate.datamodel.policy import Policy

LATEST = "latest"
# Stages a version leaves the running in: `latest` is the newest version still in play.
RETIRED = ("archived", "rejected")


@record
class ResolvedArtifact:
    path: str  # absolute, in the work tree
    relpath: str  # repo-relative
    sha256: str
    size: int


@record
class Resolved:
    """One model version, as the registry knows it."""

    name: str
    version: str
    stage: str
    aliases: tuple[str, ...]
    manifest: str  # absolute path of the manifest in the work tree
    manifest_relpath: str
    artifacts: tuple[ResolvedArtifact, ...]
    commit: str | None  # the commit it was read from; None: the work tree
    model: Manifest
    verified: bool = False

    @property
    def path(self) -> str:
        """The first artifact's absolute path (most models have one)."""
        return self.artifacts[0].path

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "stage": self.stage,
            "aliases": list(self.aliases),
            "manifest": self.manifest_relpath,
            "commit": self.commit,
            "verified": self.verified,
            "artifacts": [{"path": a.relpath, "sha256": a.sha256, "size": a.size} for a in self.artifacts],
        }


def _version_key(version: str) -> tuple[int, Any]:
    import semver

    try:
        return (1, semver.Version.parse(version))
    except ValueError:
        return (0, version)


class Registry:
    """Every manifest of a repository, at the work tree (``ref`` None) or at a commit."""

    def __init__(self, root: str, ref: str | None = None, env: Mapping[str, str] | None = None) -> None:
        self.root = os.path.abspath(root)
        self.commit: str | None = None
        self.settings = config.Config()
        self.docs = self._read(ref, env or {})
        self._policies: list[Policy] | None = None

    def _read(self, ref: str | None, env: Mapping[str, str]) -> list[ManifestDoc]:

        if ref is None:
            from modelgate.pipeline.workspace import local_config

            settings = self.settings = local_config(self.root, env)
            found = discovery.discover(self.root, [], settings.manifests)
            return [manifest.load(p, discovery.relpath(self.root, p), root=self.root) for p in found.manifests]
        from modelgate.git.repo import GitRepo
        from modelgate.git.trees import CommitTree
        from modelgate.pipeline.workspace import config_folder
        from modelgate.registry.suggest import verify_ref

        repo = GitRepo.at(self.root)
        if repo is None:
            raise UsageError(f"--ref {ref}: {self.root} is not a git repository")
        try:
            self.commit = verify_ref(repo, ref)
            tree = CommitTree(repo, self.commit)
            settings = self.settings = config.load(tree.read, env, {}, config_folder(tree.read, self.root))
            docs = []
            for path, sha in sorted(tree.blobs.items()):
                if discovery.is_selected_manifest(path, settings.manifests):
                    docs.append(manifest.from_bytes(repo.blob(sha), path, os.path.join(self.root, path)))
            # A symlink's blob is a path: it is refused, as in the work tree, never parsed.
            docs += [
                manifest.refused(path, os.path.join(self.root, path), confine.LINK)
                for path in sorted(tree.links)
                if discovery.is_selected_manifest(path, settings.manifests)
            ]
            return docs
        finally:
            repo.close()

    def entries(self, name: str | None = None, stage: str | None = None) -> list[Resolved]:
        """Valid manifests, by name then version; ``name``/``stage`` narrow the list."""
        found = []
        for doc in self.docs:
            model = doc.model
            if model is None or (name is not None and model.name != name) or (stage and model.stage != stage):
                continue
            found.append(self._entry(doc, model))
        return sorted(found, key=lambda e: (e.name, _version_key(e.version)))

    def invalid(self) -> list[ManifestDoc]:
        return [d for d in self.docs if d.model is None]

    def _entry(self, doc: ManifestDoc, model: Manifest) -> Resolved:
        folder = posixpath.dirname(doc.path)
        artifacts = []
        for artifact in model.artifacts:
            rel = posixpath.normpath(posixpath.join(folder, artifact.path))
            where = os.path.join(self.root, *rel.split("/"))
            artifacts.append(ResolvedArtifact(where, rel, artifact.sha256, artifact.size))
        return Resolved(
            model.name,
            model.version,
            model.stage,
            tuple(model.aliases),
            doc.abspath,
            doc.path,
            tuple(artifacts),
            self.commit,
            model,
        )

    def resolve(
        self,
        name: str,
        stage: str | None = None,
        version: str | None = None,
        alias: str | None = None,
        latest: bool = False,
    ) -> Resolved:
        """The one version of ``name`` matching the selector (at most one of stage, version,
        alias, latest; none: the model's only version)."""
        if sum(x is not None for x in (stage, version, alias)) + latest > 1:
            raise UsageError("resolve: give one of stage, version, alias or latest")
        versions = self.versions(name)
        if version is not None:
            found = [e for e in versions if e.version == version]
            what = f"version {version}"
        elif stage is not None:
            found = [e for e in versions if e.stage == stage]
            what = f"stage {stage!r}"
        elif alias is not None:
            found = [e for e in versions if alias in e.aliases]
            what = f"alias {alias!r}"
        elif latest:
            found, what = _latest(versions), f"a stage other than {' or '.join(RETIRED)}"
            if len(found) > 1:
                raise RegistryError(
                    f"{len(found)} versions of {name} share the highest SemVer precedence{self._where}"
                    f" (build metadata does not count): {', '.join(e.version for e in found)};"
                    f" ask for one: {name}@VERSION"
                )
        else:
            found, what = versions, "any version"
        if not found:
            raise RegistryError(
                self._not_found(name, versions, stage, version, alias)
                or f"no version of {name} has {what}{self._where}; versions: {_listing(versions)}"
            )
        for artifact in found[0].artifacts if len(found) == 1 else ():
            if artifact.relpath.startswith("../") or artifact.relpath == ".." or posixpath.isabs(artifact.relpath):
                raise RegistryError(f"{found[0].manifest_relpath}: artifact {artifact.relpath} leaves the repository")
        if len(found) > 1:
            raise RegistryError(
                f"{len(found)} versions of {name} match {what}{self._where}: "
                f"{', '.join(e.version for e in found)}; ask for one: {name}@VERSION, @STAGE or @ALIAS"
            )
        return found[0]

    def versions(self, name: str) -> list[Resolved]:
        """Every version of ``name``, lowest first; an error when there is none, or when an
        invalid manifest may be one of them (the list would not be the whole truth)."""
        self._refuse_invalid(name)
        versions = self.entries(name)
        if not versions:
            known = sorted({e.name for e in self.entries()})
            raise RegistryError(
                f"no model named {name!r}{self._where}{did_you_mean(name, known)}; models: {', '.join(known) or 'none'}"
            )
        return versions

    @property
    def _where(self) -> str:
        return f" at {self.commit[:12]}" if self.commit else ""

    def _not_found(
        self, name: str, versions: list[Resolved], stage: str | None, version: str | None, alias: str | None
    ) -> str | None:
        """Why nothing matched, with the closest words of the kind the word was taken as."""
        listing = f"; versions: {_listing(versions)}"
        if stage is not None:
            policy = self.policy_for(name)
            if stage not in policy.stages:
                return (
                    f"{stage!r} is not a stage of policy {policy.name}"
                    f"{did_you_mean(stage, policy.stages)}{self._where}{listing}"
                )
            return None
        if version is not None:
            hint = did_you_mean(version, [e.version for e in versions])
            return f"no version of {name} has version {version}{self._where}{hint}{listing}"
        if alias is not None:
            hint = did_you_mean(alias, [a for e in versions for a in e.aliases])
            return f"no version of {name} has alias {alias!r}{self._where}{hint}{listing}"
        return None

    def _refuse_invalid(self, name: str) -> None:
        """An invalid manifest that may describe ``name`` could be the right answer: refuse."""
        for doc in self.invalid():
            data = doc.doc.data if doc.doc is not None else None
            claimed = data.get("name") if isinstance(data, dict) else None
            if claimed is None or claimed == name:
                problem = doc.problems[0] if doc.problems else None
                raise RegistryError(
                    f"{doc.path} is not a valid manifest{f' ({problem})' if problem else ''};"
                    f" it may describe {name}: fix it first (`modelgate check {doc.path}`)"
                )

    def select(self, selector: str) -> Resolved:
        """``NAME``, ``NAME@VERSION``, ``NAME@STAGE``, ``NAME@ALIAS`` or ``NAME@latest``."""
        name, _, which = selector.partition("@")
        if not which:
            return self.resolve(name)
        versions = self.versions(name)
        as_version = any(e.version == which for e in versions)
        as_alias = any(which in e.aliases for e in versions)
        as_stage = any(e.stage == which for e in versions)
        if which == LATEST:
            if as_version or as_alias or as_stage:
                taken = "a version" if as_version else "an alias" if as_alias else "a stage"
                raise RegistryError(
                    f"{name}@{LATEST} is ambiguous: {LATEST!r} is also {taken} of {name}{self._where};"
                    f" rename it ({LATEST} means the highest version not {' or '.join(RETIRED)})"
                )
            return self.resolve(name, latest=True)
        if as_version:
            return self.resolve(name, version=which)
        if as_alias:
            return self.resolve(name, alias=which)
        if as_stage or which in self.policy_for(name).stages:
            return self.resolve(name, stage=which)
        if _is_semver(which):
            return self.resolve(name, version=which)
        raise RegistryError(self._unknown(name, which, versions))

    def _unknown(self, name: str, word: str, versions: list[Resolved]) -> str:
        """A word that is no stage, version or alias: each kind with its nearest words."""
        policy = self.policy_for(name)
        stages = did_you_mean(word, policy.stages)
        numbers = did_you_mean(word, [e.version for e in versions])
        aliases = did_you_mean(word, [a for e in versions for a in e.aliases])
        return (
            f"{word!r} is not a stage of policy {policy.name}{stages}, a version{numbers} or an alias{aliases}"
            f" of {name}{self._where}; versions: {_listing(versions)}"
        )

    def policy_for(self, name: str) -> Policy:
        """The policy that governs ``name``, as configured where the manifests were read."""
        from modelgate.pipeline.rules import load_policies

        if self._policies is None:
            if self.commit is None:
                from modelgate.git.trees import WorkTree

                self._policies = load_policies(self.settings.policies, WorkTree(self.root))
            else:
                self._policies = self._read_policies(self.commit)
        for policy in self._policies:
            if policy.governs(name):
                return policy
        from modelgate.git.trees import WorkTree

        return load_policies(["builtin:default"], WorkTree(self.root))[0]

    def _read_policies(self, commit: str) -> list[Policy]:
        from modelgate.git.repo import GitRepo
        from modelgate.git.trees import CommitTree
        from modelgate.pipeline.rules import load_policies

        repo = GitRepo.at(self.root)
        assert repo is not None  # the manifests were read from it
        try:
            return load_policies(self.settings.policies, CommitTree(repo, commit))
        finally:
            repo.close()


def _listing(versions: list[Resolved]) -> str:
    return ", ".join(f"{e.version} ({e.stage})" for e in versions)


def _is_semver(text: str) -> bool:
    import semver

    return bool(semver.Version.is_valid(text))


def _latest(versions: list[Resolved]) -> list[Resolved]:
    """The versions of highest SemVer precedence among those not retired: one, or a tie (build
    metadata does not count in precedence) that is no single answer."""
    import semver

    live = [e for e in versions if e.stage not in RETIRED]
    for entry in live:
        if not semver.Version.is_valid(entry.version):
            raise RegistryError(
                f"{entry.manifest_relpath}: version {entry.version!r} is not SemVer 2.0.0, so the"
                f" latest version of {entry.name} cannot be told; fix it (`modelgate check`)"
            )
    if not live:
        return []
    top = max(semver.Version.parse(e.version) for e in live)
    return [e for e in live if semver.Version.parse(e.version) == top]


def verify_artifacts(entry: Resolved, root: str) -> Resolved:
    """``entry`` with every artifact re-hashed on disk; RegistryError on any difference."""
    from dataclasses import replace

    from modelgate.hashing.digest import Hasher, HashError
    from modelgate.pipeline.paths import ArtifactPathError, resolve

    hasher = Hasher(_cache(root))
    try:
        for artifact in entry.artifacts:
            folder = os.path.dirname(entry.manifest)
            try:
                digest = hasher.digest(resolve(root, folder, os.path.relpath(artifact.path, folder)))
            except (ArtifactPathError, HashError) as exc:
                raise RegistryError(f"{artifact.relpath}: not verified: {exc}") from None
            if (digest.sha256, digest.size) != (artifact.sha256, artifact.size):
                hint = " (a Git LFS pointer? run `git lfs pull`)" if digest.size < 1024 else ""
                raise RegistryError(
                    f"{artifact.relpath}: does not match {entry.manifest_relpath}: expected sha256 {artifact.sha256}"
                    f" ({artifact.size} bytes), file has {digest.sha256} ({digest.size} bytes){hint}"
                )
    finally:
        if hasher.cache is not None:
            hasher.cache.close()
    return replace(entry, verified=True)


def _cache(root: str) -> Any:
    """The clone's hash cache, so re-verifying an unchanged 10 GB file costs a stat (never in CI)."""
    from modelgate.hashing.cache import for_clone

    return for_clone(root, os.environ)


def resolve(
    name: str,
    stage: str | None = None,
    version: str | None = None,
    alias: str | None = None,
    *,
    latest: bool = False,
    ref: str | None = None,
    root: str | os.PathLike[str] | None = None,
    verify: bool = False,
) -> Resolved:
    """The model version serving code should load, e.g. ``resolve("fraud-detector", stage="production")``.

    ``latest=True``: the version of highest SemVer precedence that is not archived or rejected.
    ``root``: the repository (default: the one containing the current directory); ``ref``:
    read the manifests at that commit, branch or tag instead of the work tree; ``verify``:
    re-hash the artifacts on disk first. Raises ``modelgate.errors.RegistryError`` when
    there is no single answer or the files do not verify.
    """
    from modelgate.pipeline.workspace import find_root

    where = find_root([os.fspath(root)] if root is not None else [])
    entry = Registry(where, ref, os.environ).resolve(name, stage=stage, version=version, alias=alias, latest=latest)
    return verify_artifacts(entry, where) if verify else entry
