"""The GitHub Action: metadata validated against GitHub's schema, and its run step
executed as the runner would, in a shallow clone, with a simulated GITHUB_* environment."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import REPO, Repo, production_fields

CHECK_JSONSCHEMA = os.path.join(os.path.dirname(sys.executable), "check-jsonschema")


def test_action_metadata_is_valid() -> None:
    proc = subprocess.run([CHECK_JSONSCHEMA, "--builtin-schema", "vendor.github-actions", str(REPO / "action.yml")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_workflows_in_repo_and_readme_are_valid(tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text()
    blocks = re.findall(r"```yaml\n(# \.github/workflows/.+?)```", readme, re.S)
    assert blocks, "README must show a complete workflow"
    files = [REPO / ".github" / "workflows" / "ci.yml"]
    for index, block in enumerate(blocks):
        files.append(tmp_path / f"wf{index}.yml")
        files[-1].write_text(block)
    proc = subprocess.run([CHECK_JSONSCHEMA, "--builtin-schema", "vendor.github-workflows", *map(str, files)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    workflow = yaml.safe_load(blocks[0])
    assert workflow["permissions"] == {"contents": "read", "pull-requests": "read"}
    assert set(workflow[True]) == {"pull_request", "pull_request_review"}  # YAML 1.1 reads `on` as True


def test_inputs_never_interpolated_into_scripts() -> None:
    action = yaml.safe_load((REPO / "action.yml").read_text())
    for step in action["runs"]["steps"]:
        assert "${{" not in step.get("run", ""), step


def _pr_clone(repo: Repo, tmp_path: Path) -> Path:
    """A pull request as actions/checkout leaves it: a depth-1 clone of the head, with origin."""
    repo.manifest("m", **production_fields(stage="staging"))
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.manifest("m", **production_fields(metrics={"auc": {"value": 0.80, "goal": "maximize"}}))
    repo.commit("promote with a changed metric")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "1", "--branch", "feature", f"file://{repo.root}", str(clone)],
                   check=True)
    return clone


def _run_action(clone: Path, tmp_path: Path, **inputs: str) -> tuple[int, dict[str, str], str, str]:
    output, summary, temp = tmp_path / "output", tmp_path / "summary.md", tmp_path / "runner-temp"
    temp.mkdir(exist_ok=True)
    env = {**os.environ, "GITHUB_ACTIONS": "true", "GITHUB_BASE_REF": "main", "GITHUB_OUTPUT": str(output),
           "GITHUB_STEP_SUMMARY": str(summary), "RUNNER_TEMP": str(temp), "GITHUB_REPOSITORY": "acme/models",
           "GITHUB_RUN_ID": "7", "GITHUB_EVENT_NAME": "pull_request",
           **{f"INPUT_{k.upper()}": v for k, v in inputs.items()}}
    proc = subprocess.run([sys.executable, "-m", "modelgate.action"], cwd=clone, env=env,
                          capture_output=True, text=True)
    text = output.read_text() if output.exists() else ""
    blocks = re.findall(r"^([\w-]+)<<(ghadelimiter_[0-9a-f-]{36})\n(.*?)\n\2$", text, re.M | re.S)
    outputs = {key: value for key, _delimiter, value in blocks}
    return proc.returncode, outputs, summary.read_text() if summary.exists() else "", proc.stdout + proc.stderr


def test_failing_promotion_end_to_end(repo: Repo, tmp_path: Path) -> None:
    clone = _pr_clone(repo, tmp_path)
    code, outputs, summary, log = _run_action(clone, tmp_path, sarif=str(tmp_path / "out.sarif"))
    assert code == 1, log
    assert outputs["verdict"] == "fail" and outputs["exit-code"] == "1"
    assert Path(outputs["json-report"]).exists() and Path(outputs["audit-report"]).exists()
    assert (tmp_path / "out.sarif").exists()
    # the base was fetched into the shallow clone
    assert "is not in this shallow clone" not in log
    assert "::error file=m/modelgate.yaml" in log
    assert "## modelgate: ❌ fail" in summary
    assert "| fraud\\-detector@\u200b1\\.0\\.0 | auc (maximize) | 0.93 | 0.8 | -0.13 ↓ | 🔴 worse |" in summary
    assert "**MG405 promotion\\-immutable**" in summary
    assert "### Audit record" in summary
    assert len(re.findall("ghadelimiter_", (tmp_path / "output").read_text())) == 8  # 4 outputs, 2 delimiters each


def test_missing_base_fails_with_the_fix(repo: Repo, tmp_path: Path) -> None:
    clone = _pr_clone(repo, tmp_path)
    subprocess.run(["git", "remote", "set-url", "origin", str(tmp_path / "nowhere")], cwd=clone, check=True)
    code, outputs, _, log = _run_action(clone, tmp_path)
    assert code == 4
    assert outputs["verdict"] == "error"
    assert "fetch-depth: 0" in log


def test_fail_on_warning_and_summary_off(repo: Repo, tmp_path: Path) -> None:
    repo.write(".modelgate.yaml", "policies: [p.yaml]\n")
    repo.write("p.yaml", "apiVersion: modelgate/v1\nkind: Policy\nname: p\nextends: [builtin:default]\n"
               "rules:\n  - {check: owners, severity: warning}\n")
    repo.manifest("m", owners=["somebody"])
    repo.commit("base")
    clone = tmp_path / "c"
    subprocess.run(["git", "clone", "-q", f"file://{repo.root}", str(clone)], check=True)
    code, outputs, summary, _ = _run_action(clone, tmp_path, summary="false")
    assert (code, outputs["verdict"], summary) == (0, "pass", "")
    code, outputs, _, _ = _run_action(clone, tmp_path, **{"fail_on": "warning", "summary": "false"})
    assert (code, outputs["verdict"]) == (1, "fail")


def test_unknown_fail_on_is_a_usage_error_with_outputs(tmp_path: Path) -> None:
    code, outputs, summary, log = _run_action(tmp_path, tmp_path, fail_on="sometimes%0A::warning::x")
    assert (code, outputs["verdict"], outputs["exit-code"], summary) == (4, "error", "4", "")
    assert log == "::error title=modelgate::fail-on must be 'error' or 'warning', not sometimes%250A::warning::x\n"
