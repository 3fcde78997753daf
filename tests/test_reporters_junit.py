"""The JUnit XML report read by the clients CI systems use: junitparser (what test
reporters build on) and junit2html (its matrix groups by classname and case name)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from junitparser import Error, Failure, JUnitXml, Skipped

from modelgate.reporters.junit import classname
from tests.conftest import Repo, extending_default, production_fields

JUNIT2HTML = os.path.join(os.path.dirname(sys.executable), "junit2html")
MANIFEST = "models/fraud.v2/modelgate.yaml"


def _gated(repo: Repo, tamper: bool = False) -> None:
    """One manifest checked by MG301 twice (auc as an error, f1 as a warning that fails),
    and, with ``tamper``, two artifacts whose bytes changed (MG102 fails twice)."""
    fields = production_fields(metrics={"auc": {"value": 0.93, "goal": "maximize"}, "f1": 0.5})
    folder = MANIFEST.rsplit("/", 1)[0]
    repo.manifest(
        folder, artifacts=[repo.artifact(f"{folder}/a.bin", b"a"), repo.artifact(f"{folder}/b.bin", b"b")], **fields
    )
    repo.manifest("other", name="other")
    repo.write(".modelgate.yaml", "policies: [policy.yaml]\n")
    repo.write(
        "policy.yaml",
        extending_default(
            "{check: metric-threshold, stages: [production], with: {metric: auc, min: 0.9}}",
            "{check: metric-threshold, stages: [production], severity: warning, with: {metric: f1, min: 0.9}}",
        ),
    )
    if tamper:
        for name in ("a.bin", "b.bin"):
            (repo.root / folder / name).write_bytes(b"changed")


def _report(repo: Repo, *args: str) -> tuple[int, Path, JUnitXml]:
    path = repo.root.parent / "junit.xml"
    proc = repo.run("check", "--junit-xml", str(path), *args)
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, path, JUnitXml.fromfile(str(path))


def _cases(xml: JUnitXml) -> dict[str, list[object]]:
    return {suite.name: list(suite) for suite in xml}


def _junit2html_failures(path: Path) -> int:
    """junit2html's own verdict: with --max-failures 1 it exits with the number of failed
    cases (0 when none)."""
    return subprocess.run(
        [JUNIT2HTML, "--summary-matrix", "--max-failures", "1", str(path)], capture_output=True, text=True
    ).returncode


def test_a_warning_that_does_not_fail_the_run_is_no_failure(repo: Repo) -> None:
    _gated(repo)
    code, path, xml = _report(repo)
    assert code == 0
    cases = {case.name: case for case in _cases(xml)[MANIFEST]}
    warning = cases["MG301 metric-threshold [f1]"]
    assert warning.is_passed and not warning.result  # no <failure>, <error> or <skipped>
    assert warning.system_out.startswith(f"warning: {MANIFEST}:") and "f1 = 0.5 is below the minimum 0.9" in (
        warning.system_out
    )
    assert cases["MG301 metric-threshold [auc]"].is_passed
    assert sum(suite.failures for suite in xml) == 0 and xml.failures == 0
    assert _junit2html_failures(path) == 0  # its verdict is modelgate's


def test_with_strict_the_warning_is_a_failure(repo: Repo) -> None:
    _gated(repo)
    code, path, xml = _report(repo, "--strict")
    assert code == 1
    [failed] = [case for case in _cases(xml)[MANIFEST] if not case.is_passed and not case.is_skipped]
    assert failed.name == "MG301 metric-threshold [f1]"
    assert isinstance(failed.result[0], Failure) and failed.result[0].type == "warning"
    assert xml.failures == 1 and _junit2html_failures(path) == 1


def test_names_are_unique_in_a_suite_and_classnames_are_dotted(repo: Repo) -> None:
    _gated(repo, tamper=True)
    code, path, xml = _report(repo)
    assert code == 1
    for suite in xml:
        names = Counter(case.name for case in suite)
        assert max(names.values()) == 1, names
        assert {case.classname for case in suite} == {classname(suite.name)}
    cases = _cases(xml)[MANIFEST]
    hashes = sorted(case.name for case in cases if case.name.startswith("MG102"))
    assert len(hashes) == 2 and all(name.startswith("MG102 artifact-hash [line ") for name in hashes)
    assert {case.classname for case in cases} == {"models.fraud_v2.modelgate"}
    failures = [case for case in cases if case.result and isinstance(case.result[0], Failure)]
    assert sorted(case.name for case in failures) == hashes  # the warning (f1) is still no failure
    assert xml.failures == 2 == _junit2html_failures(path)
    # junit2html groups by classname and case name: every result keeps its own row.
    matrix = subprocess.run([JUNIT2HTML, "--summary-matrix", str(path)], capture_output=True, text=True).stdout
    assert "models.fraud_v2.modelgate" in matrix and "other.modelgate" in matrix
    for name in hashes:
        assert f"- {name} " in matrix
    total = sum(1 for suite in xml for _case in suite)
    assert "Failed       :      2" in matrix
    assert (
        sum(
            int(line.split(":")[1])
            for line in matrix.splitlines()
            if line.strip().startswith(("Failed", "Passed", "Skipped", "Error"))
        )
        == total
    )


def test_junit2html_renders_the_report(repo: Repo) -> None:
    _gated(repo, tamper=True)
    _code, path, _xml = _report(repo)
    html = repo.root.parent / "report.html"
    proc = subprocess.run([JUNIT2HTML, str(path), str(html)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "MG102 artifact-hash [line " in html.read_text()


@pytest.mark.parametrize(
    ("path", "dotted"),
    [
        ("models/fraud/modelgate.yaml", "models.fraud.modelgate"),
        ("models/fraud.modelgate.yaml", "models.fraud_modelgate"),
        ("v1.2/modelgate.yaml", "v1_2.modelgate"),
        ("modelgate.yaml", "modelgate"),
    ],
)
def test_classname_is_the_path_dotted(path: str, dotted: str) -> None:
    assert classname(path) == dotted


def test_waived_and_crashed_results(repo: Repo) -> None:
    """Waived is <skipped> with the waiver, never a failure; both are consistent with exit 0."""
    _gated(repo)
    repo.write(
        "policy.yaml",
        extending_default("{check: metric-threshold, stages: [production], with: {metric: f1, min: 0.9}}")
        + "waivers:\n  - {check: metric-threshold, model: fraud-detector, reason: RISK-1, expires: 2099-01-01,"
        " owner: ana@acme.io}\n",
    )
    code, path, xml = _report(repo)
    assert code == 0
    [waived] = [case for case in _cases(xml)[MANIFEST] if case.name.startswith("MG301")]
    assert isinstance(waived.result[0], Skipped) and "RISK-1" in waived.result[0].message
    assert not any(isinstance(r, Error | Failure) for suite in xml for case in suite for r in case.result)
    assert _junit2html_failures(path) == 0
