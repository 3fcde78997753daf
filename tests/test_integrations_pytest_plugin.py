"""The pytest plugin, exercised with pytester: collection, node ids, -k, -x, --junit-xml,
and the fixtures for governance tests written as ordinary pytest tests."""

from __future__ import annotations

import hashlib
import json
import subprocess
import xml.etree.ElementTree as ET

import pytest

from tests.conftest import MODELGATE, extending_default

pytest_plugins = ["pytester"]

POLICY = extending_default(
    "{check: metric-threshold, stages: [staging], with: {metric: auc, min: 0.9}}",
    "{check: metric-threshold, stages: [staging], with: {metric: f1, min: 0.8}}",
)


def manifest(pytester: pytest.Pytester, folder: str, auc: float, content: bytes = b"weights") -> None:
    path = pytester.path / folder
    path.mkdir(parents=True, exist_ok=True)
    (path / "model.bin").write_bytes(content)
    data = {
        "apiVersion": "modelgate/v1",
        "kind": "Model",
        "name": folder.replace("/", "-"),
        "version": "1.0.0",
        "stage": "staging",
        "owners": ["@acme/ml"],
        "license": "MIT",
        "artifacts": [{"path": "model.bin", "sha256": hashlib.sha256(content).hexdigest(), "size": len(content)}],
        "lineage": {
            "code": {"commit": "a" * 40},
            "data": [{"name": "d", "uri": "u", "revision": "r1"}],
            "params": {"lr": 0.1},
        },
        "metrics": {"auc": {"value": auc, "goal": "maximize"}, "f1": 0.85},
    }
    (path / "modelgate.yaml").write_text(json.dumps(data, indent=2))


