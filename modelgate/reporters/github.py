"""GitHub workflow-command annotations, on standard output when GITHUB_ACTIONS=true.

``::error file=...,line=...,col=...,title=...::message`` for each failure,
``::warning`` for each warning and ``::notice`` for each waived failure (with the waiver's
reason and owner), escaped per the runner's rules. GitHub shows at most 10 of each per
step; beyond that one notice points to the full reports.
"""

from __future__ import annotations

from typing import TextIO

from modelgate.datamodel.results import Result, Summary
from modelgate.escaping import github_data, github_property
from modelgate.hookspecs import hookimpl
from modelgate.reporters import Reporter, ReportRequest

PER_LEVEL = 10


def _level(result: Result) -> str:
    if result.outcome == "waived":
        return "notice"
    return "warning" if result.is_warning else "error"


def annotation(result: Result) -> str:
    level = _level(result)
    loc = result.location
    waived = " waived" if result.outcome == "waived" else ""
    props = ",".join(
        f"{key}={github_property(str(value))}"
        for key, value in (
            ("file", loc.path),
            ("line", loc.line),
            ("col", loc.column),
            ("title", f"{result.check} {result.name} ({result.model}){waived}"),
        )
    )
    if result.waiver is not None:
        w = result.waiver
        extra = f"\nwaived until {w.expires} by {w.owner}: {w.reason}"
    else:
        extra = f"\nhint: {result.hint}" if result.hint else ""
    return f"::{level} {props}::{github_data(result.message + extra)}"


def write(summary: Summary, stream: TextIO) -> None:
    shown = {"error": 0, "warning": 0, "notice": 0}
    left = 0
    for result in summary.results:
        if result.outcome not in ("failed", "error", "waived"):
            continue
        level = _level(result)
        if shown[level] >= PER_LEVEL:
            left += 1
            continue
        shown[level] += 1
        stream.write(annotation(result) + "\n")
    if left:
        stream.write(
            f"::notice title=modelgate::{left} more finding(s) not annotated (GitHub shows"
            f" {PER_LEVEL} per level); see the job summary and the report files\n"
        )


@hookimpl
def modelgate_reporters(request: ReportRequest) -> list[Reporter]:
    on_actions = request.env.get("GITHUB_ACTIONS") == "true"
    return [Reporter("github", write)] if on_actions else []
