"""MG3xx: the model is good enough, by the numbers it declares, and no worse than the version
it replaces (no-metric-regression, judged against the base)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import field
from typing import TYPE_CHECKING, Annotated, Literal

from modelgate.checkapi.decorator import Fail, Skip, check
from modelgate.checks import DOCS, require_base
from modelgate.datamodel.records import record
from modelgate.datamodel.validation import Constraint, Strict

MODELGATE_DOCS = DOCS  # each check's section there is its SARIF helpUri

if TYPE_CHECKING:
    from modelgate.datamodel.manifest import Manifest, ManifestDoc
    from modelgate.datamodel.policy import Policy
    from modelgate.datamodel.results import MetricRow
    from modelgate.pipeline.context import AuditLog, Context


@record(kw_only=True)
class ThresholdParams(Strict):
    metric: str
    min: float | None = None
    max: float | None = None
    threshold: Annotated[float | None, Constraint(description="Compared in the metric's goal direction.")] = None

    def __post_init__(self) -> None:
        if self.min is None and self.max is None and self.threshold is None:
            raise ValueError("give min, max, or threshold")


@record(kw_only=True)
class RequiredMetricsParams(Strict):
    metrics: list[str] = field(default_factory=list)
    min: Annotated[int, Constraint(ge=0)] = 0


@check(
    "MG301",
    name="metric-threshold",
    needs_rule=True,
    params=ThresholdParams,
    hint="improve the model, or change the threshold in the policy (reviewed on the base branch)",
)
def metric_threshold(manifest: Manifest, params: ThresholdParams) -> Iterator[Fail]:
    """A metric is within the policy's bounds at this stage.

    ``with: {metric: auc, min: 0.90}`` and/or ``max: ...``; or ``threshold: X``, which is
    a minimum for a metric whose ``goal`` is ``maximize`` and a maximum for ``minimize``.
    A missing metric fails: what is not measured is not good enough.
    """
    metric = manifest.metrics.get(params.metric)
    at = f"metrics.{params.metric}"
    if metric is None:
        yield Fail(f"metric {params.metric!r} is required at stage {manifest.stage!r} but missing", at="metrics")
        return
    low, high = params.min, params.max
    if params.threshold is not None:
        if metric.goal is None:
            yield Fail(f"metric {params.metric!r} has no goal (maximize|minimize) for threshold", at=at)
            return
        if metric.goal == "maximize":
            low = params.threshold if low is None else max(low, params.threshold)
        else:
            high = params.threshold if high is None else min(high, params.threshold)
    if low is not None and metric.value < low:
        yield Fail(f"{params.metric} = {metric.value:g} is below the minimum {low:g}", at=at)
    if high is not None and metric.value > high:
        yield Fail(f"{params.metric} = {metric.value:g} is above the maximum {high:g}", at=at)


@check(
    "MG302",
    name="required-metrics",
    needs_rule=True,
    params=RequiredMetricsParams,
    adds_up=["metrics", "min"],
    hint="evaluate the model and record the metrics in the manifest",
)
def required_metrics(manifest: Manifest, params: RequiredMetricsParams) -> Iterator[Fail]:
    """The metrics the policy names are present, and at least ``min`` metrics in all.

    ``with: {metrics: [auc, f1], min: 1}``. ``builtin:default`` requires at least one
    metric from staging on: a model promoted without numbers cannot be compared.
    """
    for name in params.metrics:
        if name not in manifest.metrics:
            yield Fail(
                f"metric {name!r} is required at stage {manifest.stage!r}",
                at="metrics",
                hint=f"evaluate the model and record metrics.{name}",
            )
    if len(manifest.metrics) < params.min:
        yield Fail(
            f"at least {params.min} metric(s) required at stage {manifest.stage!r}, found {len(manifest.metrics)}",
            at="metrics",
            hint=f"evaluate the model and record at least {params.min} metric(s) under metrics",
        )


@record(kw_only=True)
class RegressionParams(Strict):
    metric: Annotated[str | None, Constraint(description="One metric; default: every metric with a goal.")] = None
    tolerance: Annotated[float, Constraint(ge=0)] = 0.0
    goal: Annotated[
        Literal["maximize", "minimize"] | None,
        Constraint(
            description=("The goal of `metric`, instead of the goal the compared version declares; needs `metric`.")
        ),
    ] = None

    def __post_init__(self) -> None:
        if self.goal is not None and self.metric is None:
            raise ValueError("goal needs metric: the policy names the goal of one metric")


@check(
    "MG303",
    name="no-metric-regression",
    needs_rule=True,
    params=RegressionParams,
    readiness="change",
    hint="improve the model, or accept the regression with a waiver that says why",
)
def no_metric_regression(
    manifest: Manifest,
    doc: ManifestDoc,
    base_manifest: Manifest | None,
    params: RegressionParams,
    policy: Policy,
    context: Context,
    audit: AuditLog,
) -> Iterator[Fail]:
    """Metrics do not get worse than the version compared with, on that version's terms.

    Compared with the base version of the same manifest, and, when the model moves into an
    exclusive stage, with the version currently in that stage on the base (the model it
    replaces). ``with: {metric: auc, tolerance: 0.005}``; without ``metric``, every metric
    the compared version declares with a ``goal``. The goal is the compared version's (or
    the policy's, ``with: {metric: auc, goal: maximize}``), never the candidate's: a metric
    the compared version has and the candidate lacks (or renamed) fails, and so does a
    candidate whose goal for it differs, so that changing the terms in one change cannot
    open the way for a regression in the next. A named metric that is missing, or that has
    no goal to compare by, fails.

    The reports' metric tables show what it compared: with the version it replaces when
    there is one, else with the base, and every comparison that failed.
    """
    base = require_base(context)
    rivals: list[tuple[str, str, Manifest]] = []  # (label in messages, label in tables, version)
    if base_manifest is not None:
        rivals.append((f"the base ({base_manifest.ref})", f"{base_manifest.ref} at the base", base_manifest))
    moving_in = base_manifest is None or base_manifest.stage != manifest.stage
    if manifest.stage in policy.exclusive and moving_in:
        for other in base.versions_of(manifest.name):
            model = other.model
            if (
                model
                and model.name == manifest.name
                and model.stage == manifest.stage
                and model.version != manifest.version
            ):
                rivals.append((f"{model.ref}, in {model.stage} on the base", f"{model.ref} in {model.stage}", model))
    if not rivals:
        raise Skip("nothing to compare with at the base")
    shown = []
    for index, (label, short, rival) in enumerate(rivals):
        found = compare_metrics(manifest, rival, label, params.metric, params.goal, params.tolerance)
        # The table compares with the last rival (the version replaced, else the base) and
        # keeps every failed comparison with another.
        shown += _table(manifest, rival, short, found, everything=index == len(rivals) - 1)
        for comparison in found:
            if comparison.problem is not None:
                yield Fail(
                    comparison.problem, at=f"metrics.{comparison.metric}" if comparison.mine is not None else "metrics"
                )
    audit.compared(doc.path, shown)


def _table(
    candidate: Manifest, rival: Manifest, label: str, found: list[MetricComparison], everything: bool
) -> list[MetricRow]:
    """Table rows for the comparisons ``found`` (failed ones only unless ``everything``), and
    with ``everything`` the metrics no comparison judged, for context."""
    from modelgate.datamodel.results import MetricRow

    rows = [
        MetricRow(
            c.metric,
            c.mine,
            c.theirs,
            _goal(c.goal),
            label,
            c.tolerance,
            "failed" if c.problem else "passed",
            c.problem,
        )
        for c in found
        if everything or c.problem is not None
    ]
    if everything:
        judged = {c.metric for c in found}
        for name in sorted((set(candidate.metrics) | set(rival.metrics)) - judged):
            mine, theirs = candidate.metrics.get(name), rival.metrics.get(name)
            goal = (theirs.goal if theirs else None) or (mine.goal if mine else None)
            rows.append(MetricRow(name, mine.value if mine else None, theirs.value if theirs else None, goal, label))
    return sorted(rows, key=lambda row: row.name)


def _goal(goal: str | None) -> Literal["maximize", "minimize"] | None:
    return "maximize" if goal == "maximize" else "minimize" if goal == "minimize" else None


@record
class MetricComparison:
    """One metric of a candidate compared with one version, on that version's terms."""

    metric: str
    rival: str  # how the version compared with is named, "the base (fraud-detector@1.4.0)"
    goal: str | None  # what it was compared by: the policy's goal, else the rival's
    mine: float | None  # None: the candidate lacks the metric
    theirs: float | None
    tolerance: float
    problem: str | None  # why the rule fails on it; None: it passes


