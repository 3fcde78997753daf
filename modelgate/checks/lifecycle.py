"""MG4xx: stages and who may stand in them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from modelgate.checkapi.decorator import Fail, check

if TYPE_CHECKING:
    from modelgate.datamodel.manifest import Manifest, ManifestDoc
    from modelgate.datamodel.policy import Policy
    from modelgate.pipeline.context import Context


@check("MG401", name="stage-valid", waivable=False, readiness="change",
       hint="use one of the policy's stages, spelled exactly")
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


@check("MG402", name="exclusive-stage", waivable=False, readiness="change",
       hint="move the other version out of this stage (e.g. to archived) in the same change")
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
                yield Fail(f"alias {alias!r} is also on {other.model.ref} ({other.path})",
                           at=f"aliases[{index}]")
