"""``modelgate compare NAME``: every version of a model side by side.

One frozen record per version (stage, the date it was added, parent, metrics, params)
from the registry at the work tree or a ref, with dates, production spells and rollbacks
from the git history. Each metric's best version is marked by the metric's goal when the
versions that declare one agree; where they disagree or none declares one, no version is
marked best (a guess would be a claim). Params are shown where the versions differ.

The renderers here are the terminal table, Markdown and JSON; the HTML page with a chart
per metric is :mod:`modelgate.registry.compare_html`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from modelgate.datamodel.records import record
from modelgate.escaping import markdown as md
from modelgate.escaping import terminal as esc

if TYPE_CHECKING:
    from modelgate.registry.history import Step
    from modelgate.registry.resolve import Registry

PRODUCTION = "production"
ARCHIVED = "archived"


@record
class Version:
    """One version as the comparison shows it."""

    version: str
    stage: str
    date: str | None  # UTC ISO 8601, when the version was added; None: not committed
    parent: str | None
    aliases: tuple[str, ...]
    manifest: str
    metrics: dict[str, float]
    params: dict[str, Any]  # flattened: {"train.lr": 0.1}
    was_production: bool  # in production now or at any commit of the history
    rollbacks: tuple[str, ...]  # dates it went back to production from archived

    @property
    def production(self) -> bool:
        return self.stage == PRODUCTION


@record
class ComparedMetric:
    name: str
    goal: str | None  # "maximize", "minimize", or None: no goal declared, or goals disagree
    goals: tuple[str, ...]  # every goal the versions declare
    best: tuple[str, ...]  # the versions with the best value (ties: all of them)

    @property
    def note(self) -> str:
        if len(self.goals) > 1:
            return "goals disagree: " + " vs ".join(self.goals)
        return "" if self.goal else "no goal declared"


@record
class VersionComparison:
    name: str
    ref: str | None  # as given; None: the work tree
    commit: str | None
    versions: tuple[Version, ...]  # lowest SemVer first
    metrics: tuple[ComparedMetric, ...]
    params: tuple[str, ...]  # the flattened params whose values differ between versions

    def is_best(self, metric: str, version: str) -> bool:
        return any(m.name == metric and version in m.best for m in self.metrics)

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.name,
            "ref": self.ref,
            "commit": self.commit,
            "metrics": [
                {"name": m.name, "goal": m.goal, "best": list(m.best), "note": m.note or None} for m in self.metrics
            ],
            "params_differ": list(self.params),
            "versions": [
                {
                    "version": v.version,
                    "stage": v.stage,
                    "date": v.date,
                    "parent": v.parent,
                    "aliases": list(v.aliases),
                    "manifest": v.manifest,
                    "production": v.production,
                    "was_production": v.was_production,
                    "rollbacks": list(v.rollbacks),
                    "metrics": {
                        m.name: {"value": v.metrics[m.name], "best": v.version in m.best}
                        for m in self.metrics
                        if m.name in v.metrics
                    },
                    "params": {p: v.params[p] for p in self.params if p in v.params},
                }
                for v in self.versions
            ],
        }


def build(registry: Registry, name: str, ref: str | None, history: list[Step]) -> VersionComparison:
    """The comparison of every version of ``name`` in ``registry``; ``history`` is the
    model's stage timeline (``registry.history.steps``) up to the commit compared."""
    from modelgate.interop import flatten

    entries = registry.versions(name)
    rows = []
    for entry in entries:
        model = entry.model
        mine = [s for s in history if s.version == entry.version]
        added = [s.date for s in mine if s.from_stage == "(new)"]
        lineage = model.lineage
        rows.append(
            Version(
                version=entry.version,
                stage=entry.stage,
                date=added[-1] if added else None,
                parent=lineage.parent if lineage else None,
                aliases=entry.aliases,
                manifest=entry.manifest_relpath,
                metrics={key: metric.value for key, metric in model.metrics.items()},
                params=flatten(lineage.params or {}) if lineage else {},
                was_production=entry.stage == PRODUCTION or any(s.to_stage == PRODUCTION for s in mine),
                rollbacks=tuple(s.date for s in mine if (s.from_stage, s.to_stage) == (ARCHIVED, PRODUCTION)),
            )
        )
    metrics = tuple(_metric(key, entries, rows) for key in sorted({k for r in rows for k in r.metrics}))
    return VersionComparison(name, ref, registry.commit, tuple(rows), metrics, _differing(rows))


