"""Verified approvals: who approved promoting which model version, and the evidence.

An approval written into a manifest proves nothing (its author wrote it). Approvals come
from a provider behind the ``modelgate_collect_approvals`` hook, selected in config
(``approvals: {provider: github}``) or by the rule (``with: {provider: signed-commits}``).
Providers report what they verified and what they rejected, and why, and who authored the
change; :func:`tally` applies a rule (who may approve, not the change's authors) to that.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import field, replace
from typing import TYPE_CHECKING, Any

from modelgate.datamodel.records import record

if TYPE_CHECKING:
    from modelgate.git.repo import GitRepo
    from modelgate.git.trees import Tree

# "Approved-by: fraud-detector@1.4.0 -> production" as a commit trailer.
TRAILER = re.compile(r"^Approved-by:\s*([a-z0-9][a-z0-9._-]{0,127})@(\S+)\s*->\s*([a-z][a-z0-9_-]{0,63})\s*$", re.M)

# A team's members (identities such as "@login"); raises LookupError(reason) when the
# provider cannot tell.
Members = Callable[[str], frozenset[str]]


@record
class ApprovalRequest:
    """What a provider needs to find the approvals of this change."""

    provider: str
    settings: Mapping[str, Any]
    git: GitRepo | None
    merge_base: str | None
    head: str | None
    tree: Tree  # the trusted tree (base commit): allowed signers, CODEOWNERS
    env: Mapping[str, str] = field(default_factory=dict)


@record
class Approval:
    who: str  # "@login" (github) or a signer principal such as "ana@acme.io"
    model: str | None  # name@version; None: the whole change (a pull-request review)
    stage: str | None  # None: any stage the change asks for
    when: str  # ISO 8601, UTC
    provider: str
    evidence: str  # "commit <sha> signed with <fingerprint>", "review <id> of pull request #<n> on <sha>"

    def covers(self, model: str, stage: str) -> bool:
        return self.model in (None, model) and self.stage in (None, stage)


@record
class Rejection:
    who: str
    model: str | None
    stage: str | None
    reason: str
    evidence: str

    def covers(self, model: str, stage: str) -> bool:
        return self.model in (None, model) and self.stage in (None, stage)

    def __str__(self) -> str:
        return f"{self.who}: {self.reason}" + (f" ({self.evidence})" if self.evidence else "")


@record
class Approvals:
    """A provider's answer: verified approvals, rejected ones with the reason, and the
    authors of the change (who may not approve it)."""

    provider: str
    accepted: tuple[Approval, ...] = ()
    rejected: tuple[Rejection, ...] = ()
    change_authors: tuple[str, ...] = ()
    # Authors that cannot be compared with approvers (a commit email linked to no GitHub
    # account): any approver might be one of them, so none counts while they are there.
    unmatched_authors: tuple[str, ...] = ()
    error: str | None = None  # the provider could not verify anything (fail closed)
    # The approvals were verified where the change was reviewed, not in this run: a merge
    # queue or a push to the default branch takes only pull requests whose required check
    # (this gate, approvals included) passed. Says why; None: verified here, or not at all.
    deferred: str | None = None
    members: Members | None = field(default=None, compare=False, repr=False)


@record
class Tally:
    counted: tuple[Approval, ...]  # one per approver, pinned to the model and stage
    rejected: tuple[Rejection, ...]
    missing_owner: str | None = None  # why no code owner approved, when one must


def same(identity: str, entry: str) -> bool:
    """``@Ana`` is ``ana``: GitHub logins and email addresses compare case-insensitively."""
    return identity.lstrip("@").casefold() == entry.lstrip("@").casefold()


def is_team(entry: str) -> bool:
    return entry.startswith("@") and "/" in entry


def tally(
    found: Approvals,
    model: str,
    stage: str,
    allowed: Sequence[str] = (),
    distinct_from_author: bool = True,
    owners: Sequence[str] | None = None,
) -> Tally:
    """Which of the provider's approvals count for ``model`` at ``stage`` under a rule.

    ``allowed``: users and ``@org/team`` entries who may approve (empty: anyone).
    ``owners``: when given, at least one counted approval must come from one of them.
    """
    rejected = [replace(r, model=model, stage=stage) for r in found.rejected if r.covers(model, stage)]
    counted: dict[str, Approval] = {}
    for approval in (a for a in found.accepted if a.covers(model, stage)):
        pinned = replace(approval, model=model, stage=stage)
        why = _refusal(approval.who, found, allowed, distinct_from_author)
        if why is not None:
            rejected.append(Rejection(approval.who, model, stage, why, approval.evidence))
        else:
            counted.setdefault(approval.who.casefold(), pinned)
    missing = None
    if owners is not None:
        if not owners:
            missing = "no CODEOWNERS entry of the base commit owns this manifest"
        elif not any(_member(a.who, owners, found)[0] for a in counted.values()):
            missing = f"none of the code owners {list(owners)} approved"
    return Tally(tuple(sorted(counted.values(), key=lambda a: a.who.casefold())), tuple(rejected), missing)


def _refusal(who: str, found: Approvals, allowed: Sequence[str], distinct: bool) -> str | None:
    if distinct:
        if any(same(who, author) for author in found.change_authors):
            return "authored this change"
        if found.unmatched_authors:
            shown = ", ".join(found.unmatched_authors[:3])
            return (
                f"cannot tell whether they authored this change: commits by {shown}"
                f" have no {found.provider} account to compare with"
            )
    if allowed:
        ok, unresolved = _member(who, allowed, found)
        if not ok:
            return f"not one of {list(allowed)}" + "".join(f"; {u}" for u in unresolved)
    return None


def _member(who: str, entries: Sequence[str], found: Approvals) -> tuple[bool, list[str]]:
    """Whether ``who`` is one of ``entries`` (users, emails, teams), and the teams that
    could not be resolved."""
    unresolved = []
    for entry in entries:
        if not is_team(entry):
            if same(who, entry):
                return True, []
            continue
        if found.members is None:
            unresolved.append(f"team {entry} cannot be resolved by {found.provider}")
            continue
        try:
            members = found.members(entry)
        except LookupError as exc:
            unresolved.append(f"team {entry} could not be resolved: {exc.args[0] if exc.args else exc}")
            continue
        if any(same(who, m) for m in members):
            return True, []
    return False, unresolved


def require_installed(named: Iterable[tuple[str, str]], answers: Iterable[list[str] | None]) -> None:
    """Raise ``ConfigError`` for a provider (``(where, name)``) that no plugin provides;
    ``answers`` are the plugins' ``modelgate_approval_providers`` lists."""
    from modelgate.errors import ConfigError

    installed = sorted({name for names in answers for name in names or ()})
    for where, name in named:
        if name not in installed:
            raise ConfigError(
                f"{where}: no plugin provides approvals {name!r}; installed providers: {', '.join(installed) or 'none'}"
            )
