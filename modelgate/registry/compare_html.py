"""``modelgate compare NAME --html FILE``: one self-contained page, the versions table and
a chart per metric across versions.

The page fetches nothing and runs nothing: no script, no external asset, inline SVG
charts, and a Content-Security-Policy that allows only its own style sheet (by hash), so
even a string that escaped escaping could neither load nor run anything. Every string
from a manifest goes through :func:`modelgate.escaping.html`; numbers in the SVG are
coordinates this module computes.
"""

from __future__ import annotations

import base64
import hashlib
from typing import TYPE_CHECKING

from modelgate.escaping import html as h
from modelgate.registry.compare import cells, header, legend, shown, where

if TYPE_CHECKING:
    from modelgate.registry.compare import ComparedMetric, Version, VersionComparison

# Fixed sizes: the page looks the same everywhere (and a screenshot test knows where to look).
WIDTH, PLOT_HEIGHT = 560, 164
LEFT, RIGHT, TOP = 64, 20, 30
INSET = 40  # between the plot's sides and the first and last versions
LABEL_CHARS = 14  # longer version labels are cut, the full text is in the point's tooltip

STYLE = (
    """
body{margin:0;padding:24px;font:13px/1.4 "DejaVu Sans","Liberation Sans",Arial,sans-serif;color:#1e293b;
background:#fff}
h1{font-size:22px;margin:0 0 4px}
p.meta{margin:0 0 16px;color:#475569}
section.table{overflow-x:auto;margin-bottom:8px}
table{border-collapse:collapse;min-width:600px}
th,td{border:1px solid #cbd5e1;padding:4px 8px;text-align:left;white-space:nowrap}
th{background:#1e3a5f;color:#fff;font-weight:600}
tr.production td{background:#dcfce7}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td.best{font-weight:700}
abbr{text-decoration:none;color:#b45309}
ul.legend{margin:8px 0 20px;padding-left:20px;color:#475569}
section.charts{display:grid;grid-template-columns:repeat(2,"""
    + str(WIDTH)
    + """px);gap:16px}
figure{margin:0;border:1px solid #e2e8f0;padding:8px}
figcaption{font-weight:600;margin-bottom:4px}
svg text{font:11px "DejaVu Sans","Liberation Sans",Arial,sans-serif;fill:#334155}
svg .plot{fill:#f8fafc;stroke:#cbd5e1}
svg .grid{stroke:#e2e8f0}
svg .line{fill:none;stroke:#2563eb;stroke-width:2}
svg .point{fill:#2563eb}
svg .production{fill:#16a34a;stroke:#14532d;stroke-width:2}
svg .was-production{fill:#fff;stroke:#4ade80;stroke-width:2}
svg .rollback{fill:#ea580c}
svg .best{fill:none;stroke:#d97706;stroke-width:2}
svg text.tag{font-weight:700}
svg text.tag-production{fill:#15803d}
svg text.tag-rollback{fill:#c2410c}
span.production{color:#16a34a}
span.was-production{color:#4ade80}
span.rollback{color:#ea580c}
span.best{color:#d97706}
""".strip()
)


def render_html(c: VersionComparison, tool_version: str) -> str:
    digest = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
    charts = "\n".join(_chart(c, m) for m in c.metrics) or "<p>No metrics to chart.</p>"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'sha256-{digest}'">