@pytest.fixture
def models(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    # Each in-process run re-imports its plugins; hypothesis's takes seconds and is not needed.
    monkeypatch.setenv("PYTEST_ADDOPTS", "-p no:hypothesispytest")
    (pytester.path / "policy.yaml").write_text(POLICY)
    (pytester.path / ".modelgate.yaml").write_text("policies: [policy.yaml]\n")
    manifest(pytester, "good", 0.95)
    manifest(pytester, "weak", 0.80)
    return pytester


def test_off_unless_asked(models: pytest.Pytester) -> None:
    result = models.runpytest()
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_manifests_become_items_with_readable_ids(models: pytest.Pytester) -> None:
    result = models.runpytest("--modelgate", "--collect-only", "-q")
    ids = [line for line in result.outlines if "::" in line]
    assert "good/modelgate.yaml::MG301[auc]" in ids and "good/modelgate.yaml::MG301[f1]" in ids
    assert "weak/modelgate.yaml::MG102" in ids


def test_same_verdicts_as_modelgate_check(models: pytest.Pytester) -> None:
    proc = subprocess.run([MODELGATE, "check", "--json", "r.json"], cwd=models.path, capture_output=True)
    assert proc.returncode == 1
    counts = json.loads((models.path / "r.json").read_text())["summary"]
    result = models.runpytest("--modelgate", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(failed=counts["failed"], passed=counts["passed"], skipped=counts["skipped"])
    assert counts["failed"] == 1


def test_failures_point_at_the_manifest_line(models: pytest.Pytester) -> None:
    result = models.runpytest("--modelgate", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(
        [
            "weak/modelgate.yaml:34:5: MG301 metric-threshold (error): auc = 0.8 is below the minimum 0.9",
            "    hint: improve the model*",
            "FAILED weak/modelgate.yaml::MG301[[]auc[]] - *",
        ]
    )


def test_k_selection_x_and_junit(models: pytest.Pytester) -> None:
    result = models.runpytest("--modelgate", "-k", "MG102", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    result = models.runpytest("--modelgate", "-x", "-k", "MG301", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1)
    junit = models.path / "junit.xml"
    models.runpytest("--modelgate", "-k", "MG301", f"--junit-xml={junit}", "-p", "no:cacheprovider")
    cases = {case.get("name"): case for case in ET.parse(junit).iter("testcase")}
    assert set(cases) == {"MG301[auc]", "MG301[f1]"}
    assert sum(case.find("failure") is not None for case in ET.parse(junit).iter("testcase")) == 1


def test_k_selects_by_check_name_as_by_id(models: pytest.Pytester) -> None:
    by_name = models.runpytest("--modelgate", "-k", "artifact-hash", "--collect-only", "-q", "-p", "no:cacheprovider")
    by_id = models.runpytest("--modelgate", "-k", "MG102", "--collect-only", "-q", "-p", "no:cacheprovider")
    selected = [line for line in by_name.outlines if "::" in line]
    assert selected == ["good/modelgate.yaml::MG102", "weak/modelgate.yaml::MG102"]
    assert selected == [line for line in by_id.outlines if "::" in line]
    result = models.runpytest("--modelgate", "-k", "metric-threshold and not f1", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)  # MG301[auc] of both manifests; weak's fails


def test_ini_option_enables_collection(models: pytest.Pytester) -> None:
    models.makeini("[pytest]\nmodelgate = true\n")
    result = models.runpytest("-k", "MG102", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_governance_tests_with_fixtures(models: pytest.Pytester) -> None:
    models.makepyfile(
        test_governance="""
        def test_every_model_has_a_license(modelgate_manifest):
            assert modelgate_manifest.license

        def test_auc_is_high_enough(modelgate_manifest):
            assert modelgate_manifest.metrics["auc"].value >= 0.9

        def test_registry(modelgate_manifests, modelgate_context):
            assert sorted(m.name for m in modelgate_manifests) == ["good", "weak"]
            assert modelgate_context.versions_of("good")[0].path == "good/modelgate.yaml"
    """
    )
    result = models.runpytest("-p", "no:cacheprovider", "test_governance.py", "-v")
    result.assert_outcomes(passed=4, failed=1)
    result.stdout.fnmatch_lines(["*test_auc_is_high_enough[[]weak/modelgate.yaml[]] FAILED*"])


def test_pytest_xdist_distributes_the_items(models: pytest.Pytester) -> None:
    pytest.importorskip("xdist")
    serial = models.runpytest("--modelgate", "-p", "no:cacheprovider")
    parallel = models.runpytest_subprocess("--modelgate", "-n", "2", "-p", "no:cacheprovider")
    assert parallel.ret == pytest.ExitCode.TESTS_FAILED
    assert serial.parseoutcomes() == parallel.parseoutcomes()
    parallel.stdout.fnmatch_lines(["*2 workers*", "FAILED weak/modelgate.yaml::MG301[[]auc[]]*"])


def test_base_option_compares_with_the_base_branch(models: pytest.Pytester) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=models.path, check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    git("add", "-A")
    git("commit", "-q", "-m", "base")
    git("checkout", "-q", "-b", "feature")
    path = models.path / "good" / "modelgate.yaml"
    path.write_text(path.read_text().replace('"stage": "staging"', '"stage": "archived"'))
    # Without a base there is no transition to judge; with one, staging -> archived is refused.
    models.runpytest("--modelgate", "-k", "good and MG404", "-p", "no:cacheprovider").assert_outcomes(skipped=1)
    result = models.runpytest(
        "--modelgate", "--modelgate-base", "main", "-k", "good and MG404", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["good/modelgate.yaml:*: MG404 stage-transition (error): *staging*archived*"])


def git(where: pytest.Pytester, *args: str) -> None:
    subprocess.run(["git", *args], cwd=where.path, check=True, capture_output=True)


def test_deleting_a_production_manifest_is_a_failing_item(models: pytest.Pytester) -> None:
    manifest(models, "old", 0.95)
    path = models.path / "old" / "modelgate.yaml"
    path.write_text(path.read_text().replace('"stage": "staging"', '"stage": "production"'))
    git(models, "init", "-q", "-b", "main")
    git(models, "add", "-A")
    git(models, "commit", "-q", "-m", "base")
    git(models, "rm", "-q", "-r", "old")
    # (`-k old` would also pick metric-threshold now that -k matches check names: thresh-old.)
    result = models.runpytest("--modelgate", "--modelgate-base", "main", "-k", "old and MG4", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "collected * items / * deselected / 1 selected",
            "old/modelgate.yaml:1:1: MG408 manifest-removed (error): old@1.0.0 was in 'production'*",
            "FAILED old/modelgate.yaml::MG408 - *",
        ]
    )
    # Only where pytest was asked to look.
    models.runpytest(
        "--modelgate", "--modelgate-base", "main", "good", "-k", "MG408", "-p", "no:cacheprovider"
    ).assert_outcomes()


def test_configuration_error_is_exit_4_with_one_line(models: pytest.Pytester) -> None:
    (models.path / "policy.yaml").write_text(POLICY + "  - {check: model-card-linked}\n")
    result = models.runpytest("--modelgate", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: modelgate: error: policy.yaml:8:5: rule names check 'model-card-linked', which no plugin provides;*"]
    )
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
    # Governance tests using the fixtures fail with the same line.
    models.makepyfile(
        test_governance="""
        def test_registry(modelgate_manifests):
            assert modelgate_manifests

        def test_each(modelgate_manifest):
            assert modelgate_manifest
    """
    )
    result = models.runpytest("-p", "no:cacheprovider", "test_governance.py")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["modelgate: error: policy.yaml:8:5: rule names check 'model-card-linked'*"])
    assert "Traceback" not in result.stdout.str()


def test_warnings_pass_and_can_be_made_to_fail(models: pytest.Pytester) -> None:
    (models.path / "policy.yaml").write_text(
        POLICY + "  - {check: metric-threshold, stages: [staging], severity: warning, with: {metric: f1, min: 0.9}}\n"
    )
    result = models.runpytest("--modelgate", "-k", "good and MG301", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, warnings=1)
    result.stdout.fnmatch_lines(["*ModelgateWarning: good/modelgate.yaml:*: MG301 metric-threshold (warning):*"])
    result = models.runpytest(
        "--modelgate",
        "-k",
        "good and MG301",
        "-p",
        "no:cacheprovider",
        "-W",
        "error::modelgate.integrations.pytest_plugin.ModelgateWarning",
    )
    result.assert_outcomes(passed=2, failed=1)


def test_only_the_manifests_modelgate_check_would_find(models: pytest.Pytester) -> None:
    manifest(models, "elsewhere/fixture", 0.5)
    (models.path / ".modelgate.yaml").write_text("policies: [policy.yaml]\nmanifests: ['good/**', 'weak/**']\n")
    result = models.runpytest("--modelgate", "--collect-only", "-q", "-p", "no:cacheprovider")
    assert not [line for line in result.outlines if line.startswith("elsewhere/")]
    result = models.runpytest(
        "--modelgate", "--collect-only", "-q", "-p", "no:cacheprovider", "elsewhere/fixture/modelgate.yaml"
    )  # named on the command line: collected
    assert "elsewhere/fixture/modelgate.yaml::MG001" in result.outlines


def test_p_no_name_disables_a_modelgate_plugin_as_modelgate_check_does(models: pytest.Pytester) -> None:
    """pytest's own ``-p no:NAME`` reaches the session: ``-p no:artifacts`` drops MG101/MG102."""
    with_all = [line for line in models.runpytest("--modelgate", "--collect-only", "-q").outlines if "::" in line]
    result = models.runpytest("--modelgate", "--collect-only", "-q", "-p", "no:artifacts")
    ids = [line for line in result.outlines if "::" in line]
    assert "good/modelgate.yaml::MG102" in with_all
    assert ids and not any("::MG10" in i for i in ids)
    assert set(ids) == {i for i in with_all if "::MG10" not in i}
