"""Rules about change: what a pull request may do to a manifest, judged against its base.

Each rule needs a base (``--base``, or the pull request's base in CI); without one it is
skipped with "no base". A manifest without a counterpart at the base is new.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from modelgate.checkapi.decorator import Fail, Skip, check
from modelgate.checks import DOCS, require_base

MODELGATE_DOCS = DOCS  # each check's section there is its SARIF helpUri

if TYPE_CHECKING:
    from modelgate.datamodel.manifest import Manifest, ManifestDoc
    from modelgate.datamodel.policy import Policy
    from modelgate.datamodel.snapshot import Snapshot
    from modelgate.pipeline.base import Base
    from modelgate.pipeline.context import Context

MAY_CHANGE_ON_PROMOTION = frozenset({"stage", "aliases", "tags"})


@check(
    "MG404",
    name="stage-transition",
    waivable=False,
    readiness="change",
    hint="move one stage at a time, along the policy's transitions",
)
def stage_transition(
    manifest: Manifest, base_manifest: Manifest | None, policy: Policy, context: Context
) -> Iterator[Fail]:
    """The stage change from base to head is one the policy's ``transitions`` allow.

    A new manifest, or a manifest edited in place to another version, enters at the
    policy's first stage, or at a stage the first stage may move to (``none -> staging``):
    registering a model straight into production skips the stages where it would have been
    validated.
    """
    require_base(context)
    entry = policy.stages[0]
    if base_manifest is None or base_manifest.version != manifest.version:
        # A manifest edited in place to another version holds a new version: it starts at
        # the beginning too, or retraining in place would skip staging.
        allowed = (entry, *policy.transitions.get(entry, ()))
        if manifest.stage not in allowed:
            what = (
                "a new manifest"
                if base_manifest is None
                else f"a new version ({manifest.ref}, edited in place of {base_manifest.ref})"
            )
            yield Fail(
                f"{what} cannot enter at {manifest.stage!r}; it enters at"
                f" {' or '.join(map(repr, allowed))} (policy {policy.name})",
                at="stage",
            )
        return
    source, target = base_manifest.stage, manifest.stage
    if source == target:
        return
    allowed = policy.transitions.get(source, ())
    if target not in allowed:
        options = ", ".join(map(repr, allowed)) or "nothing"
        yield Fail(
            f"stage {source!r} -> {target!r} is not allowed; from {source!r} a model may move to"
            f" {options} (policy {policy.name})",
            at="stage",
        )


@check(
    "MG405",
    name="promotion-immutable",
    waivable=False,
    readiness="change",
    hint="promote the exact bytes that were validated: change the stage in a pull request of its own",
)
def promotion_immutable(manifest: Manifest, base_manifest: Manifest | None, context: Context) -> Iterator[Fail]:
    """A promotion changes the stage, and nothing the stage was granted for.

    When the stage changes, everything else (artifacts, lineage, metrics, signature,
    version...) must be exactly what the base had: the binary promoted is the binary that was
    validated. Only stage, aliases and tags may change alongside. A manifest edited in place
    to another version is no promotion: it holds a new version, whose entry
    ``stage-transition`` judges (and ``manifest-removed`` the version it replaced).
    """
    require_base(context)
    if base_manifest is None or base_manifest.stage == manifest.stage or base_manifest.version != manifest.version:
        return
    before = base_manifest.to_dict()
    for key, value in manifest.to_dict().items():
        if key not in MAY_CHANGE_ON_PROMOTION and value != before[key]:
            yield Fail(
                f"{key} changed in a promotion {base_manifest.stage!r} -> {manifest.stage!r};"
                " only stage, aliases and tags may change",
                at=key,
            )


@check(
    "MG502",
    name="version-bump",
    waivable=False,
    readiness="change",
    hint="new bytes are a new version: raise the version (MAJOR for an incompatible signature)",
)
def version_bump(manifest: Manifest, base_manifest: Manifest | None, context: Context) -> Iterator[Fail]:
    """Versions move forward with the bytes.

    Changed artifact hashes need a higher SemVer than the base; an incompatible signature
    change (an input removed or retyped, an output changed) needs a higher MAJOR version;
    a version never decreases. A new manifest (a folder per version: ``1.2.0/`` beside
    ``1.1.0/``) is compared with its predecessor at the base: the version its
    ``lineage.parent`` names, when that is a version of the same model, else the highest
    lower version of the same name; an incompatible signature change from it needs a
    higher MAJOR version too, and the message names the version compared with.
    """
    base = require_base(context)
    if base_manifest is None:
        yield from _against_predecessor(manifest, base)
        return
    import semver  # here: most runs have no base to compare with

    try:
        head, before = semver.Version.parse(manifest.version), semver.Version.parse(base_manifest.version)
    except ValueError:
        raise Skip("version is not SemVer (see MG501)") from None
    if head < before:
        yield Fail(f"version decreased from {before} to {head}", at="version")
        return
    if _other_bytes(manifest, base_manifest) and head <= before:
        yield Fail(f"artifacts changed but the version stayed {head}; bump it above {before}", at="version")
    breaking = _incompatible(base_manifest, manifest)
    if breaking and head.major <= before.major and before.major > 0:
        yield Fail(
            f"incompatible signature change ({breaking}) needs a major version above {before.major}", at="signature"
        )


def _against_predecessor(manifest: Manifest, base: Base) -> Iterator[Fail]:
    import semver

    try:
        head = semver.Version.parse(manifest.version)
    except ValueError:
        return  # semver (MG501) reports it
    found = predecessor(manifest, base.versions_of(manifest.name))
    if found is None:
        return
    rival, why = found
    before = semver.Version.parse(rival.version)
    breaking = _incompatible(rival, manifest)
    if breaking and head.major <= before.major and before.major > 0:
        yield Fail(
            f"incompatible signature change ({breaking}) since {rival.ref}, {why}, needs a major version"
            f" above {before.major}",
            at="signature",
        )


def predecessor(manifest: Manifest, base: Iterable[ManifestDoc]) -> tuple[Manifest, str] | None:
    """The version a new manifest follows among the ``base`` manifests, and why that one:
    the version ``lineage.parent`` names, when it is a version of the same model there, else
    the highest version of the same name below the new one. None when there is neither."""
    import semver

    versions = [d.model for d in base if d.model is not None and d.model.name == manifest.name]
    parent = manifest.lineage.parent if manifest.lineage else None
    if parent is not None:
        name, _, version = parent.rpartition("@")
        named = next((m for m in versions if name == manifest.name and m.version == version), None)
        if named is not None:
            return named, "its lineage.parent"
    head = semver.Version.parse(manifest.version)
    lower = []
    for model in versions:
        try:
            parsed = semver.Version.parse(model.version)
        except ValueError:
            continue
        if parsed < head:
            lower.append((parsed, model))
    if not lower:
        return None
    return max(lower, key=lambda pair: pair[0])[1], "the highest lower version at the base"


def _other_bytes(model: Manifest, other: Manifest | Snapshot) -> bool:
    """Whether two manifests name other artifact bytes: other sha256s, or, for the same
    sha256, other md5s where both record one. In a clone without `dvc pull` an md5 is what
    DVC-tracked bytes are checked by, so new bytes behind an old sha256 show as a new md5;
    adding an md5 to an entry names no new bytes."""
    if sorted(a.sha256 for a in model.artifacts) != sorted(a.sha256 for a in other.artifacts):
        return True
    md5s: dict[str, set[str]] = {}
    for artifact in model.artifacts:
        if artifact.md5 is not None:
            md5s.setdefault(artifact.sha256, set()).add(artifact.md5)
    return any(a.md5 is not None and a.sha256 in md5s and a.md5 not in md5s[a.sha256] for a in other.artifacts)


def _incompatible(before: Manifest, after: Manifest) -> str | None:
    if before.signature is None or after.signature is None:
        return None if before.signature is None else "signature removed"
    old_in = {f.name: f.type for f in before.signature.inputs}
    new_in = {f.name: f.type for f in after.signature.inputs}
    for name, kind in old_in.items():
        if name not in new_in:
            return f"input {name!r} removed"
        if new_in[name] != kind:
            return f"input {name!r} retyped {kind} -> {new_in[name]}"
    added = [n for n in new_in if n not in old_in]
    if added:
        return f"input {added[0]!r} added"
    old_out = [(f.name, f.type) for f in before.signature.outputs]
    new_out = [(f.name, f.type) for f in after.signature.outputs]
    return "outputs changed" if old_out != new_out else None


@check(
    "MG503",
    name="version-immutable",
    waivable=False,
    readiness="change",
    hint="one version, one artifact: give these bytes a new version",
)
def version_immutable(manifest: Manifest, context: Context) -> Iterator[Fail]:
    """A name@version that ever existed on the base branch never reappears with other bytes.

    The base branch's history is searched for every state of this name@version; if any
    listed other artifact hashes, reusing the version now would make it mean two things.
    """
    base = require_base(context)
    for event in base.history().versions(manifest.name, manifest.version):
        assert event.model is not None
        if _other_bytes(manifest, event.model):
            when = dt.datetime.fromtimestamp(event.timestamp, dt.UTC).date().isoformat()
            yield Fail(
                f"{manifest.ref} had other artifacts in {event.commit[:12]} ({when},"
                f" {event.path}); a version's bytes never change",
                at="version",
            )
            return


@check(
    "MG406",
    name="rollback",
    waivable=False,
    readiness="change",
    hint="roll back only to a version that was in production; anything else is a new promotion",
)
def rollback(manifest: Manifest, base_manifest: Manifest | None, policy: Policy, context: Context) -> Iterator[Fail]:
    """Moving back into an exclusive stage (archived -> production) is only for a version
    that stood there before, as the base branch's history shows."""
    base = require_base(context)
    if base_manifest is None or base_manifest.stage == manifest.stage or base_manifest.version != manifest.version:
        return  # no stage move of this version (a version edited in place is a new one)
    targets = set(policy.exclusive) | {"production"}
    if manifest.stage not in targets or base_manifest.stage not in ("archived",):
        return
    for event in base.history().versions(manifest.name, manifest.version):
        if event.model is not None and event.model.stage == manifest.stage:
            return
    yield Fail(
        f"{manifest.ref} was never in {manifest.stage!r} on the base branch; it cannot be rolled back to", at="stage"
    )


