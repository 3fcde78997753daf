"""README promises: the two commands at the top, .ci/run running the test one, the checks table,
and the terminal output it shows."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import MODELGATE, REPO

README = REPO / "README.md"
START, END = "<!-- checks:start -->", "<!-- checks:end -->"


def _commands() -> list[str]:
    return re.findall(r"```bash\n(.+?)\n```", README.read_text())[:2]


def test_two_commands_at_the_top() -> None:
    run, test = _commands()
    assert run.endswith("modelgate check examples/")
    assert "pip install" in run
    assert test.endswith("pytest") and "'.[test]'" in test
    head = README.read_text().split("## ")[0]
    assert run in head and test in head


def test_ci_runs_the_readme_test_command() -> None:
    assert _commands()[1] in (REPO / ".ci" / "run").read_text()


def checks_table() -> str:
    out = subprocess.run([MODELGATE, "list-checks"], capture_output=True, text=True, check=True).stdout
    rows = ["| id | name | runs | what it checks |", "|---|---|---|---|"]
    for line in out.splitlines():
        check_id, name, _severity, runs, summary = line.split(None, 4)
        if runs == "by":  # "by rule" is two words
            runs, summary = "by rule", summary.split(None, 1)[1]
        rows.append(f"| [{check_id}](docs/checks.md#{check_id.lower()}-{name}) | {name} | {runs} | {summary} |")
    return "\n".join(rows)


def checks_doc() -> str:
    """docs/checks.md: a section per check, from `modelgate explain`, headed so that GitHub
    anchors it as each check's SARIF helpUri says (`#mg102-artifact-hash`)."""
    out = subprocess.run([MODELGATE, "list-checks"], capture_output=True, text=True, check=True).stdout
    parts = [CHECKS_DOC_HEAD]
    for line in out.splitlines():
        check_id = line.split()[0]
        explained = (
            subprocess.run([MODELGATE, "explain", check_id], capture_output=True, text=True, check=True)
            .stdout.rstrip("\n")
            .split("\n")
        )
        heading = re.fullmatch(r"(\S+) (\S+) \((\w+); plugin (.+)\)", explained[0])
        assert heading, explained[0]
        _id, name, severity, plugin = heading.groups()
        body = "\n".join(explained[2:]).strip("\n")
        body = re.sub(r"^hint: (.*)$", r"**Hint:** \1", body, flags=re.M)
        parts.append(f"## {check_id} {name}\n\n{explained[1]} · severity: {severity} · plugin: {plugin}\n\n{body}\n")
    return "\n".join(parts)


CHECKS_DOC = REPO / "docs" / "checks.md"
CHECKS_DOC_HEAD = """\
# Checks

What each check of modelgate verifies, when it runs, and what to do when it fails: the
text of `modelgate explain ID`, one section per check. Code scanning links each SARIF
alert to its check's section here. This file is generated from the checks themselves
(`python -m tests.test_readme`); the test suite keeps the two in step.
"""


def test_checks_doc_matches_explain() -> None:
    assert CHECKS_DOC.read_text() == checks_doc(), "docs/checks.md is stale: run `python -m tests.test_readme`"


def test_checks_table_matches_list_checks() -> None:
    text = README.read_text()
    current = text[text.index(START) + len(START) : text.index(END)].strip()
    assert current == checks_table(), "README checks table is stale: run `python -m tests.test_readme`"


def _shown() -> list[str]:
    """The README's ```text blocks, with durations blanked."""
    return [_timeless(block) for block in re.findall(r"```text\n(.+?)\n```", README.read_text(), re.S)]


def _timeless(text: str) -> str:
    return re.sub(r" in \d+\.\d+s ", " in 0.00s ", text)


def test_the_output_shown_is_the_output_given(tmp_path: Path) -> None:
    first, swapped = _shown()[:2]
    command, _, shown = first.partition("\n")
    assert command == "$ modelgate check examples/"
    proc = subprocess.run([MODELGATE, "check", "--no-cache", "examples/"], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0 and _timeless(proc.stdout.rstrip("\n")) == shown
    # "After someone swaps the churn model's weights (modelgate check in a copy of examples/)"
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    (tmp_path / "examples" / "models" / "churn" / "model.json").write_text('{"weights": "swapped after review"}\n')
    proc = subprocess.run([MODELGATE, "check", "--no-cache"], cwd=tmp_path / "examples", capture_output=True, text=True)
    assert proc.returncode == 1
    assert _timeless(proc.stdout.rstrip("\n")).endswith(swapped)


if __name__ == "__main__":
    text = README.read_text()
    before, rest = text.split(START)
    README.write_text(before + START + "\n" + checks_table() + "\n" + END + rest.split(END)[1])
    CHECKS_DOC.write_text(checks_doc())
    sys.exit(0)


def test_layout_section_matches_the_package() -> None:
    """README's "How the code is laid out" names every subpackage and top-level module, and
    nothing that is not there."""
    text = README.read_text()
    block = text[text.index("<!-- layout:start -->") : text.index("<!-- layout:end -->")]
    shown = set(re.findall(r"[├└]── (\S+)", block))
    package = REPO / "modelgate"
    real = {f"{p.name}/" for p in package.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    real |= {p.name for p in package.glob("*.py") if p.name not in ("__init__.py", "__main__.py")}
    assert shown == real
