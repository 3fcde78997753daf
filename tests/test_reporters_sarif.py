"""SARIF rules link each check's documentation (helpUri): a section of docs/checks.md for
the built-in checks, what a plugin declares for its own."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tomllib
import types
from pathlib import Path

import jsonschema
import pytest

import modelgate
from modelgate.checks import DOCS
from modelgate.plugins import collect_checks, make_plugin_manager
from tests.conftest import REPO, Repo

SCHEMA = json.loads((Path(__file__).resolve().parent / "data" / "sarif-schema-2.1.0.json").read_text())


def github_anchors(markdown: str) -> set[str]:
    """The anchors GitHub gives a page's headings: lower case, punctuation but `-` and `_`
    dropped, spaces as hyphens."""
    return {
        re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        for heading in re.findall(r"^#{1,6} (.+)$", markdown, re.M)
    }


def test_every_rule_links_its_section_of_the_docs(repo: Repo) -> None:
    repo.manifest("m")
    (repo.root / "m" / "model.bin").write_bytes(b"tampered")
    proc = repo.run("check", "--sarif", "-")
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    jsonschema.validate(doc, SCHEMA)
    rules = doc["runs"][0]["tool"]["driver"]["rules"]
    assert rules and all(rule["helpUri"].startswith(f"{DOCS}#") for rule in rules)
    anchors = github_anchors((REPO / "docs" / "checks.md").read_text())
    for rule in rules:
        anchor = rule["helpUri"].split("#", 1)[1]
        assert anchor == f"{rule['id'].lower()}-{rule['name']}" and anchor in anchors, rule
    # The docs named are this project's: the repository pyproject.toml names as its source.
    urls = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["urls"]
    assert f"{urls['Source']}/blob/main/docs/checks.md" == DOCS


def test_a_plugins_checks_link_what_it_declares() -> None:
    @modelgate.check("ACME001", name="model-card-linked")
    def linked(manifest: object) -> None:
        """A model card is linked."""

    @modelgate.check("ACME002", name="owned", help_uri="https://acme.example/owned")
    def owned(manifest: object) -> None:
        """Owned."""

    plugin = types.ModuleType("acme_checks")
    plugin.__dict__.update(linked=linked, owned=owned, MODELGATE_DOCS="https://acme.example/checks")
    bare = types.ModuleType("bare_checks")
    bare.__dict__.update(other=modelgate.check("ACME003", name="bare")(lambda manifest: None))
    pm = make_plugin_manager()
    pm.register(plugin, name="acme")
    pm.register(bare, name="bare")
    checks = collect_checks(pm)
    assert checks["ACME001"].help_uri == "https://acme.example/checks#acme001-model-card-linked"
    assert checks["ACME002"].help_uri == "https://acme.example/owned"  # its own beats the module's
    assert checks["ACME003"].help_uri is None  # nothing declared: no helpUri in SARIF


# Read at import: the autouse fixture clears MODELGATE_* and CI before each test runs.
MULTITOOL_REQUIRED = any(os.environ.get(name) for name in ("MODELGATE_REQUIRE_MULTITOOL", "CI", "GITHUB_ACTIONS"))


def multitool_findings(tool: str, sarif: Path, kind: str) -> list[str]:
    """What GitHub's SARIF multitool (``validate``) finds in ``sarif`` with its ``kind`` rules
    (``Sarif``: the spec's; ``Gh``: what GitHub code scanning needs to ingest a file)."""
    out = sarif.with_name(f"{sarif.stem}-{kind}.validation.sarif")
    proc = subprocess.run(
        [tool, "validate", "--rule-kind", kind, "--log", "ForceOverwrite", "-o", str(out), str(sarif)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = json.loads(out.read_text())["runs"][0].get("results", [])
    return [f"{r['ruleId']} {r['level']}" for r in results]


def test_githubs_sarif_multitool_finds_nothing_to_fix(repo: Repo, tmp_path: Path) -> None:
    """A failing run's SARIF (two results, one under a hostile folder name) passes the multitool's
    SARIF and GitHub rules; the same file with a broken location does not, so the tool is
    really checking."""
    tool = shutil.which("sarif-multitool")
    if tool is None:
        reason = "sarif-multitool is not installed (npm install @microsoft/sarif-multitool); .ci/run installs it"
        if MULTITOOL_REQUIRED:
            pytest.fail(f"{reason}, and this run requires it (MODELGATE_REQUIRE_MULTITOOL or CI is set)")
        pytest.skip(reason)
    repo.manifest("models/a b%20<c>", owners=["not-an-owner-form"])
    (repo.root / "models/a b%20<c>/model.bin").write_bytes(b"tampered")
    repo.manifest("models/ok")
    sarif = tmp_path / "report.sarif"
    proc = repo.run("check", "--sarif", str(sarif))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    doc = json.loads(sarif.read_text())
    assert len(doc["runs"][0]["results"]) >= 2
    assert multitool_findings(tool, sarif, "Sarif") == []
    assert multitool_findings(tool, sarif, "Gh") == []
    broken = tmp_path / "broken.sarif"
    doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] = "file:///etc/passwd"
    doc["runs"][0]["results"][0]["message"] = {"id": "undefined"}
    broken.write_text(json.dumps(doc))
    assert multitool_findings(tool, broken, "Gh") != []
