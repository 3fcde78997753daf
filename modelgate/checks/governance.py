"""MG6xx: accountability (owners, waivers, approvals)."""

from __future__ import annotations

import re
from collections.abc import Generator, Iterator
from dataclasses import field
from typing import TYPE_CHECKING, Annotated

from modelgate.checkapi.decorator import Fail, Skip, check
from modelgate.datamodel.records import record
from modelgate.datamodel.validation import Constraint, Strict

if TYPE_CHECKING:
    from modelgate.approvals.codeowners import CodeOwners
    from modelgate.datamodel.manifest import Manifest, ManifestDoc
    from modelgate.datamodel.policy import Policy
    from modelgate.datamodel.results import Result
    from modelgate.pipeline.context import AuditLog, Context

_OWNER = re.compile(
    r"^(@[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:/[A-Za-z0-9._-]{1,100})?"
    r"|[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63})$"
)


@check("MG601", name="owners", waivable=False,
       hint="list owners as @user, @org/team or an email address")
def owners(manifest: Manifest) -> Iterator[Fail]:
    """The model has owners, each a GitHub ``@user``, ``@org/team`` or an email address.

    Someone must answer for a model in production; an owner nobody can reach is no owner.
    """
    if not manifest.owners:
        yield Fail("no owners listed", at="owners")
    for index, owner in enumerate(manifest.owners):
        if not _OWNER.match(owner):
            yield Fail(f"owner {owner!r} is not @user, @org/team or an email", at=f"owners[{index}]")


@check("MG602", name="waiver-expired", waivable=False,
       hint="renew the waiver with a new date and reason in the policy, or fix the finding")
def waiver_expired(manifest: Manifest, policy: Policy, context: Context) -> Iterator[Fail]:
    """No waiver for this model has expired.

    A waiver accepts a known failure until a date. After that date it no longer waives
    anything, and its presence fails: an exception nobody renewed is a decision nobody made.
    """
    for waiver in policy.waivers:
        if waiver.model == manifest.name and waiver.version in (None, manifest.version) \
                and waiver.expires < context.today:
            yield Fail(
                f"waiver for {waiver.check} on {manifest.name} expired on {waiver.expires}"
                f" ({waiver.origin}, owner {waiver.owner})",
                at="version",
            )


@check("MG604", name="waiver-stale", scope="after", severity="warning", waivable=False,
       hint="remove the waiver from the policy: what it excused no longer fails")
def waiver_stale(manifest: Manifest, doc: ManifestDoc, policy: Policy, context: Context,
                 results: tuple[Result, ...]) -> Iterator[Fail]:
    """A waiver for this model version waived nothing, or a waiver matches no manifest.

    A waiver that matches no manifest names a model or version the repository does not have.

    A waiver that outlives its reason hides the next, different failure of the same check;
    remove it once what it excused is fixed. Reported as a warning (``--strict`` fails).
    """
    waived = {(r.waiver.check, r.waiver.policy) for r in results if r.waiver is not None}
    for waiver in policy.waivers:
        if waiver.model == manifest.name and waiver.version in (None, manifest.version) \
                and waiver.expires >= context.today and (waiver.check, waiver.origin) not in waived:
            yield Fail(f"waiver for {waiver.check} on {manifest.ref} ({waiver.origin}) waived nothing", at="version")
    if policy.waivers:
        yield from _unmatched_waivers(doc, policy, context)


def _unmatched_waivers(doc: ManifestDoc, policy: Policy, context: Context) -> Iterator[Fail]:
    """Waivers naming a model or version absent from the repository (a typo, a model long
    gone) match no manifest, so no manifest's run reports them: the first manifest the
    policy governs does, once per run."""
    first = context.first_manifest(lambda d: d.model is not None and policy.governs(d.model.name))
    if first is None or first.path != doc.path:
        return
    for waiver in policy.waivers:
        versions = {d.model.version for d in context.versions_of(waiver.model) if d.model is not None}
        if waiver.version is None and not versions:
            yield Fail(f"waiver for {waiver.check} on {waiver.model} ({waiver.origin}) matches no manifest:"
                       f" no model {waiver.model!r} in the repository", at="version")
        elif waiver.version is not None and waiver.version not in versions:
            have = f" (it has {', '.join(sorted(versions))})" if versions else ""
            yield Fail(f"waiver for {waiver.check} on {waiver.model}@{waiver.version} ({waiver.origin}) matches no"
                       f" manifest: no version {waiver.version} of {waiver.model!r} in the repository{have}",
                       at="version")


