"""What the summary says besides results: each manifest as the reports list it (with the
metric comparison a rule judged it by), the checks that ran, the CI context."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from modelgate.checkapi.decorator import Check
from modelgate.datamodel.manifest import Manifest, ManifestDoc
from modelgate.datamodel.results import CheckInfo, ManifestInfo, MetricRow, Result

CI_VARIABLES = (
    "GITHUB_REPOSITORY",
    "GITHUB_RUN_ID",
    "GITHUB_RUN_ATTEMPT",
    "GITHUB_ACTOR",
    "GITHUB_EVENT_NAME",
    "GITHUB_SHA",
    "GITHUB_REF",
    "GITHUB_WORKFLOW",
    "GITHUB_SERVER_URL",
)


def manifest_info(
    doc: ManifestDoc, base_doc: ManifestDoc | None, compared: Iterable[MetricRow], results: Iterable[Result]
) -> ManifestInfo:
    """``doc`` as the reports list it. ``compared``: the metric comparisons rules recorded
    for it (the rows the gate judged by, marked waived where a waiver excused the failure
    they caused); without any, its metrics next to the same manifest at the base."""
    model = doc.model
    base_model = base_doc.model if base_doc else None
    # A file edited in place into another version holds a new version: no stage moved.
    replaces = base_model.ref if model and base_model and base_model.version != model.version else None
    caused = {r.message: r for r in results if r.outcome in ("failed", "waived")}
    rows = tuple(_marked(row, caused.get(row.problem)) if row.problem is not None else row for row in compared)
    if model is not None and not rows:
        rows = _beside_base(model, base_model)
    return ManifestInfo(
        doc.path,
        model.name if model else None,
        model.version if model else None,
        model.stage if model else None,
        base_model.stage if base_model and not replaces else None,
        doc.sha256,
        rows,
        replaces,
    )


def _marked(row: MetricRow, result: Result | None) -> MetricRow:
    """A failed comparison marked as the reason for the result it caused (waived or not)."""
    if result is None:
        return row
    return replace(row, outcome="waived" if result.outcome == "waived" else row.outcome, check=result.check)


def _beside_base(model: Manifest, base: Manifest | None) -> tuple[MetricRow, ...]:
    """The metrics of ``model`` and of its base version, for context: no rule judged them."""
    before = base.metrics if base else {}
    label = f"{base.ref} at the base" if base else None
    rows = []
    for name in sorted(set(model.metrics) | set(before)):
        mine, theirs = model.metrics.get(name), before.get(name)
        goal = (theirs.goal if theirs else None) or (mine.goal if mine else None)
        rows.append(MetricRow(name, mine.value if mine else None, theirs.value if theirs else None, goal, label))
    return tuple(rows)


def check_infos(checks: Iterable[Check], results: Iterable[Result]) -> tuple[CheckInfo, ...]:
    ran = {r.check for r in results}
    return tuple(
        CheckInfo(c.id, c.name, c.summary, c.explain, c.hint, c.severity, c.plugin, c.help_uri)
        for c in sorted(checks, key=lambda c: c.id)
        if c.id in ran
    )
