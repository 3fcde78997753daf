"""Waivers in a run: which failures the policies' waivers waive (:class:`Waiving`), and the
waivers a change adds to the policy it is judged by.

With a base, policies are read from the base commit, so a waiver the change under review
writes into a policy file does not exist for its own run: a change must not excuse itself.
A team that accepts a failure and promotes in one pull request would then need two, the
waiver merged first. Instead, a waiver the change adds takes effect when a verified
approval from the owners of the policy file it is written in covers the change: owners
from the **base commit's** CODEOWNERS, the approval from the run's approvals provider, and
only an approval of the whole change (a pull-request review of its head); a signed
``Approved-by:`` trailer certifies one model's bytes, not the policy file's. The approver
must not be one of the change's authors. Anything else leaves the failure failed (fail
closed), with a notice that says who must approve, or to merge the waiver first.

Which waivers are "added": those of a policy file, as the work tree has it, that the base's
version of the same policy does not have with the same check, model, version, reason,
expiry and owner (an extended expiry is a new waiver), written in one of the files the
base's policy is made of (not in a file the change makes it extend). Only the policies the
base's configuration names are read, and which checks may be waived (``waivable``) stays
the base's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from modelgate.datamodel.records import record
from modelgate.datamodel.results import AppliedWaiver
from modelgate.errors import ModelgateError

if TYPE_CHECKING:
    from modelgate.checkapi.decorator import Check
    from modelgate.datamodel.manifest import ManifestDoc
    from modelgate.datamodel.policy import Policy, Waiver
    from modelgate.datamodel.results import Result
    from modelgate.datamodel.validation import Verdicts
    from modelgate.git.trees import Tree
    from modelgate.pipeline.context import Context


@record
class Verdict:
    """Whether an added waiver takes effect in this run, and the words for either answer."""

    approved: bool
    says: str  # approved: who approved, with the evidence; else: what it waits for


class Waiving:
    """What the waivers do to one run's failures: the policies' own (the base's, with a
    base), and those the change adds (``added``, policy path -> waivers), which apply once
    approved; whether one is, is asked once per waiver and said in ``notices``."""

    def __init__(self, context: Context, added: dict[str, tuple[Waiver, ...]], notices: list[str]) -> None:
        self._context = context
        self._added = added
        self._notices = notices
        self._verdicts: dict[str, Verdict] = {}  # an added waiver's origin -> whether it applies

    def apply(self, result: Result, check: Check, doc: ManifestDoc, policy: Policy | None) -> Result:
        """``result``, waived where a waiver covers it."""
        if result.outcome != "failed" or policy is None or doc.model is None:
            return result
        today = self._context.today
        waiver = policy.waiver_for(check.id, check.name, check.waivable, doc.model.name, doc.model.version, today)
        origin = waiver.origin if waiver is not None else ""
        if waiver is None and policy.may_waive(check.id, check.name, check.waivable):
            waiver = covering(
                self._added.get(policy.path, ()), check.id, check.name, doc.model.name, doc.model.version, today
            )
            if waiver is not None:
                verdict = self._verdict(waiver)
                if not verdict.approved:
                    return replace(
                        result, hint=f"a waiver this change adds ({waiver.origin}) waives nothing yet: {verdict.says}"
                    )
                origin = f"{waiver.origin}, {verdict.says}"
        if waiver is None:
            return result
        info = AppliedWaiver(
            waiver.check, waiver.model, waiver.version, waiver.reason, waiver.expires.isoformat(), waiver.owner, origin
        )
        return replace(result, outcome="waived", waiver=info)

    def _verdict(self, waiver: Waiver) -> Verdict:
        """Whether a waiver the change adds applies, asked once per waiver and run; a waiver
        that does not is a notice saying what it waits for."""
        verdict = self._verdicts.get(waiver.origin)
        if verdict is None:
            verdict = self._verdicts[waiver.origin] = verify(waiver, self._context)
            version = f"@{waiver.version}" if waiver.version else ""
            if not verdict.approved:
                self._notices.append(
                    f"waiver-pending: {waiver.origin} waives {waiver.check} on {waiver.model}{version}"
                    f" but this change adds it, so it waives nothing yet: {verdict.says}"
                )
            else:  # said in every report: the policy-changed notice says edits wait for the merge
                self._notices.append(
                    f"waiver-approved: {waiver.origin} waives {waiver.check} on {waiver.model}{version}, {verdict.says}"
                )
        return verdict


def _key(waiver: Waiver) -> tuple[object, ...]:
    return (waiver.check, waiver.model, waiver.version, waiver.reason, waiver.expires, waiver.owner)


def added(
    policies: Sequence[Policy], refs: Iterable[str], worktree: Tree, verdicts: Verdicts | None = None
) -> dict[str, tuple[Waiver, ...]]:
    """Governing policy path -> the waivers the work tree's version of it adds to the base's.
    A work tree whose policies do not load adds nothing (its edit is reported as
    ``policy-changed`` anyway)."""
    from modelgate.pipeline.rules import load_policies

    try:
        mine = load_policies(refs, worktree, verdicts)
    except ModelgateError:
        return {}
    theirs = {p.path: {_key(w) for w in p.waivers} for p in policies}
    # Only waivers written in a file the base's policy is made of: a change that makes its
    # policy extend a new file would otherwise pick whose approval its waiver needs.
    files = {p.path: {f.path for f in p.files if f.source == "base"} for p in policies}
    found: dict[str, tuple[Waiver, ...]] = {}
    for policy in mine:
        if policy.path in theirs:
            new = tuple(
                w for w in policy.waivers if _key(w) not in theirs[policy.path] and file_of(w) in files[policy.path]
            )
            if new:
                found[policy.path] = new
    return found


def covering(
    candidates: Iterable[Waiver], check_id: str, check_name: str, model: str, version: str, today: dt.date
) -> Waiver | None:
    for waiver in candidates:
        if waiver.expires >= today and waiver.covers(check_id, check_name, model, version):
            return waiver
    return None


def file_of(waiver: Waiver) -> str:
    """The policy file a waiver is written in (its origin is ``path:line:column``)."""
    return waiver.origin.rsplit(":", 2)[0]


def verify(waiver: Waiver, context: Context) -> Verdict:
    """Whether a verified approval from the base's code owners of the waiver's policy file
    covers this change."""
    from modelgate.approvals.codeowners import find
    from modelgate.approvals.evidence import tally

    path = file_of(waiver)
    first = "or merge the waiver in a pull request of its own first"
    codeowners = find(context.tree.read)
    if codeowners.problems:
        return Verdict(
            False,
            f"the base commit's CODEOWNERS has lines GitHub skips ({codeowners.problems[0]}),"
            f" so the owners of {path} cannot be told: {first}",
        )
    owners = codeowners.owners(path)
    if not owners:
        return Verdict(
            False, f"no CODEOWNERS entry of the base commit owns {path}, so no one can approve it here: {first}"
        )
    who = f"{owners[0]}" if len(owners) == 1 else f"one of {', '.join(owners)}"
    wanted = f"it takes effect when {who} (code owners of {path} at the base) approves this pull request"
    found = context.approvals()
    if found is None or (found.error is not None and not context.in_ci):
        # As the approvals rule on a laptop: what only CI can verify is said, and waits for it.
        why = "no approvals provider" if found is None else found.error
        return Verdict(False, f"{wanted}, verified in CI ({why} here); {first}")
    if found.deferred is not None:
        return Verdict(True, f"added by this change; its approval was verified on the pull request ({found.deferred})")
    if found.error is not None:
        return Verdict(False, f"{wanted}; approvals cannot be verified here: {found.error}; {first}")
    whole = replace(found, accepted=tuple(a for a in found.accepted if a.model is None and a.stage is None))
    subject = f"{waiver.model}@{waiver.version}" if waiver.version else waiver.model
    result = tally(whole, subject, "waiver", owners, distinct_from_author=True)
    if result.counted:
        evidence = "; ".join(f"{a.who} ({a.evidence})" for a in result.counted)
        return Verdict(True, f"added by this change, approved by {evidence}")
    refused = f" (rejected: {'; '.join(f'{r.who}: {r.reason}' for r in result.rejected)})" if result.rejected else ""
    return Verdict(False, f"{wanted}{refused}; {first}")
