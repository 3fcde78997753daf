"""The docs, tested: the worked example of docs/writing-checks.md works copied as is (a
package pip-installed into a fresh virtual environment, and a local module), and
docs/hooks.md documents exactly the hooks of hookspecs.py."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

from modelgate import hookspecs
from tests.conftest import REPO, Repo, Venv, production_fields

DOCS = REPO / "docs"
BLOCK = re.compile(r'^```\w+ title="([^"]+)"\n(.*?)^```$', re.M | re.S)


def files_of(doc: str) -> dict[str, str]:
    return dict(BLOCK.findall((DOCS / doc).read_text()))


def test_hooks_doc_matches_hookspecs() -> None:
    headings = re.findall(r"^## `(modelgate_\w+)(\(.*?\) -> .*?)`$", (DOCS / "hooks.md").read_text(), re.M)
    documented = dict(headings)
    assert len(documented) == len(headings), "a hook is documented twice"
    specs = {name: func for name, func in vars(hookspecs).items() if name.startswith("modelgate_") and callable(func)}
    assert set(documented) == set(specs)
    for name, func in specs.items():
        # hookspecs.py uses postponed annotations: the signature prints them as written.
        assert documented[name] == str(inspect.signature(func)).replace("'", ""), name
        assert func.__doc__ and "firstresult" in func.__doc__, f"{name}: say whether it is firstresult"


def test_check_api_doc_matches_the_decorator() -> None:
    """docs/writing-checks.md lists every argument a check may ask for and every keyword of
    ``@modelgate.check``, and nothing else."""
    from modelgate.checkapi.decorator import ARGUMENTS, check

    text = (DOCS / "writing-checks.md").read_text()
    table = text[text.index("| parameter | what it is |") : text.index("How a check reports:")]
    listed = [name for cell in re.findall(r"^\| ([^|]+) \|", table, re.M)[1:] for name in re.findall(r"`(\w+)`", cell)]
    assert sorted(listed) == sorted(ARGUMENTS)
    usage = re.search(r"`@modelgate\.check\(ID, (.*?)\)`", text, re.S)
    assert usage is not None
    keywords = re.findall(r"(\w+)=", usage.group(1))
    assert keywords == [name for name in inspect.signature(check).parameters if name != "id"]


@pytest.fixture(scope="module")
def plugin_venv(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    """A fresh virtual environment that sees this modelgate, with the doc's package
    installed into it by pip (offline: its only dependency is the modelgate under test)."""
    work = tmp_path_factory.mktemp("venv")
    for name, text in files_of("writing-checks.md").items():
        if name.startswith("acme-modelgate/"):
            (work / name).parent.mkdir(parents=True, exist_ok=True)
            (work / name).write_text(text)
    venv = Venv(work / "venv")
    venv.pip_install(str(work / "acme-modelgate"))
    return venv


def run_in(venv: Venv, repo: Repo, *args: str) -> subprocess.CompletedProcess[str]:
    return venv.modelgate(repo.root, *args)


def test_plugin_package_from_the_doc_installed_with_pip(plugin_venv: Venv, repo: Repo) -> None:
    plugins = run_in(plugin_venv, repo, "plugins").stdout
    assert "acme 1.0.0\n  checks: ACME001, ACME002, ACME003\n" in plugins
    repo.manifest("m", **production_fields(stage="staging"))
    proc = run_in(plugin_venv, repo, "check")
    assert proc.returncode == 1
    assert "ACME001 model-card-linked (failed)" in proc.stdout
    assert "link the model card: tags.model_card: docs/cards/<model>.md" in proc.stdout
    repo.manifest("m", **production_fields(stage="staging", tags={"model_card": "docs/cards/m.md"}))
    assert run_in(plugin_venv, repo, "check").returncode == 0
    assert "ACME003" in run_in(plugin_venv, repo, "explain", "fairness-metric").stdout
    assert run_in(plugin_venv, repo, "check", "-p", "no:acme").returncode == 0


def test_local_module_from_the_doc(repo: Repo) -> None:
    for name, text in files_of("writing-checks.md").items():
        if name.startswith("repo/") and not name.startswith("repo/tests/"):
            repo.write(name.removeprefix("repo/"), text)
    fields = production_fields(version="1.4.0", tags={"team": "fraud"})
    repo.manifest("models/fraud", **{**fields, "owners": ["ana@acme.io"]})
    proc = repo.run("check")
    assert proc.returncode == 1
    assert "REPO001 owner-is-a-team (failed)" in proc.stdout
    assert (
        """assert any(owner.startswith("@") and "/" in owner for owner in manifest.owners)"""
        "  (where manifest.owners = ['ana@acme.io'])"
    ) in proc.stdout
    # The schema rule's failure, as the doc shows it (the doc's manifest has tags on line 12).
    shown = re.search(r"```text\n(MG010 .*?)```", (DOCS / "writing-checks.md").read_text(), re.S)
    assert shown is not None
    manifest = (repo.root / "models/fraud/modelgate.yaml").read_text().splitlines()
    line, column = next(
        (n, len(text) - len(text.lstrip()) + 1)
        for n, text in enumerate(manifest, 1)
        if text.strip().startswith('"tags"')
    )
    assert shown.group(1).replace(":12:1", f":{line}:{column}") in proc.stdout
    repo.manifest("models/fraud", **fields)
    assert "REPO001" not in repo.run("check").stdout.split("FAILURES")[1]
    repo.manifest("models/fraud", **{**fields, "tags": {"team": "fraud", "cost_center": "42"}})
    proc = repo.run("check")
    assert proc.returncode == 0, proc.stdout


def test_governance_test_from_the_doc(repo: Repo) -> None:
    test = files_of("writing-checks.md")["repo/tests/test_governance.py"]
    repo.write("tests/test_governance.py", test)
    repo.manifest("m", **production_fields())
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=repo.root,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1, proc.stdout
    assert "1 failed" in proc.stdout
    repo.manifest("m", **production_fields(metrics={"auc": 0.93, "latency_p95_ms": 12.0}))
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=repo.root,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout


def test_reporter_example_in_hooks_doc(repo: Repo, tmp_path: Path) -> None:
    example = re.search(r"```python\n(.*?)```", (DOCS / "hooks.md").read_text(), re.S)
    assert example is not None
    site = tmp_path / "site"
    (site / "acme_log-1.0.dist-info").mkdir(parents=True)
    (site / "acme_log.py").write_text(example.group(1))
    (site / "acme_log-1.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-log\nVersion: 1.0\n")
    (site / "acme_log-1.0.dist-info" / "entry_points.txt").write_text("[modelgate]\nacme-log = acme_log\n")
    repo.manifest("m", version="v1")
    proc = repo.run("check", "--acme-log", "log.tsv", env={"PYTHONPATH": str(site)})
    assert proc.returncode == 1
    assert (repo.root / "log.tsv").read_text() == "fraud-detector@v1\tMG501\tversion 'v1' is not SemVer 2.0.0\n"
