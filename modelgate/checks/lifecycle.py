"""MG4xx: stages and who may stand in them."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING

from modelgate.checkapi.decorator import Fail, Skip, check
from modelgate.checks import DOCS

MODELGATE_DOCS = DOCS  # each check's section there is its SARIF helpUri

if TYPE_CHECKING:
    from modelgate.datamodel.manifest import Manifest, ManifestDoc
    from modelgate.datamodel.policy import Policy
    from modelgate.pipeline.context import AuditLog, Context


@check(
    "MG401",
    name="stage-valid",
    waivable=False,
    readiness="change",
    hint="use one of the policy's stages, spelled exactly",
)
def stage_valid(manifest: Manifest, policy: Policy) -> Iterator[Fail]:
    """The manifest's stage is one of the governing policy's stages, spelled exactly.

    ``Production``, ``production `` or a Cyrillic ``рroduction`` are not ``production``:
    a near miss is reported with the stage it resembles.
    """
    if manifest.stage in policy.stages:
        return
    import difflib  # here: only a stage that is not in the policy needs them
    import unicodedata

    folded = unicodedata.normalize("NFKC", manifest.stage).strip().lower()
    close = [s for s in policy.stages if s == folded] or difflib.get_close_matches(
        folded, policy.stages, n=1, cutoff=0.6
    )
    suggestion = f"; did you mean {close[0]!r}?" if close else ""
    shown = manifest.stage.encode("ascii", "backslashreplace").decode()
    yield Fail(
        f"stage '{shown}' is not one of {list(policy.stages)} (policy {policy.name}){suggestion}",
        at="stage",
    )


@check(
    "MG402",
    name="exclusive-stage",
    waivable=False,
    readiness="change",
    hint="move the other version out of this stage (e.g. to archived) in the same change",
)
def exclusive_stage(manifest: Manifest, doc: ManifestDoc, policy: Policy, context: Context) -> Iterator[Fail]:
    """At most one version of a model stands in each ``exclusive`` stage.

    ``builtin:default`` makes ``production`` exclusive: promoting 1.4.0 to production
    means archiving 1.3.0 in the same change, so "the production model" is one thing.
    """
    if manifest.stage not in policy.exclusive:
        return
    for other in context.versions_of(manifest.name):
        if other.path != doc.path and other.model is not None and other.model.stage == manifest.stage:
            yield Fail(
                f"{other.model.ref} ({other.path}) is also in exclusive stage {manifest.stage!r}",
                at="stage",
            )


@check("MG403", name="alias-unique", hint="an alias names one version; remove it from the other")
def alias_unique(manifest: Manifest, doc: ManifestDoc, context: Context) -> Iterator[Fail]:
    """Each alias (``champion``, ``challenger``...) names at most one version of a model."""
    for index, alias in enumerate(manifest.aliases):
        if manifest.aliases.index(alias) != index:
            yield Fail(f"alias {alias!r} is listed twice", at=f"aliases[{index}]")
            continue
        for other in context.versions_of(manifest.name):
            if other.path != doc.path and other.model is not None and alias in other.model.aliases:
                yield Fail(f"alias {alias!r} is also on {other.model.ref} ({other.path})", at=f"aliases[{index}]")


@check(
    "MG409",
    name="alias-protected",
    waivable=False,
    readiness="change",
    hint="a protected alias names only a version in the stage the policy requires, and moving it is approved"
    " like a promotion to that stage",
)
def alias_protected(
    manifest: Manifest,
    doc: ManifestDoc,
    base_manifest: Manifest | None,
    policy: Policy,
    context: Context,
    audit: AuditLog,
) -> Generator[Fail, None, str | None]:
    """A protected alias names a version in the stage the policy requires, and moving it
    needs what that stage needs, approvals included.

    ``aliases: {champion: {requires: production}}`` in the policy: only a version in
    ``production`` may carry ``champion``, and a change that puts ``champion`` on a version
    (one that did not carry it at the base) is judged like a promotion to ``production``:
    the version stands there, so that stage's rules apply to it, and every ``approvals``
    rule of that stage must be met for the move itself. Whoever points production traffic
    at a version through its alias answers to the same reviewers as a promotion.
    """
    protected = [
        (index, alias, policy.aliases[alias]) for index, alias in enumerate(manifest.aliases) if alias in policy.aliases
    ]
    if not protected:
        return None
    misplaced = False
    for index, alias, stage in protected:
        if manifest.stage != stage:
            misplaced = True
            yield Fail(
                f"alias {alias!r} is protected (policy {policy.name}): it may name only a version in"
                f" {stage!r}, and {manifest.ref} is in {manifest.stage!r}",
                at=f"aliases[{index}]",
            )
    if misplaced:
        return None
    if context.base is None:
        raise Skip(
            "no base: whether a protected alias moved is judged against a base (--base REF, or the pull"
            " request's base)",
            reason="no-base",
        )
    moved = [
        (index, alias, stage)
        for index, alias, stage in protected
        if base_manifest is None or alias not in base_manifest.aliases
    ]
    if not moved:
        return "protected aliases unchanged since the base"
    from modelgate.checks.governance import approval_rules, verify_approvals

    notes = []
    for index, alias, stage in moved:
        rules = approval_rules(policy, stage)
        if not rules:
            notes.append(f"{alias!r} moved here; stage {stage!r} asks for no approvals")
        for params, _origin in rules:
            purpose = f"moving protected alias {alias!r} to {manifest.ref} "
            found = verify_approvals(manifest, doc, params, context, audit, stage, purpose)
            note = yield from _located(found, f"aliases[{index}]")
            if note is not None:
                notes.append(f"{alias!r} moved here: {note}")
    return "; ".join(notes) or None


def _located(findings: Generator[Fail, None, str | None], at: str) -> Generator[Fail, None, str | None]:
    """``findings`` reported at ``at`` (the alias, not the stage they were written for)."""
    while True:
        try:
            found = next(findings)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        yield Fail(found.message, at=at, hint=found.hint)
