"""MG6xx: accountability (owners, waivers)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from modelgate.checkapi import Fail, check

if TYPE_CHECKING:
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
