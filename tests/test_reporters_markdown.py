"""The Markdown report as GitHub shows it: rendered by cmark-gfm (GitHub's own Markdown
engine, with its table, autolink and tagfilter extensions), then read back as text."""

from __future__ import annotations

import html
import json
import re

import cmarkgfm
from cmarkgfm.cmark import Options

from modelgate.datamodel.results import Location, ManifestInfo, Result, Summary
from modelgate.reporters import audit, markdown
from tests.conftest import Repo, production_fields


def gfm(text: str) -> str:
    """HTML as GitHub renders the Markdown (raw HTML let through, so that any would show)."""
    return cmarkgfm.github_flavored_markdown_to_html(text, options=Options.CMARK_OPT_UNSAFE)


def shown(rendered: str) -> str:
    """The text a reader sees and copies."""
    return html.unescape(re.sub(r"<[^>]+>", "", rendered))


def test_copying_name_at_version_gives_exactly_it(repo: Repo) -> None:
    repo.manifest("m", **production_fields(metrics={"auc": {"value": 0.5, "goal": "maximize"}}))
    (repo.root / "m" / "model.bin").write_bytes(b"tampered")
    proc = repo.run("check", "--markdown", "-")
    assert proc.returncode == 1
    text = proc.stdout
    assert "\u200b" not in text  # no invisible character anywhere
    rendered = gfm(text)
    assert "<a " not in rendered  # GFM autolinks name@version as an email outside code
    assert rendered.count("<code>fraud-detector@1.0.0</code>") >= 2  # the metrics row and each failure
    assert "fraud-detector@1.0.0" in shown(rendered)
    assert "<code>m/modelgate.yaml:" in rendered  # where, as code: copied as it is


def test_inline_code_in_hints_and_messages_renders_as_code(repo: Repo) -> None:
    repo.write("bad/modelgate.yaml", "apiVersion: modelgate/v1\nkind: Model\nname: [unclosed\n")
    proc = repo.run("check", "--markdown", "-")
    assert proc.returncode == 1
    rendered = gfm(proc.stdout)
    assert "<code>modelgate schema manifest</code>" in rendered  # MG001's hint
    assert "`" not in shown(rendered)  # no backtick shown literally


def test_an_invalid_manifest_shows_its_path(repo: Repo) -> None:
    repo.manifest("good")
    repo.commit("good")
    repo.write("bad/modelgate.yaml", "apiVersion: modelgate/v1\nkind: Model\n")
    audit_file = repo.root.parent / "audit.json"
    proc = repo.run("check", "--markdown", "-", "--audit", str(audit_file))
    assert proc.returncode == 1
    for text in (proc.stdout, audit.render_markdown(json.loads(audit_file.read_text()))):
        assert "None" not in text, text
        assert "<code>bad/modelgate.yaml</code>" in gfm(text)
    row = [line for line in proc.stdout.splitlines() if "bad/modelgate.yaml" in line and line.startswith("|")]
    assert len(row) == 1 and re.fullmatch(r"\| `bad/modelgate.yaml` \| \? \| \? \| ❌ \d+ failed \|", row[0]), row


HOSTILE = (
    "ping @acme/ml-leads and @octocat, mail ana@acme.io, see #12 and https://evil.example/x or"
    " www.evil.example, <img src=x onerror=alert(1)> [link](http://x) | cell `code | pipe` **bold**"
)


def test_manifest_text_never_mentions_links_or_breaks_a_table() -> None:
    path = "m/modelgate.yaml"
    bad = Result(
        "MG601", "owners", "failed", "error", path, "fraud-detector@1.0.0", HOSTILE, Location(path, 1, 1), hint=HOSTILE
    )
    info = ManifestInfo(path, HOSTILE, "1.0.0", "staging", None, "0" * 64)
    text = markdown.render(Summary("0.1.0", (bad,), (info,), ()))
    rendered = gfm(text)
    assert "<a " not in rendered and "<img" not in rendered and "<strong>bold" not in rendered
    table = rendered.split("<tbody>")[1].split("</tbody>")[0]
    assert table.count("<td") == 4  # one row, four cells: the pipes did not split it
    assert HOSTILE.replace("`", "") in shown(rendered)  # the message as written, code span aside
    assert "<code>code </code>|<code> pipe</code>" in rendered  # the span, split around the pipe it holds
    for mention in ("@acme/ml-leads", "@octocat", "ana@acme.io", "#12", "https://evil.example/x", "www.evil.example"):
        assert f"<code>{mention}" in rendered, mention  # in a code span: GitHub neither links nor notifies
