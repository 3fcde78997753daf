"""MG6xx: accountability (owners, waivers)."""

from __future__ import annotations

import re
from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from modelgate.checkapi import Fail, Skip, check

if TYPE_CHECKING:
    from modelgate.approvals import Approval
    from modelgate.context import Context
    from modelgate.manifest import Manifest
    from modelgate.policy import Policy
    from modelgate.results import Result

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
def waiver_stale(manifest: Manifest, policy: Policy, context: Context, results: tuple[Result, ...]) -> Iterator[Fail]:
    """A waiver for this model version waived nothing in this run.

    A waiver that outlives its reason hides the next, different failure of the same check;
    remove it once what it excused is fixed. Reported as a warning (``--strict`` fails).
    """
    waived = {(r.waiver.check, r.waiver.policy) for r in results if r.waiver is not None}
    for waiver in policy.waivers:
        if waiver.model == manifest.name and waiver.version in (None, manifest.version) \
                and waiver.expires >= context.today and (waiver.check, waiver.origin) not in waived:
            yield Fail(f"waiver for {waiver.check} on {manifest.ref} ({waiver.origin}) waived nothing", at="version")


class ApprovalParams(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True, populate_by_name=False)
    min: int = Field(default=1, ge=1)
    from_: list[str] = Field(default_factory=list, alias="from")
    distinct_from_author: bool = True


@check("MG603", name="approvals", needs_rule=True, params=ApprovalParams, waivable=False,
       hint="ask the required reviewers to approve this promotion")
def approvals(manifest: Manifest, params: ApprovalParams, context: Context) -> Generator[Fail, None, str | None]:
    """Enough verified approvals for this model version to stand at this stage.

    ``with: {min: 2, from: [ana@acme.io, bo@acme.io], distinct_from_author: true}``.
    Approvals come from the configured provider (``approvals: {provider: signed-commits}``),
    never from the manifest. On a laptop without a provider the rule is skipped ("verified
    in CI"); in CI (``--ci``, ``CI=true`` or GitHub Actions) an approval that cannot be
    verified fails. The result lists who approved, with the evidence, and which approvals
    were rejected and why.
    """
    found = context.approvals()
    problem = "no approvals provider is configured (config: approvals.provider)" if found is None else found.error
    if problem is not None:
        if context.in_ci:
            yield Fail(f"approvals for {manifest.ref} -> {manifest.stage} cannot be verified: {problem}", at="stage")
            return None
        raise Skip(f"verified in CI ({problem})")
    assert found is not None
    wanted = (manifest.ref, manifest.stage)
    accepted = [a for a in found.accepted if (a.model, a.stage) == wanted]
    rejected = [f"{r.who}: {r.reason} ({r.evidence})" for r in found.rejected if (r.model, r.stage) == wanted]
    counted: dict[str, Approval] = {}
    for approval in accepted:
        if params.from_ and approval.who not in params.from_:
            rejected.append(f"{approval.who}: not one of {params.from_}")
        elif params.distinct_from_author and approval.who in found.change_authors:
            rejected.append(f"{approval.who}: authored this change")
        else:
            counted.setdefault(approval.who, approval)
    evidence = "; ".join(f"{who} ({a.evidence})" for who, a in sorted(counted.items()))
    refused = f"; rejected: {'; '.join(rejected)}" if rejected else ""
    if len(counted) < params.min:
        who = f" from {params.from_}" if params.from_ else ""
        yield Fail(f"needs {params.min} verified approval(s){who} for {manifest.ref} -> {manifest.stage},"
                   f" has {len(counted)}" + (f": {evidence}" if evidence else "") + refused, at="stage")
        return None
    return f"approved by {evidence}{refused}"
