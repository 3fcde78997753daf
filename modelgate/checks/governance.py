"""MG6xx: accountability (owners, waivers, approvals)."""

from __future__ import annotations

import json
import re
from collections.abc import Generator, Iterator
from dataclasses import field
from typing import TYPE_CHECKING, Annotated

from modelgate.checkapi.decorator import Fail, Skip, check
from modelgate.checks import DOCS
from modelgate.datamodel.records import record
from modelgate.datamodel.validation import Constraint, Strict

MODELGATE_DOCS = DOCS  # each check's section there is its SARIF helpUri

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


@check("MG601", name="owners", waivable=False, hint="list owners as @user, @org/team or an email address")
def owners(manifest: Manifest) -> Iterator[Fail]:
    """The model has owners, each a GitHub ``@user``, ``@org/team`` or an email address.

    Someone must answer for a model in production; an owner nobody can reach is no owner.
    """
    if not manifest.owners:
        yield Fail("no owners listed", at="owners")
    for index, owner in enumerate(manifest.owners):
        if not _OWNER.match(owner):
            yield Fail(f"owner {owner!r} is not @user, @org/team or an email", at=f"owners[{index}]")


@check(
    "MG602",
    name="waiver-expired",
    waivable=False,
    hint="renew the waiver with a new date and reason in the policy, or fix the finding",
)
def waiver_expired(manifest: Manifest, policy: Policy, context: Context) -> Iterator[Fail]:
    """No waiver for this model has expired.

    A waiver accepts a known failure until a date. After that date it no longer waives
    anything, and its presence fails: an exception nobody renewed is a decision nobody made.
    """
    for waiver in policy.waivers:
        if (
            waiver.model == manifest.name
            and waiver.version in (None, manifest.version)
            and waiver.expires < context.today
        ):
            yield Fail(
                f"waiver for {waiver.check} on {manifest.name} expired on {waiver.expires}"
                f" ({waiver.origin}, owner {waiver.owner})",
                at="version",
            )


# Stages a version leaves service for: a waiver pinned to a version there can no longer apply.
RETIRED_STAGES = ("archived", "rejected")


@check(
    "MG604",
    name="waiver-stale",
    scope="after",
    severity="warning",
    waivable=False,
    hint="remove the waiver from the policy: it can no longer apply to anything",
)
def waiver_stale(
    manifest: Manifest, doc: ManifestDoc, policy: Policy, context: Context, results: tuple[Result, ...]
) -> Iterator[Fail]:
    """No waiver outlives what it can apply to: its version is live, or it waived something.

    A waiver naming a version documents that version's accepted failure for as long as the
    version is live, even in runs where the failure does not show (once the promotion it
    excused has merged, the version is compared with itself): it goes stale when no
    manifest has the version, or the version is archived or rejected. A waiver naming no
    version is stale on a live version of its model for which it waived nothing; a waiver
    naming a model the repository does not have matches no manifest.

    A waiver that outlives its reason hides the next, different failure of the same check;
    remove it once it can no longer apply. Reported as a warning (``--strict`` fails).
    """
    waived = {(r.waiver.check, r.waiver.policy) for r in results if r.waiver is not None}
    retired = manifest.stage in RETIRED_STAGES
    for waiver in policy.waivers:
        if waiver.model != manifest.name or waiver.expires < context.today:
            continue
        if waiver.version == manifest.version and retired:
            yield Fail(
                f"waiver for {waiver.check} on {manifest.ref} ({waiver.origin}) can no longer apply:"
                f" {manifest.ref} is {manifest.stage}",
                at="stage",
            )
        elif waiver.version is None and not retired and (waiver.check, waiver.origin) not in waived:
            yield Fail(
                f"waiver for {waiver.check} on {manifest.name} ({waiver.origin}) names no version and waived"
                f" nothing on {manifest.ref}",
                at="version",
                hint="remove it, or name the version whose failure it accepts (version: ...): a waiver"
                " for a version stays quiet while that version is live",
            )
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
            yield Fail(
                f"waiver for {waiver.check} on {waiver.model} ({waiver.origin}) matches no manifest:"
                f" no model {waiver.model!r} in the repository",
                at="version",
            )
        elif waiver.version is not None and waiver.version not in versions:
            have = f" (it has {', '.join(sorted(versions))})" if versions else ""
            yield Fail(
                f"waiver for {waiver.check} on {waiver.model}@{waiver.version} ({waiver.origin}) matches no"
                f" manifest: no version {waiver.version} of {waiver.model!r} in the repository{have}",
                at="version",
            )


@record(kw_only=True)
class ApprovalParams(Strict):
    __pydantic_config__ = Strict.renamed(from_="from")

    min: Annotated[int, Constraint(ge=1)] = 1
    from_: list[str] = field(default_factory=list)
    distinct_from_author: bool = True
    codeowners: bool = False
    provider: Annotated[str | None, Constraint(min_length=1)] = None


