"""GitHub workflow-command annotations, on standard output when GITHUB_ACTIONS=true.

``::error file=...,line=...,col=...,title=...::message`` for each failure and
``::warning`` for each warning, escaped per the runner's rules. GitHub shows at most 10
of each per step; beyond that one notice points to the full reports.
"""

from __future__ import annotations

import argparse
import os
from typing import TextIO

from modelgate.escaping import github_data, github_property
from modelgate.hookspecs import hookimpl
from modelgate.reporters import Reporter
from modelgate.results import Result, Summary

PER_LEVEL = 10


def annotation(result: Result) -> str:
    level = "warning" if result.is_warning else "error"
    loc = result.location
    props = ",".join(
        f"{key}={github_property(str(value))}"
        for key, value in (("file", loc.path), ("line", loc.line), ("col", loc.column),
                           ("title", f"{result.check} {result.name} ({result.model})"))
    )
    hint = f"\nhint: {result.hint}" if result.hint else ""
    return f"::{level} {props}::{github_data(result.message + hint)}"


def write(summary: Summary, stream: TextIO) -> None:
    shown = {"error": 0, "warning": 0}
    left = 0
    for result in summary.results:
        if result.outcome not in ("failed", "error"):
            continue
        level = "warning" if result.is_warning else "error"
        if shown[level] >= PER_LEVEL:
            left += 1
            continue
        shown[level] += 1
        stream.write(annotation(result) + "\n")
    if left:
        stream.write(f"::notice title=modelgate::{left} more finding(s) not annotated (GitHub shows"
                     f" {PER_LEVEL} per level); see the job summary and the report files\n")


@hookimpl
def modelgate_reporters(options: argparse.Namespace) -> list[Reporter]:
    on_actions = os.environ.get("GITHUB_ACTIONS") == "true"
    return [Reporter("github", write)] if on_actions else []
