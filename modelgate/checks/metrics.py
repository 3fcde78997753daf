"""MG3xx: the model is good enough, by the numbers it declares."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import field
from typing import TYPE_CHECKING, Annotated

from modelgate.checkapi.decorator import Fail, check
from modelgate.checks import DOCS
from modelgate.datamodel.records import record
from modelgate.datamodel.validation import Constraint, Strict

MODELGATE_DOCS = DOCS  # each check's section there is its SARIF helpUri

if TYPE_CHECKING:
    from modelgate.datamodel.manifest import Manifest


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
