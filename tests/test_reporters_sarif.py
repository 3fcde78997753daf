"""SARIF rules link each check's documentation (helpUri): a section of docs/checks.md for
the built-in checks, what a plugin declares for its own."""

from __future__ import annotations

import json
import re
import tomllib
import types
from pathlib import Path

import jsonschema

import modelgate
from modelgate.checks import DOCS
from modelgate.plugins import collect_checks, make_plugin_manager
from tests.conftest import REPO, Repo

SCHEMA = json.loads((Path(__file__).resolve().parent / "data" / "sarif-schema-2.1.0.json").read_text())


def github_anchors(markdown: str) -> set[str]:
    """The anchors GitHub gives a page's headings: lower case, punctuation but `-` and `_`
    dropped, spaces as hyphens."""
    return {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
            for heading in re.findall(r"^#{1,6} (.+)$", markdown, re.M)}


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