@check(
    "MG407",
    name="branch-stage",
    waivable=False,
    readiness="change",
    hint="on this branch every model must be in the stage the policy maps it to",
)
def branch_stage(manifest: Manifest, policy: Policy, context: Context) -> Iterator[Fail]:
    """With policy ``branches`` (``{release: production}``), every manifest on that branch
    is in the mapped stage: merging into ``release`` is the promotion."""
    branch = context.target_branch
    wanted = policy.branches.get(branch) if branch else None
    if wanted is not None and manifest.stage != wanted:
        yield Fail(f"on branch {branch!r} every manifest must be in {wanted!r}, not {manifest.stage!r}", at="stage")


@check(
    "MG408",
    name="manifest-removed",
    scope="removed",
    waivable=False,
    readiness="change",
    hint="archive a model version (stage: archived) instead of deleting its manifest",
)
def manifest_removed(
    base_manifest: Manifest, base_doc: ManifestDoc, policy: Policy, context: Context
) -> Iterator[Fail]:
    """A manifest whose model stood in an exclusive or production stage is not deleted.

    Deleting the manifest of the production model removes the record of what is serving;
    move it to ``archived`` instead. Manifests in other stages may be deleted. Editing such
    a manifest in place into another version removes it just the same, and is reported as
    what it is: replaced by the version its file now holds.
    """
    if base_manifest.stage not in set(policy.exclusive) | {"production"}:
        return
    successor = next((d.model for d in context.registry() if d.path == base_doc.path and d.model is not None), None)
    if successor is None:
        yield Fail(f"{base_manifest.ref} was in {base_manifest.stage!r} and its manifest was deleted")
        return
    yield Fail(
        f"{base_manifest.ref} was in {base_manifest.stage!r} and its manifest was edited in place: replaced"
        f" by {successor.ref} ({base_doc.path})",
        at="version",
        hint=f"restore {base_manifest.ref}'s manifest (archive it once another version replaces it) and add"
        f" {successor.ref} in a manifest of its own",
    )
