"""``--markdown FILE``: the pull-request view (also the GitHub step summary).

Verdict, one row per model with its stage move, the metric comparison with the version
each is judged against (the "compare versions" dashboard: the numbers, goals and tolerance
the regression rule used, the failed comparison marked as the reason), failures with hints,
waivers, readiness (what the next stage still needs) and notices. Every string from a
manifest goes through ``escaping.markdown`` (text) or ``escaping.code`` (names, versions,
paths: shown as code, so that copying ``name@version`` gives exactly that). Capped below GitHub's 1 MiB step
summary limit; the full report stays in the other report files.
"""

from __future__ import annotations

import argparse
from typing import TextIO

from modelgate.datamodel.results import ManifestInfo, MetricRow, Result, Summary
from modelgate.escaping import code
from modelgate.escaping import markdown as md
from modelgate.hookspecs import hookimpl
from modelgate.reporters import Reporter, ReportRequest

LIMIT = 1024 * 1024 - 4096  # GitHub refuses step summaries over 1 MiB
TRUNCATED = "\n\n_… truncated to fit GitHub's 1 MiB summary limit; the JSON, SARIF and audit reports are complete._\n"


def render(summary: Summary) -> str:
    counts = summary.counts
    verdict = "✅ pass" if summary.verdict == "pass" else "❌ fail"
    lines = [f"## modelgate: {verdict}", ""]
    tally = ", ".join(f"{counts[k]} {k}" for k in ("passed", "failed", "waived", "skipped", "error") if counts[k])
    base = f" · base `{summary.git.base[:12]}`" if summary.git.base else " · no base"
    lines += [f"{tally or 'no results'}{base} · {len(summary.manifests)} manifest(s)", ""]
    by_manifest: dict[str, list[Result]] = {}
    for result in summary.results:
        by_manifest.setdefault(result.manifest, []).append(result)
    if summary.manifests:
        lines += ["| model | version | stage | result |", "|---|---|---|---|"]
        for info in summary.manifests:
            lines.append(_model_row(info, by_manifest.get(info.path, [])))
        lines.append("")
    metric_rows = [(info, row) for info in summary.manifests for row in info.metrics]
    if metric_rows:
        lines += [
            "### Metrics: each version against the one it is judged against",
            "",
            "| model | metric | against | there | here | Δ | goal | tolerance | |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        lines += [_metric_row(info, row) for info, row in metric_rows]
        lines.append("")
    failures = [r for r in summary.results if r.outcome in ("failed", "error")]
    if failures:
        lines += ["### Failures", ""]
        for r in failures:
            kind = " (warning)" if r.is_warning else (" (crashed)" if r.outcome == "error" else "")
            where = f"{r.location.path}:{r.location.line}:{r.location.column}"
            lines.append(f"- **{md(r.check)} {md(r.name)}**{kind} · {code(r.model)} · {code(where)}\\")
            lines.append(f"  {md(r.message)}" + (f"\\\n  _hint:_ {md(r.hint)}" if r.hint else ""))
        lines.append("")
    waived = [r for r in summary.results if r.outcome == "waived" and r.waiver]
    if waived:
        lines += ["### Waived", ""]
        for r in waived:
            assert r.waiver is not None
            lines.append(f"- **{md(r.check)} {md(r.name)}** · {code(r.model)}: {md(r.message)}\\")
            lines.append(f"  waived until {md(r.waiver.expires)} by {md(r.waiver.owner)}: {md(r.waiver.reason)}")
        lines.append("")
    pending = [entry for entry in summary.readiness if entry.needs]
    if pending:
        lines += [
            "### Readiness",
            "",
            "_Notices, not failures: what the next stage will ask, to add while the version can still change._",
            "",
        ]
        for entry in pending:
            lines.append(
                f"- **{code(entry.model)}** at {md(entry.stage)}: to reach **{md(entry.target)}** this"
                " version still needs:"
            )
            for r in entry.needs:
                where = f"{r.location.path}:{r.location.line}:{r.location.column}"
                warning = " (warning)" if r.severity == "warning" else ""
                lines.append(
                    f"  - **{md(r.check)} {md(r.name)}**{warning} · {code(where)}: {md(r.message)}"
                    + (f" · _{md(r.hint)}_" if r.hint else "")
                )
            if entry.in_ci:
                checks = ", ".join(f"{md(c)} {md(n)}" for c, n in entry.in_ci)
                lines.append(f"  - verified in CI at {md(entry.target)}: {checks}")
            lines.append(f"  - {md(entry.advice)}")
        lines.append("")
    if summary.notices:
        lines += ["### Notices", ""] + [f"- {md(n)}" for n in summary.notices] + [""]
    return _cap("\n".join(lines) + "\n")


def _model_row(info: ManifestInfo, results: list[Result]) -> str:
    stage = md(info.stage or "?")
    if info.base_stage and info.base_stage != info.stage:
        stage = f"{md(info.base_stage)} → {stage}"
    if info.replaces:
        stage += f" (edited in place of {md(info.replaces)})"
    failed = sum(r.fails or r.is_warning for r in results)
    status = f"❌ {failed} failed" if failed else "✅ passed"
    # An invalid manifest has no name or version to show: its path says which file it is.
    name = code(info.name) if info.name else code(info.path)
    return f"| {name} | {code(info.version) if info.version else '?'} | {stage} | {status} |"


def _metric_row(info: ManifestInfo, row: MetricRow) -> str:
    def shown(value: float | None) -> str:
        return "—" if value is None else f"{value:g}"

    delta, arrow, mark = "", "", ""
    if row.value is not None and row.rival_value is not None:
        diff = row.value - row.rival_value
        delta = f"{diff:+.4g}"
        arrow = "↑" if diff > 0 else ("↓" if diff < 0 else "→")
        if row.goal is None or diff == 0:
            mark = "⚪"
        else:
            better = diff > 0 if row.goal == "maximize" else diff < 0
            mark = "🟢 better" if better else "🔴 worse"
    if row.outcome == "failed":
        mark = f"❌ **fails {md(row.check or 'the rule')}**: {md(row.problem or '')}"
    elif row.outcome == "waived":
        mark = f"⚠️ waived ({md(row.check or 'the rule')}): {md(row.problem or '')}"
    elif row.outcome == "passed":
        mark = f"✅ {mark}".rstrip()
    model = code(f"{info.name}@{info.version}")
    tolerance = "" if row.tolerance is None else f"{row.tolerance:g}"
    values = f"{shown(row.rival_value)} | {shown(row.value)} | {delta} {arrow}"
    return (
        f"| {model} | {md(row.name)} | {md(row.rival or '—')} | {values} | {md(row.goal or '')} | {tolerance}"
        f" | {mark} |"
    )


def _cap(text: str) -> str:
    data = text.encode("utf-8")
    if len(data) <= LIMIT:
        return text
    cut = data[: LIMIT - len(TRUNCATED.encode())].decode("utf-8", "ignore")
    return cut[: cut.rfind("\n")] + TRUNCATED


def write(summary: Summary, stream: TextIO) -> None:
    stream.write(render(summary))


@hookimpl
def modelgate_addoption(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--markdown",
        metavar="FILE",
        dest="markdown_report",
        help="write the Markdown report (the pull-request summary) to FILE (`-`: standard output)",
    )


@hookimpl
def modelgate_reporters(request: ReportRequest) -> list[Reporter]:
    return [Reporter("markdown", write, request.option("markdown_report"))] if request.option("markdown_report") else []