@check(
    "MG603",
    name="approvals",
    needs_rule=True,
    params=ApprovalParams,
    waivable=False,
    provider_param="provider",
    readiness="ci",
    hint="ask the required reviewers to approve this promotion",
)
def approvals(
    manifest: Manifest,
    doc: ManifestDoc,
    base_doc: ManifestDoc | None,
    params: ApprovalParams,
    context: Context,
    audit: AuditLog,
) -> Generator[Fail, None, str | None]:
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
    return (yield from verify_approvals(manifest, doc, params, context, audit))


def verify_approvals(
    manifest: Manifest,
    doc: ManifestDoc,
    params: ApprovalParams,
    context: Context,
    audit: AuditLog,
    stage: str | None = None,
    purpose: str = "",
) -> Generator[Fail, None, str | None]:
    """The ``approvals`` rule's verdict on ``manifest`` standing at ``stage`` (default: its
    own) under ``params``: yields a failure when too few verified approvals count, raises
    :class:`Skip` ("verified in CI") on a laptop without a provider, and returns who approved.
    Other checks that need what a stage needs (a protected alias) call it; ``purpose`` says
    what the approvals are for in their messages."""
    stage = stage or manifest.stage
    found = context.approvals(params.provider)
    problem = "no approvals provider is configured (config: approvals.provider)" if found is None else found.error
    who = f" from {', '.join(params.from_)}" if params.from_ else ""
    needs = f"{purpose}needs {params.min} verified approval(s){who}"
    if found is not None and found.deferred is not None:
        raise Skip(f"verified on the pull request: {needs} ({found.deferred})", reason="verified-on-pull-request")
    if problem is not None:
        if context.in_ci:
            yield Fail(f"{needs} for {manifest.ref} -> {stage}; they cannot be verified: {problem}", at="stage")
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
            yield Fail(
                f"{needs} for {manifest.ref} -> {stage} including a code owner, but the base"
                f" commit's CODEOWNERS has lines GitHub skips: {shown}; fix them on the base branch",
                at="stage",
            )
            return None
        owners = codeowners.owners(doc.path)
    result = tally(found, manifest.ref, stage, params.from_, params.distinct_from_author, owners)
    audit.approvals(result.counted, result.rejected)
    evidence = "; ".join(f"{a.who} ({a.evidence})" for a in result.counted)
    refused = f"; rejected: {'; '.join(map(str, result.rejected))}" if result.rejected else ""
    if len(result.counted) < params.min or result.missing_owner:
        owner = f" ({result.missing_owner})" if result.missing_owner else ""
        yield Fail(
            f"{needs} for {manifest.ref} -> {stage},"
            f" has {len(result.counted)}{owner}" + (f": {evidence}" if evidence else "") + refused,
            at="stage",
        )
        return None
    return f"approved by {evidence}{refused}"


def approval_rules(policy: Policy, stage: str) -> list[tuple[ApprovalParams, str]]:
    """The ``approvals`` rules of ``policy`` that apply at ``stage``, each with its
    validated ``with:`` and where it is written (validated when the policy was loaded)."""
    from modelgate.datamodel import validation

    found = []
    for rule in policy.rules:
        if rule.check in (approvals.id, approvals.name) and rule.applies_to(stage):
            content = json.dumps(rule.params, sort_keys=True, default=repr)
            found.append((validation.load(ApprovalParams, rule.params, None, content), rule.origin))
    return found


def _code_owners(context: Context) -> CodeOwners:
    """The CODEOWNERS of the trusted tree (the base commit)."""
    from modelgate.approvals.codeowners import find

    return find(context.tree.read)


@record(kw_only=True)
class RevalidationParams(Strict):
    warn_days: Annotated[
        int, Constraint(ge=0, description=("How many days before review_by the check starts to warn."))
    ] = 30


@check(
    "MG605",
    name="revalidation",
    stages=["production"],
    params=RevalidationParams,
    waivable=True,
    hint="review the model again, then move review_by forward in a reviewed change (or archive the version)",
)
def revalidation(manifest: Manifest, params: RevalidationParams, context: Context) -> Generator[Fail, None, str | None]:
    """A version in production is reviewed again by its ``review_by`` date.

    Model-risk frameworks ask for a periodic review of every model in use. A production
    manifest's ``review_by: 2027-06-30`` is that deadline: the check warns from 30 days
    before it (``with: {warn_days: 60}`` changes that) and fails once the date has passed.
    Renewing means a change that moves ``review_by`` forward, which the production rules
    (approvals included) gate like any other edit of that manifest. A manifest without
    ``review_by`` passes; require it with ``required-fields``. A waiver can accept an
    overdue review for a while, with a reason and an owner.
    """
    due = manifest.review_by
    if due is None:
        return "no review_by date"
    left = (due - context.today).days
    if left < 0:
        yield Fail(f"{manifest.ref} was due for revalidation on {due.isoformat()} ({-left} day(s) ago)", at="review_by")
    elif left <= params.warn_days:
        yield Fail(
            f"{manifest.ref} is due for revalidation on {due.isoformat()}, in {left} day(s)",
            at="review_by",
            severity="warning",
        )
    else:
        return f"next review by {due.isoformat()} ({left} days)"
    return None