@record(kw_only=True)
class ApprovalParams(Strict):
    __pydantic_config__ = Strict.renamed(from_="from")

    min: Annotated[int, Constraint(ge=1)] = 1
    from_: list[str] = field(default_factory=list)
    distinct_from_author: bool = True
    codeowners: bool = False
    provider: Annotated[str | None, Constraint(min_length=1)] = None


@check("MG603", name="approvals", needs_rule=True, params=ApprovalParams, waivable=False, provider_param="provider",
       hint="ask the required reviewers to approve this promotion")
def approvals(manifest: Manifest, doc: ManifestDoc, base_doc: ManifestDoc | None, params: ApprovalParams,
              context: Context, audit: AuditLog) -> Generator[Fail, None, str | None]:
    """Enough verified approvals for this model version to stand at this stage.

    ``with: {min: 2, from: ["@acme/ml-leads", ana@acme.io], distinct_from_author: true,
    codeowners: false, provider: github}``. Approvals come from a provider (config
    ``approvals: {provider: github}``, or the rule's ``provider``), never from the manifest:
    ``github`` counts pull-request reviews approving the head commit, ``signed-commits``
    counts signed ``Approved-by: <name>@<version> -> <stage>`` commit trailers. ``from``
    lists who may approve (users, emails, ``@org/team``); approvals by the change's authors
    never count unless ``distinct_from_author: false``; ``codeowners: true`` also needs one
    approval from an owner of the manifest in the base commit's CODEOWNERS. On a laptop
    without a provider the rule is skipped ("verified in CI"); in CI (``--ci``, ``CI=true``
    or GitHub Actions) an approval that cannot be verified fails. The result lists who
    approved, with the evidence, and which approvals were rejected and why. A manifest the
    change leaves byte for byte as it was at the base passes: it was approved when it got
    there, and a change to another model does not reopen it.
    """
    if base_doc is not None and base_doc.sha256 == doc.sha256:
        return "unchanged since the base"
    found = context.approvals(params.provider)
    problem = "no approvals provider is configured (config: approvals.provider)" if found is None else found.error
    who = f" from {', '.join(params.from_)}" if params.from_ else ""
    needs = f"needs {params.min} verified approval(s){who}"
    if problem is not None:
        if context.in_ci:
            yield Fail(f"{needs} for {manifest.ref} -> {manifest.stage}; they cannot be verified: {problem}",
                       at="stage")
            return None
        raise Skip(f"verified in CI: {needs} ({problem})", reason="verified-in-ci")
    assert found is not None
    from modelgate.approvals.evidence import tally

    owners = None
    if params.codeowners:
        codeowners = _code_owners(context)
        if codeowners.problems:
            more = len(codeowners.problems) - 3
            shown = "; ".join(codeowners.problems[:3]) + (f"; and {more} more" if more > 0 else "")
            yield Fail(f"{needs} for {manifest.ref} -> {manifest.stage} including a code owner, but the base"
                       f" commit's CODEOWNERS has lines GitHub skips: {shown}; fix them on the base branch",
                       at="stage")
            return None
        owners = codeowners.owners(doc.path)
    result = tally(found, manifest.ref, manifest.stage, params.from_, params.distinct_from_author, owners)
    audit.approvals(result.counted, result.rejected)
    evidence = "; ".join(f"{a.who} ({a.evidence})" for a in result.counted)
    refused = f"; rejected: {'; '.join(map(str, result.rejected))}" if result.rejected else ""
    if len(result.counted) < params.min or result.missing_owner:
        owner = f" ({result.missing_owner})" if result.missing_owner else ""
        yield Fail(f"{needs} for {manifest.ref} -> {manifest.stage},"
                   f" has {len(result.counted)}{owner}" + (f": {evidence}" if evidence else "") + refused,
                   at="stage")
        return None
    return f"approved by {evidence}{refused}"


def _code_owners(context: Context) -> CodeOwners:
    """The CODEOWNERS of the trusted tree (the base commit)."""
    from modelgate.approvals.codeowners import find

    return find(context.tree.read)