def _metric(key: str, entries: list[Any], rows: list[Version]) -> ComparedMetric:
    goals = tuple(sorted({g for e in entries if (g := _goal(e.model.metrics.get(key))) is not None}))
    goal = goals[0] if len(goals) == 1 else None
    values = {r.version: r.metrics[key] for r in rows if key in r.metrics}
    if goal is None or not values:
        return ComparedMetric(key, goal, goals, ())
    top = max(values.values()) if goal == "maximize" else min(values.values())
    return ComparedMetric(key, goal, goals, tuple(v for v, value in values.items() if value == top))


def _goal(metric: Any) -> str | None:
    return None if metric is None else metric.goal


_MISSING = object()


def _differing(rows: list[Version]) -> tuple[str, ...]:
    keys = sorted({k for r in rows for k in r.params})
    return tuple(k for k in keys if any(r.params.get(k, _MISSING) != rows[0].params.get(k, _MISSING) for r in rows))


# -- renderers: terminal, Markdown, JSON ------------------------------------------------


def shown(value: Any) -> str:
    """A param or metric value as text: numbers as Python writes them, strings as they are."""
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return f"{value:.6g}"
    return json.dumps(value, ensure_ascii=False)


def where(c: VersionComparison) -> str:
    """ "5 versions at v2 (0123456789ab)" or "... in the work tree"."""
    at = f"at {c.ref} ({c.commit[:12]})" if c.ref is not None and c.commit else "in the work tree"
    return f"{len(c.versions)} version{'s' if len(c.versions) != 1 else ''} {at}"


def heading(c: VersionComparison) -> str:
    return f"{c.name}: {where(c)}"


def metric_header(m: ComparedMetric) -> str:
    return f"{m.name} ({'max' if m.goal == 'maximize' else 'min' if m.goal == 'minimize' else '?'})"


def notes(v: Version) -> str:
    parts = [f"rollback {d[:10]}" for d in v.rollbacks]
    if v.was_production and not v.production:
        parts.append("was in production")
    return ", ".join(parts)


def cells(c: VersionComparison, v: Version) -> list[tuple[str, bool]]:
    """One table row, each cell with whether it is a best value: version, stage, date,
    parent, metrics, the params that differ, notes."""
    row = [v.version, v.stage, v.date[:10] if v.date else "uncommitted", v.parent or "-"]
    found = [(cell, False) for cell in row]
    found += [(shown(v.metrics.get(m.name)), v.version in m.best) for m in c.metrics]
    found += [(shown(v.params.get(p)), False) for p in c.params]
    return [*found, (notes(v), False)]


def header(c: VersionComparison) -> list[str]:
    return ["version", "stage", "date", "parent", *map(metric_header, c.metrics), *c.params, "notes"]


def legend(c: VersionComparison) -> list[str]:
    lines = ["* best by the metric's goal (max: higher is better, min: lower is better)"]
    lines += [f"{m.name}: {m.note}, no best marked" for m in c.metrics if m.note]
    return lines


def render_text(c: VersionComparison) -> str:
    rows = [[esc(cell) for cell in header(c)]]
    rows += [[esc(cell) + ("*" if best else "") for cell, best in cells(c, v)] for v in c.versions]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [esc(heading(c))]
    lines += ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    return "\n".join([*lines, *map(esc, legend(c))]) + "\n"


def render_markdown(c: VersionComparison) -> str:
    lines = [
        f"### {md(heading(c))}",
        "",
        "| " + " | ".join(md(h) for h in header(c)) + " |",
        "|" + "---|" * len(header(c)),
    ]
    for v in c.versions:
        lines.append(
            "| " + " | ".join(f"**{md(cell)}** (best)" if best else md(cell) for cell, best in cells(c, v)) + " |"
        )
    return "\n".join([*lines, "", *("- " + md(line) for line in legend(c)[1:])]).rstrip("\n") + "\n"


def render_json(c: VersionComparison) -> str:
    return json.dumps(c.to_json(), indent=2) + "\n"
