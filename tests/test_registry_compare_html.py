"""``modelgate compare NAME --html FILE``: one self-contained page with the versions table
and a chart per metric, opened in a real headless browser (Debian's chromium), offline.

``python -m tests.test_registry_compare_html docs/compare.png`` regenerates the README's
screenshot from the same scenario.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import sys
import tempfile
from pathlib import Path

import pytest

from tests.browser import CHROMIUM, load, png_pixels
from tests.conftest import Repo, staging_fields
from tests.test_escaping import Elements
from tests.test_registry_compare import rollout

# Read at import: the autouse fixture clears MODELGATE_* and CI before each test runs.
BROWSER_REQUIRED = any(os.environ.get(name) for name in ("MODELGATE_REQUIRE_BROWSER", "CI", "GITHUB_ACTIONS"))

HOSTILE_STAGE = "<script>alert(1)</script>"
HOSTILE_METRIC = '"><img src=x onerror=alert(2)>'
HOSTILE_PARAM = "</td><script>alert(3)</script>"
HOSTILE_VALUE = "<iframe src=https://example.com>"
HOSTILE_PARENT = "fraud-detector@<svg/onload=alert(4)>"
ALLOWED_TAGS = {
    "html",
    "head",
    "meta",
    "title",
    "style",
    "body",
    "h1",
    "p",
    "section",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "abbr",
    "ul",
    "li",
    "span",
    "figure",
    "figcaption",
    "small",
    "svg",
    "rect",
    "line",
    "text",
    "polyline",
    "circle",
    "path",
}


def hostile(repo: Repo) -> None:
    """The rollout, plus a version whose every free-text field is markup."""
    rollout(repo)
    fields = staging_fields(
        version="2.0.0", stage=HOSTILE_STAGE, metrics={"auc": {"value": 0.89, "goal": "maximize"}, HOSTILE_METRIC: 1.0}
    )
    fields["lineage"] |= {"params": {HOSTILE_PARAM: HOSTILE_VALUE}, "parent": HOSTILE_PARENT}
    repo.manifest("models/fraud/2.0.0", **fields, artifact_bytes=b"2.0.0")


def page(repo: Repo) -> Path:
    result = repo.run("compare", "fraud-detector", "--html", "compare.html")
    assert result.returncode == 0, result.stderr
    return repo.root / "compare.html"


def test_page_is_self_contained_and_every_manifest_string_is_text(repo: Repo) -> None:
    hostile(repo)
    html = page(repo).read_text()
    parser = Elements()
    parser.feed(html)
    tags = [tag for tag, _ in parser.tags]
    assert set(tags) <= ALLOWED_TAGS, set(tags) - ALLOWED_TAGS  # no script, img, iframe, link, object...
    attributes = [(name, value or "") for _, attrs in parser.tags for name, value in attrs]
    assert not [a for a in attributes if a[0].startswith("on") or a[0] in ("src", "href", "srcset", "style")]
    assert [v for _, v in attributes if "://" in v] == ["http://www.w3.org/2000/svg"] * tags.count("svg")
    for text in (HOSTILE_STAGE, HOSTILE_METRIC, HOSTILE_PARAM, HOSTILE_VALUE, HOSTILE_PARENT):
        assert text in parser.text  # shown as the text it is
    assert tags.count("svg") == 4 and tags.count("style") == 1  # a chart per metric: auc, f1, latency, hostile
    # The policy allows the page's own style sheet and nothing else: no script, no fetch of any kind.
    style = re.search(r"<style>(.*?)</style>", html, re.S)
    assert style is not None
    digest = base64.b64encode(hashlib.sha256(style.group(1).encode()).digest()).decode()
    policy = [
        dict(attrs).get("content")
        for tag, attrs in parser.tags
        if tag == "meta" and dict(attrs).get("http-equiv") == "Content-Security-Policy"
    ]
    assert policy == [f"default-src 'none'; style-src 'sha256-{digest}'"]


def test_page_in_a_real_browser(repo: Repo, tmp_path: Path) -> None:
    if CHROMIUM is None:
        reason = "chromium is not installed (Debian: apt-get install chromium); .ci/run installs it"
        if BROWSER_REQUIRED:
            pytest.fail(f"{reason}, and this run requires the browser test (MODELGATE_REQUIRE_BROWSER or CI is set)")
        pytest.skip(reason)
    hostile(repo)
    html = page(repo)
    loaded = load(html, tmp_path / "profile", ["table", "figure svg"])
    # Offline (no host name resolves) it asks for nothing but itself, and says nothing wrong:
    # no console error or warning, no exception, no blocked script, style or resource.
    assert loaded.requests == [html.as_uri()]
    assert loaded.problems == []
    [table] = loaded.boxes["table"]
    charts = loaded.boxes["figure svg"]
    assert len(charts) == 4  # one per metric
    width, height, rows = png_pixels(loaded.png)
    assert (width, height) == (1200, 900)
    # The table (scrolled sideways where it is wider than the page) and the first row of charts
    # are on screen, and drawn: the table's header colour fills its top, auc's chart (metrics in
    # name order: the hostile one, auc, f1, latency_ms) has its line and points, the production
    # point and the rollback mark.
    table, chart = _on_screen(table, width, height), _on_screen(charts[1], width, height)
    assert chart == charts[1]  # whole
    assert _count(rows, table, (0x1E, 0x3A, 0x5F)) > table["width"] * 10  # header row: white text on navy
    assert _count(rows, chart, (0x25, 0x63, 0xEB)) > 60  # the line and points
    assert _count(rows, chart, (0x16, 0xA3, 0x4A)) > 60  # the production point
    assert _count(rows, chart, (0xEA, 0x58, 0x0C)) > 10  # rollback


def _on_screen(box: dict[str, float], width: int, height: int) -> dict[str, float]:
    """The part of ``box`` inside the viewport, which must hold its top left corner and all its height."""
    assert 0 <= box["x"] < width and box["y"] >= 0 and box["y"] + box["height"] <= height, box
    return {**box, "width": min(box["width"], width - box["x"])}


def _count(rows: list[bytes], box: dict[str, float], colour: tuple[int, int, int]) -> int:
    """Pixels of exactly ``colour`` inside ``box`` of the screenshot."""
    wanted = bytes(colour)
    left, right = int(box["x"]), int(box["x"] + box["width"])
    found = 0
    for row in rows[int(box["y"]) : int(box["y"] + box["height"])]:
        found += sum(1 for x in range(left, right) if row[3 * x : 3 * x + 3] == wanted)
    return found


def screenshot(target: Path) -> None:
    """The README's picture: the rollout, in a scratch repository, in headless chromium."""
    with tempfile.TemporaryDirectory() as scratch:
        home = Path(scratch) / "home"
        home.mkdir()
        os.environ.update(
            HOME=str(home),
            GIT_CONFIG_GLOBAL=str(home / ".gitconfig"),
            GIT_CONFIG_NOSYSTEM="1",
            GIT_AUTHOR_NAME="Ana",
            GIT_AUTHOR_EMAIL="ana@acme.io",
            GIT_COMMITTER_NAME="Ana",
            GIT_COMMITTER_EMAIL="ana@acme.io",
            NO_COLOR="1",
        )
        repo = Repo(Path(scratch) / "repo")
        repo.root.mkdir()
        repo.git("init", "-q", "-b", "main")
        rollout(repo)
        target.write_bytes(load(page(repo), Path(scratch) / "profile", []).png)


if __name__ == "__main__":
    screenshot(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/compare.png"))
