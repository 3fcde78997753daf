"""The pytest-like terminal report: header, a mark per check, FAILURES, a summary line.

Plain text when the stream is not a terminal or ``NO_COLOR`` is set (``FORCE_COLOR`` and
``--color`` overrule both); rich (imported only then) for colour. Every string that came from a manifest goes through
``escaping.terminal``.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from typing import TextIO

from modelgate.datamodel.results import MetricRow, Result, Summary, tell_apart
from modelgate.escaping import terminal as esc
from modelgate.hookspecs import hookimpl
from modelgate.reporters import Reporter, ReportRequest

MARKS = {"passed": ".", "failed": "F", "waived": "x", "skipped": "s", "error": "E"}
STYLES = {"passed": "green", "failed": "red", "waived": "yellow", "skipped": "dim", "error": "red bold"}
WIDTH = 80

Line = list[tuple[str, str | None]]  # (text, rich style) segments


class TerminalReporter:
    def __init__(self, verbosity: int = 0, color: str = "auto") -> None:
        self.verbosity = verbosity
        self.color = color

    def use_color(self, stream: TextIO) -> bool:
        """``--color always|never``, else ``FORCE_COLOR``, else ``NO_COLOR``, else whether
        ``stream`` is a terminal (not ``TERM=dumb``). Each variable counts when set and not
        empty, whatever its value (force-color.org, no-color.org)."""
        if self.color != "auto":
            return self.color == "always"
        if os.environ.get("FORCE_COLOR"):
            return True
        if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
            return False
        return hasattr(stream, "isatty") and stream.isatty()

    def write(self, summary: Summary, stream: TextIO) -> None:
        lines = list(self.lines(summary))
        if not self.use_color(stream):
            for line in lines:
                stream.write("".join(text for text, _ in line) + "\n")
            return
        from rich.console import Console
        from rich.text import Text

        # The choice is made above: rich must not undo it from the environment (its own
        # NO_COLOR and TERM=dumb handling would drop the colours `--color always` asked for).
        console = Console(
            file=stream, force_terminal=True, no_color=False, color_system="standard", highlight=False, soft_wrap=True
        )
        for line in lines:
            text = Text()
            for segment, style in line:
                text.append(segment, style=style or "")
            console.print(text)

    def lines(self, summary: Summary) -> Iterator[Line]:
        if self.verbosity >= 0:
            yield from self._header(summary)
            yield from self._progress(summary)
        for notice in summary.notices:
            yield [("notice: ", "yellow"), (esc(notice), None)]
        problems = [r for r in summary.results if r.outcome in ("failed", "error")]
        if problems:
            yield _rule(" FAILURES ", "red")
            for result in problems:
                yield from self._failure(result)
        waived = [r for r in summary.results if r.outcome == "waived"]
        if waived and self.verbosity >= 0:
            yield _rule(" WAIVED ", "yellow")
            for r in waived:
                assert r.waiver is not None
                yield [(f"{r.check} {r.name} ", "bold"), (esc(f"{r.model}: {r.message}"), None)]
                yield [(esc(f"  waived until {r.waiver.expires} by {r.waiver.owner}: {r.waiver.reason}"), "yellow")]
        if self.verbosity >= 0:
            yield from self._metrics(summary)
            yield from self._readiness(summary)
        yield self._summary_line(summary)

    def _metrics(self, summary: Summary) -> Iterator[Line]:
        """What the regression rule judged: each candidate's metrics next to the version it
        was compared with, with the goal and tolerance it compared by. A comparison where
        nothing moved and nothing failed (every unchanged production model, on every run)
        is left to the Markdown and JSON reports: here it would bury the one that matters."""
        groups: dict[tuple[str, str], list[MetricRow]] = {}
        for info in summary.manifests:
            for row in info.metrics:
                if row.judged:
                    groups.setdefault((f"{info.name}@{info.version}", row.rival or "?"), []).append(row)
        groups = {
            key: rows
            for key, rows in groups.items()
            if any(row.outcome != "passed" or row.value != row.rival_value for row in rows)
        }
        if not groups:
            return
        yield _rule(" METRICS ", "bold")
        for (model, rival), rows in groups.items():
            yield [(esc(f"{model} against {rival}:"), "bold")]
            cells = [_metric_cells(row) for row in rows]
            widths = [max(len(c[i]) for c in cells) for i in range(len(cells[0]))]
            for row, cell in zip(rows, cells, strict=True):
                text = "  " + "  ".join(c.ljust(w) for c, w in zip(cell, widths, strict=True))
                verdict = {
                    "failed": f"FAILED ({row.check or 'the rule'})",
                    "waived": f"waived ({row.check})",
                    "passed": "passed",
                }[row.outcome or "passed"]
                yield [(esc(text) + "  ", None), (verdict, VERDICT_STYLES[row.outcome or "passed"])]

    def _readiness(self, summary: Summary) -> Iterator[Line]:
        """What the next stage will still ask (notices: they never fail the run)."""
        pending = [entry for entry in summary.readiness if entry.needs]
        if not pending:
            return
        yield _rule(" READINESS ", "cyan")
        for entry in pending:
            yield [(esc(f"{entry.model} at {entry.stage}: to reach {entry.target} this version still needs:"), "bold")]
            for r in entry.needs:
                warning = " (warning)" if r.severity == "warning" else ""
                yield [
                    (f"  - {r.check} {r.name}{warning}: ", "cyan"),
                    (esc(f"{r.message} ({r.location.path}:{r.location.line}:{r.location.column})"), None),
                ]
                if r.hint:
                    yield [(esc(f"      hint: {r.hint}"), "dim")]
            if entry.in_ci:
                checks = ", ".join(f"{c} {n}" for c, n in entry.in_ci)
                yield [(esc(f"  verified in CI at {entry.target}: {checks}"), "dim")]
            yield [(esc(f"  {entry.advice}"), None)]

    def _header(self, summary: Summary) -> Iterator[Line]:
        policies = ", ".join(p.path for p in summary.policies) or "none"
        base = summary.git.base[:12] if summary.git.base else "none"
        count = len(summary.manifests)
        yield _rule(" modelgate check ", "bold")
        yield [
            (
                esc(
                    f"modelgate {summary.tool_version} · {count} manifest{'s' * (count != 1)}"
                    f" · policy {policies} · base {base}"
                ),
                None,
            )
        ]

    def _progress(self, summary: Summary) -> Iterator[Line]:
        by_manifest: dict[str, list[Result]] = {}
        for result in summary.results:
            by_manifest.setdefault(result.manifest, []).append(result)
        for info in summary.manifests:
            results = by_manifest.get(info.path, [])
            if self.verbosity > 0:
                # Two lines naming one check say what tells them apart (its rule, the line).
                for r, apart in zip(results, tell_apart(results), strict=True):
                    shown = esc(f" [{apart}]") if apart else ""
                    outcome = "WARNING" if r.is_warning and not summary.strict else r.outcome.upper()
                    yield [
                        (esc(info.path) + f"::{r.check} {r.name}{shown} ", None),
                        (outcome, "yellow" if outcome == "WARNING" else STYLES[r.outcome]),
                    ]
                continue
            line: Line = [(esc(info.path) + " ", None)]
            line += [(MARKS[r.outcome] if not r.is_warning else "w", STYLES[r.outcome]) for r in results]
            if info.name:
                moved = info.base_stage and info.base_stage != info.stage
                stage = f"{info.base_stage} -> {info.stage}" if moved else info.stage
                if info.replaces:
                    stage = f"{stage}, edited in place of {info.replaces}"
                line.append((esc(f"  [{info.name}@{info.version} {stage}]"), "dim"))
            yield line

    def _failure(self, r: Result) -> Iterator[Line]:
        kind = "warning" if r.is_warning else ("crashed" if r.outcome == "error" else "failed")
        yield [
            (f"{r.check} {r.name}", "bold red" if kind != "warning" else "bold yellow"),
            (esc(f" ({kind}) · {r.model}"), None),
        ]
        yield [(esc(f"  {r.location.path}:{r.location.line}:{r.location.column}"), "cyan")]
        yield [(esc(f"  {r.message}"), None)]
        if r.hint:
            yield [(esc(f"  hint: {r.hint}"), "dim")]

    def _summary_line(self, summary: Summary) -> Line:
        warnings = sum(r.is_warning for r in summary.results)
        counts = summary.counts
        failed = counts["failed"] - (0 if summary.strict else warnings)
        parts = [
            f"{counts['passed']} passed",
            f"{failed} failed",
            f"{counts['waived']} waived",
            f"{counts['skipped']} skipped",
        ]
        if counts["error"]:
            parts.append(f"{counts['error']} error{'s' * (counts['error'] != 1)}")
        if warnings and not summary.strict:
            parts.append(f"{warnings} warning{'s' * (warnings != 1)}")
        if not summary.manifests:
            parts = ["no manifests found"]
        text = f" {', '.join(parts)} in {summary.duration:.2f}s "
        return _rule(text, "green bold" if summary.exit_code == 0 else "red bold")


VERDICT_STYLES = {"passed": "green", "failed": "red bold", "waived": "yellow"}


def _metric_cells(row: MetricRow) -> tuple[str, ...]:
    """name, "there -> here", the change, the goal, the tolerance: a table's cells."""

    def shown(value: float | None) -> str:
        return "missing" if value is None else f"{value:g}"

    change = f"{row.value - row.rival_value:+.4g}" if row.value is not None and row.rival_value is not None else ""
    tolerance = f"tolerance {row.tolerance:g}" if row.tolerance is not None else ""
    return (row.name, f"{shown(row.rival_value)} -> {shown(row.value)}", change, row.goal or "no goal", tolerance)


def _rule(title: str, style: str) -> Line:
    side = max(3, (WIDTH - len(title)) // 2)
    return [("=" * side + title + "=" * (WIDTH - side - len(title)), style)]


@hookimpl
def modelgate_addoption(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("terminal output")
    group.add_argument("-v", "--verbose", action="count", default=0, help="one line per check result")
    group.add_argument("-q", "--quiet", action="count", default=0, help="only failures and the summary")
    group.add_argument(
        "--color",
        choices=["auto", "always", "never"],
        default="auto",
        help="colour the output; beats FORCE_COLOR and NO_COLOR (auto: with FORCE_COLOR set,"
        " else on a terminal unless NO_COLOR is set)",
    )


@hookimpl
def modelgate_reporters(request: ReportRequest) -> list[Reporter]:
    verbosity = request.option("verbose", 0) - request.option("quiet", 0)
    reporter = TerminalReporter(verbosity, request.option("color", "auto"))
    return [Reporter("terminal", reporter.write)]