<title>{h(c.name)}: versions compared</title>
<style>{STYLE}</style>
</head>
<body>
<h1>{h(c.name)}</h1>
<p class="meta">{h(where(c))} &middot; modelgate {h(tool_version)}</p>
<section class="table">
{_table(c)}
</section>
<ul class="legend">
<li><abbr title="best">&#9733;</abbr> best by the metric's goal; the production row is green;
a rollback is a return to production from archived</li>
<li>charts, lowest version left: <span class="production">&#9679;</span> production,
<span class="was-production">&#9675;</span> was in production, <span class="rollback">&#9650;</span> rollback,
<span class="best">&#9711;</span> best</li>
{"".join(f"<li>{h(line)}</li>" for line in legend(c)[1:])}
</ul>
<section class="charts">
{charts}
</section>
</body>
</html>
"""


def _table(c: VersionComparison) -> str:
    numeric = range(4, 4 + len(c.metrics))
    rows = [
        "<table>",
        "<thead><tr>" + "".join(f"<th>{h(name)}</th>" for name in header(c)) + "</tr></thead>",
        "<tbody>",
    ]
    for v in c.versions:
        tds = []
        for index, (text, best) in enumerate(cells(c, v)):
            kind = " ".join(k for k, on in (("num", index in numeric), ("best", best)) if on)
            mark = ' <abbr title="best">&#9733;</abbr>' if best else ""
            tds.append(f'<td class="{kind}">{h(text)}{mark}</td>' if kind else f"<td>{h(text)}{mark}</td>")
        row_class = ' class="production"' if v.production else ""
        rows.append(f"<tr{row_class}>{''.join(tds)}</tr>")
    return "\n".join([*rows, "</tbody>", "</table>"])


def _chart(c: VersionComparison, m: ComparedMetric) -> str:
    """A line across the versions that have the metric, lowest version left; production,
    past production, rollbacks and best values marked."""
    points = [(i, v) for i, v in enumerate(c.versions) if m.name in v.metrics]
    values = [v.metrics[m.name] for _, v in points]
    low, high = min(values), max(values)
    span = high - low or abs(high) * 0.1 or 1.0
    low, high = low - span * 0.1, high + span * 0.1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, PLOT_HEIGHT
    count = len(c.versions)
    slanted = count > 6  # labels turned so that long versions do not run into each other
    height = TOP + plot_h + (64 if slanted else 28)

    def x(index: int) -> float:  # inset, so that the first and last labels stay inside the chart
        return LEFT + (plot_w / 2 if count == 1 else INSET + (plot_w - 2 * INSET) * index / (count - 1))

    def y(value: float) -> float:
        return TOP + plot_h * (high - value) / (high - low)

    parts = [f'<rect class="plot" x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}"/>']
    for fraction in (0.0, 0.5, 1.0):
        tick = low + (high - low) * fraction
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y(tick):.1f}" y2="{y(tick):.1f}"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick:.4g}</text>')
    for index, v in enumerate(c.versions):
        label = v.version if len(v.version) <= LABEL_CHARS else v.version[: LABEL_CHARS - 1] + "\u2026"
        at = f'x="{x(index):.1f}" y="{TOP + plot_h + 16}"'
        turn = (
            f' transform="rotate(-30 {x(index):.1f} {TOP + plot_h + 16})" text-anchor="end"'
            if slanted
            else (' text-anchor="middle"')
        )
        parts.append(f"<text {at}{turn}>{h(label)}</text>")
    if len(points) > 1:
        line = " ".join(f"{x(i):.1f},{y(v.metrics[m.name]):.1f}" for i, v in points)
        parts.append(f'<polyline class="line" points="{line}"/>')
    for i, v in points:
        parts.append(_point(c, m, v, x(i), y(v.metrics[m.name])))
    goal = {"maximize": "higher is better", "minimize": "lower is better"}.get(m.goal or "", m.note)
    return (
        f'<figure class="chart">\n<figcaption>{h(m.name)} <small>({h(goal)})</small></figcaption>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}"'
        f' viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{h(m.name)} across versions">\n'
        + "\n".join(parts)
        + "\n</svg>\n</figure>"
    )


def _point(c: VersionComparison, m: ComparedMetric, v: Version, px: float, py: float) -> str:
    value = v.metrics[m.name]
    tip = f"{c.name}@{v.version} ({v.stage}): {m.name} = {shown(value)}"
    kind = "production" if v.production else "was-production" if v.was_production else "point"
    radius = 7 if v.production or v.was_production else 5
    shapes = [f'<circle class="{kind}" cx="{px:.1f}" cy="{py:.1f}" r="{radius}"><title>{h(tip)}</title></circle>']
    if v.version in m.best:
        shapes.append(f'<circle class="best" cx="{px:.1f}" cy="{py:.1f}" r="{radius + 4}"/>')
    tags = (["production"] if v.production else []) + (["rollback"] if v.rollbacks else [])
    for offset, tag in enumerate(tags):
        shapes.append(
            f'<text class="tag tag-{tag}" x="{px:.1f}" y="{py - 14 - 13 * offset:.1f}"'
            f' text-anchor="middle">{tag}</text>'
        )
    if v.rollbacks:
        shapes.append(f'<path class="rollback" d="M{px - 5:.1f},{py + 14:.1f} l5,-8 l5,8 z"/>')
    return "\n".join(shapes)