def compare_metrics(
    candidate: Manifest,
    rival: Manifest,
    label: str,
    metric: str | None = None,
    goal: str | None = None,
    tolerance: float = 0.0,
) -> list[MetricComparison]:
    """Every comparison ``no-metric-regression`` makes between ``candidate`` and ``rival``.

    The rival sets the terms: which metrics (``metric``, else each of the rival's with a
    goal) and each one's goal (``goal`` from the policy, else the rival's). The candidate's
    goals only count against it: a goal that differs from the rival's is a problem, since
    the rival's goal would otherwise change in the next comparison with this version.
    """
    names = [metric] if metric is not None else sorted(n for n, m in rival.metrics.items() if m.goal is not None)
    found = []
    for name in names:
        mine, theirs = candidate.metrics.get(name), rival.metrics.get(name)
        by = goal or (theirs.goal if theirs else None)
        problem = None
        if mine is None:
            problem = f"metric {name!r} is missing, so it cannot be compared with {label}"
        elif theirs is None:
            pass  # the rival never measured it: nothing to regress from
        elif by is None:
            problem = (
                f"metric {name!r} has no goal (maximize|minimize) in {label} to compare by;"
                f" name it in the policy (with: {{metric: {name}, goal: ...}})"
            )
        else:
            worse = theirs.value - mine.value if by == "maximize" else mine.value - theirs.value
            problems = []
            if worse > tolerance:
                problems.append(
                    f"{name} regressed: {mine.value:g} vs {theirs.value:g} in {label} ({by}, tolerance {tolerance:g})"
                )
            if goal is None and mine.goal != theirs.goal:
                # Said even when the values pass: once merged, these terms would be the rival's.
                subject, where = ("its", "there") if problems else (f"{name}: its", f"in {label}")
                problems.append(
                    f"{subject} goal is {mine.goal or 'none'} here but {theirs.goal} {where},"
                    " and the version compared with sets the terms"
                )
            problem = "; ".join(problems) or None
        found.append(
            MetricComparison(
                name, label, by, mine.value if mine else None, theirs.value if theirs else None, tolerance, problem
            )
        )
    return found
