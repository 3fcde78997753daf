"""Plain frozen data handed from the run to the reporters: results and the summary."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import field
from typing import TYPE_CHECKING, Any, Literal

from modelgate.datamodel.records import record

if TYPE_CHECKING:
    from modelgate.approvals.evidence import Approval, Rejection

Outcome = Literal["passed", "failed", "waived", "skipped", "error"]
OUTCOMES: tuple[Outcome, ...] = ("passed", "failed", "waived", "skipped", "error")


@record
class Location:
    path: str
    line: int
    column: int


@record
class AppliedWaiver:
    check: str
    model: str
    version: str | None
    reason: str
    expires: str
    owner: str
    policy: str


@record
class Result:
    check: str
    name: str
    outcome: Outcome
    severity: Literal["error", "warning"]
    manifest: str
    model: str
    message: str
    location: Location
    waiver: AppliedWaiver | None = None
    hint: str | None = None
    reason: str | None = None  # a skip's machine-readable reason (``verified-in-ci``, ``no-base``, ...)
    rule: str = ""  # the rule's label (``auc``, ``staging,production``): see Rule.label

    @property
    def fails(self) -> bool:
        """Whether this result fails the run without --strict."""
        return self.outcome == "error" or (self.outcome == "failed" and self.severity == "error")

    @property
    def is_warning(self) -> bool:
        return self.outcome == "failed" and self.severity == "warning"


def tell_apart(results: Sequence[Result]) -> list[str]:
    """Per result, what tells it apart from the other results of its check on its manifest:
    empty when it is the only one, else its rule's label, then the line it points at when
    that is not enough (one rule finding several things), then a counter as the last
    resort: ``auc``, ``line 12``, ``staging · line 12``. Reports name results with it (a -v
    line, a JUnit testcase), so two results of one check never look the same."""
    parts: list[list[str]] = [[] for _ in results]

    def clashing() -> list[bool]:
        keys = [(r.manifest, r.check, *labels) for r, labels in zip(results, parts, strict=True)]
        counts = Counter(keys)
        return [counts[key] > 1 for key in keys]

    for result, labels, clash in zip(results, parts, clashing(), strict=True):
        if clash and result.rule:
            labels.append(result.rule)
    for result, labels, clash in zip(results, parts, clashing(), strict=True):
        if clash:
            labels.append(f"line {result.location.line}")
    seen: Counter[tuple[str, ...]] = Counter()
    for result, labels, clash in zip(results, parts, clashing(), strict=True):
        if clash:
            key = (result.manifest, result.check, *labels)
            seen[key] += 1
            labels.append(f"#{seen[key]}")
    return [" · ".join(labels) for labels in parts]


@record
class MetricRow:
    """One metric of a candidate next to the version it is judged against (the rival), with
    the terms a rule compared them by, for comparison tables.

    ``tolerance`` and ``outcome`` are None for a metric no rule compared (shown for context).
    """

    name: str
    value: float | None  # the candidate's
    rival_value: float | None
    goal: Literal["maximize", "minimize"] | None  # the goal it was compared by (the rival's, or the policy's)
    rival: str | None = None  # "fraud-detector@1.3.0 in production", "fraud-detector@1.4.0 at the base"
    tolerance: float | None = None
    outcome: Literal["passed", "failed", "waived"] | None = None
    problem: str | None = None  # why the rule failed on it: the message of the failure it caused
    check: str | None = None  # the id of the check that failed on it (its result has ``problem`` as message)

    @property
    def judged(self) -> bool:
        return self.outcome is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "rival": self.rival,
            "rival_value": self.rival_value,
            "value": self.value,
            "goal": self.goal,
            "tolerance": self.tolerance,
            "outcome": self.outcome,
            "problem": self.problem,
            "check": self.check,
        }


@record
class ManifestInfo:
    path: str
    name: str | None
    version: str | None
    stage: str | None
    base_stage: str | None  # None for a new manifest, and for one edited in place into another version
    sha256: str
    metrics: tuple[MetricRow, ...] = ()
    replaces: str | None = None  # name@version at the base when the file was edited in place into another version

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "name": self.name,
            "version": self.version,
            "stage": self.stage,
            "base_stage": self.base_stage,
            "sha256": self.sha256,
            "replaces": self.replaces,
            "metrics": [row.to_json() for row in self.metrics],
        }


@record
class Readiness:
    """What a manifest still needs to reach a stage it may move to next: the rules that
    stage adds, run on the manifest as it stands. A notice, never a failure: it is not in
    ``results``, and no exit code, verdict or ``--strict`` counts it."""

    manifest: str
    model: str
    stage: str  # where it stands now
    target: str  # the stage it may move to next
    needs: tuple[Result, ...]  # what the target's rules would fail on, each with the change to make (hint)
    in_ci: tuple[tuple[str, str], ...] = ()  # (id, name) of the target's rules only CI verifies (approvals)
    advice: str = ""  # when to make those changes: before the promotion, which may change only the stage

    def to_json(self) -> dict[str, Any]:
        return {
            "manifest": self.manifest,
            "model": self.model,
            "stage": self.stage,
            "next_stage": self.target,
            "needs": [
                {
                    "check": r.check,
                    "name": r.name,
                    "severity": r.severity,
                    "message": r.message,
                    "location": vars(r.location).copy(),
                    "hint": r.hint,
                }
                for r in self.needs
            ],
            "verified_in_ci": [{"check": check, "name": name} for check, name in self.in_ci],
            "advice": self.advice,
        }


@record
class CheckInfo:
    """What a report needs to describe a check that ran (SARIF rules, say)."""

    id: str
    name: str
    summary: str
    explain: str
    hint: str | None
    severity: Literal["error", "warning"]
    plugin: str
    help_uri: str | None = None


@record
class PolicyInfo:
    path: str
    sha256: str
    source: Literal["base", "worktree", "builtin"]


@record
class GitInfo:
    head: str | None = None
    base: str | None = None
    merge_base: str | None = None


@record
class Summary:
    tool_version: str
    results: tuple[Result, ...]
    manifests: tuple[ManifestInfo, ...]
    policies: tuple[PolicyInfo, ...]
    git: GitInfo = GitInfo()
    duration: float = 0.0
    strict: bool = False
    selection_may_be_empty: bool = False
    notices: tuple[str, ...] = field(default=())
    checks: tuple[CheckInfo, ...] = ()
    started_at: str = ""  # UTC, ISO 8601
    ci: tuple[tuple[str, str], ...] = ()  # GITHUB_* context, for the audit record
    approvals: tuple[Approval, ...] = ()  # approvals that counted for a rule, for the audit record
    rejected_approvals: tuple[Rejection, ...] = ()  # refused by a provider or a rule, and why
    readiness: tuple[Readiness, ...] = ()  # what later stages will ask: notices, never counted

    @property
    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = dict.fromkeys(OUTCOMES, 0)
        for result in self.results:
            counts[result.outcome] += 1
        return counts

    @property
    def exit_code(self) -> int:
        if any(r.fails or (self.strict and r.is_warning) for r in self.results):
            return 1
        if not self.manifests:
            return 0 if self.selection_may_be_empty else 5
        return 0

    @property
    def verdict(self) -> Literal["pass", "fail"]:
        return "pass" if self.exit_code == 0 else "fail"

    def to_json(self) -> dict[str, Any]:
        """The JSON report, in the contract's shape (DESIGN.md section 3)."""
        return {
            "tool": {"name": "modelgate", "version": self.tool_version},
            "verdict": self.verdict,
            "exit_code": self.exit_code,
            "summary": self.counts,
            "git": {"head": self.git.head, "base": self.git.base, "merge_base": self.git.merge_base},
            "policies": [vars(p).copy() for p in self.policies],
            "manifests": [m.to_json() for m in self.manifests],
            "results": [
                {
                    "check": r.check,
                    "name": r.name,
                    "outcome": r.outcome,
                    "severity": r.severity,
                    "manifest": r.manifest,
                    "model": r.model,
                    "message": r.message,
                    "location": vars(r.location).copy(),
                    "waiver": vars(r.waiver).copy() if r.waiver else None,
                }
                for r in self.results
            ],
            # Additive: per manifest, each stage it may move to next and what that stage
            # still needs. Notices: the verdict, exit code and summary above never count them.
            "readiness": [entry.to_json() for entry in self.readiness],
        }
