"""The GitHub Action: metadata validated against GitHub's schema, and its run step
executed as the runner would, in a shallow clone, with a simulated GITHUB_* environment."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import MODELGATE, REPO, Repo, production_fields

CHECK_JSONSCHEMA = os.path.join(os.path.dirname(sys.executable), "check-jsonschema")


def test_action_metadata_is_valid() -> None:
    proc = subprocess.run(
        [CHECK_JSONSCHEMA, "--builtin-schema", "vendor.github-actions", str(REPO / "action.yml")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_workflows_in_repo_and_readme_are_valid(tmp_path: Path) -> None:
    blocks = _readme_workflows()
    files = [REPO / ".github" / "workflows" / "ci.yml"]
    for index, block in enumerate(blocks):
        files.append(tmp_path / f"wf{index}.yml")
        files[-1].write_text(block)
    proc = subprocess.run(
        [CHECK_JSONSCHEMA, "--builtin-schema", "vendor.github-workflows", *map(str, files)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    workflow = yaml.safe_load(blocks[0])
    assert workflow["permissions"] == {"contents": "read", "pull-requests": "read"}
    # YAML 1.1 reads `on` as True. The merge queue and the push after merge catch two pull
    # requests that pass alone and fail together.
    assert set(workflow[True]) == {"pull_request", "pull_request_review", "merge_group", "push"}
    assert workflow[True]["push"] == {"branches": ["main"]}


def _readme_workflows() -> list[str]:
    blocks = re.findall(r"```yaml\n(# \.github/workflows/.+?)```", (REPO / "README.md").read_text(), re.S)
    assert blocks, "README must show a complete workflow"
    return blocks


ZIZMOR = os.path.join(os.path.dirname(sys.executable), "zizmor")
ACTIONLINT = os.path.join(os.path.dirname(sys.executable), "actionlint")


def test_zizmor_finds_nothing(tmp_path: Path) -> None:
    """zizmor, offline, with its default policy (every `uses:` pinned to a commit SHA,
    checkouts without persisted credentials, no template injection...) on the Action and
    this repository's workflows; the README's workflows with the one exception its config
    names (modelgate's own Action, shown by release tag)."""
    own = subprocess.run(
        [
            ZIZMOR,
            "--offline",
            "--no-config",
            "--format",
            "plain",
            str(REPO / "action.yml"),
            str(REPO / ".github" / "workflows"),
        ],
        capture_output=True,
        text=True,
    )
    assert own.returncode == 0, own.stdout + own.stderr
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    for index, block in enumerate(_readme_workflows()):
        (folder / f"readme{index}.yml").write_text(block)
    readme = subprocess.run(
        [
            ZIZMOR,
            "--offline",
            "--config",
            str(REPO / "tests" / "data" / "zizmor-readme.yml"),
            "--format",
            "plain",
            str(folder),
        ],
        capture_output=True,
        text=True,
    )
    assert readme.returncode == 0, readme.stdout + readme.stderr


def test_actionlint_finds_nothing_and_the_readme_uses_only_real_inputs(tmp_path: Path) -> None:
    """actionlint on this repository's workflows, and on the README's with modelgate's Action
    as a local one (`uses: ./`, next to a copy of action.yml), so that each `with:` is
    checked against the inputs action.yml declares."""
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "action.yml").write_text((REPO / "action.yml").read_text())
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    (folder / "ci.yml").write_text((REPO / ".github" / "workflows" / "ci.yml").read_text())
    for index, block in enumerate(_readme_workflows()):
        assert "modelgate/modelgate@" in block
        (folder / f"readme{index}.yml").write_text(re.sub(r"modelgate/modelgate@[\w.]+", "./", block))
    proc = subprocess.run([ACTIONLINT, "-no-color"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # It does read action.yml: an input it does not declare is an error.
    wrong = folder / "readme0.yml"
    wrong.write_text(wrong.read_text().replace("fail-on: error", "fail-on: error\n          no-such-input: x"))
    proc = subprocess.run([ACTIONLINT, "-no-color"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 1 and 'input "no-such-input" is not defined' in proc.stdout


PINNED = re.compile(r"^\s*(?:- )?uses: ([\w.-]+/[\w./-]+)@([0-9a-f]{40}) # v\d+\.\d+\.\d+(  # zizmor: .*)?$")


def test_every_uses_is_pinned_to_a_commit_with_its_tag_in_a_comment() -> None:
    texts = {
        "action.yml": (REPO / "action.yml").read_text(),
        "ci.yml": (REPO / ".github" / "workflows" / "ci.yml").read_text(),
    }
    texts |= {f"README workflow {i}": block for i, block in enumerate(_readme_workflows())}
    for name, text in texts.items():
        for line in text.splitlines():
            if "uses:" in line and not line.strip().startswith("#") and "modelgate/modelgate@" not in line:
                assert PINNED.match(line), f"{name}: {line.strip()}"
    steps = {step.get("id"): step for step in ACTION["runs"]["steps"]}
    assert steps["python"]["with"]["update-environment"] is False  # the caller's Python stays theirs
    caches = [step["uses"].split("@")[0] for step in ACTION["runs"]["steps"] if "cache" in step.get("uses", "")]
    assert caches == ["actions/cache/restore", "actions/cache/save"]
    # The gate's checkout keeps no credentials (the audit-trail workflow pushes a note with them).
    gate = yaml.safe_load(_readme_workflows()[0])["jobs"]["gate"]["steps"]
    checkouts = [step for step in gate if step.get("uses", "").startswith("actions/checkout@")]
    assert checkouts and all(step["with"]["persist-credentials"] is False for step in checkouts)


def test_the_readme_workflow_shows_sarif_upload_and_dvc_pull() -> None:
    [workflow, *_] = _readme_workflows()
    steps = yaml.safe_load(workflow)["jobs"]["gate"]["steps"]
    uses = [step.get("uses", "").split("@")[0] for step in steps]
    run = [step.get("run", "") for step in steps]
    gate = uses.index("modelgate/modelgate")
    dvc = next(i for i, command in enumerate(run) if "dvc pull" in command)
    assert uses.index("actions/checkout") < dvc < gate  # the artifacts are there when the gate hashes them
    upload = uses.index("github/codeql-action/upload-sarif")
    assert steps[upload]["with"]["sarif_file"] == steps[gate]["with"]["sarif"]
    assert yaml.safe_load(workflow)["jobs"]["gate"]["permissions"]["security-events"] == "write"


def test_the_install_step_caches_pip_with_the_actions_own_files_as_key(tmp_path: Path) -> None:
    """The key step as written: the same for the same action files and Python, another when
    modelgate's version or dependencies change."""
    [key_step] = [step for step in ACTION["runs"]["steps"] if step.get("id") == "pip-cache"]

    def key(action: Path, python: str = "3.11.9") -> str:
        output = tmp_path / "output"
        output.unlink(missing_ok=True)
        subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", key_step["run"]],
            check=True,
            env={
                **os.environ,
                "GITHUB_ACTION_PATH": str(action),
                "GITHUB_OUTPUT": str(output),
                "RUNNER_OS": "Linux",
                "RUNNER_ARCH": "X64",
                "RUNNER_TEMP": str(tmp_path),
                "PYTHON_VERSION": python,
            },
        )
        return dict(line.split("=", 1) for line in output.read_text().splitlines())["key"]

    copy = tmp_path / "action"
    (copy / "modelgate").mkdir(parents=True)
    (copy / "pyproject.toml").write_text((REPO / "pyproject.toml").read_text())
    (copy / "modelgate" / "__init__.py").write_text((REPO / "modelgate" / "__init__.py").read_text())
    first = key(copy)
    assert first.startswith("modelgate-pip-Linux-X64-3.11.9-") and first == key(copy)
    assert key(copy, "3.12.1") != first
    (copy / "pyproject.toml").write_text((REPO / "pyproject.toml").read_text() + "\n# another dependency\n")
    assert key(copy) != first


def test_inputs_never_interpolated_into_scripts() -> None:
    action = yaml.safe_load((REPO / "action.yml").read_text())
    for step in action["runs"]["steps"]:
        assert "${{" not in step.get("run", ""), step


ACTION = yaml.safe_load((REPO / "action.yml").read_text())
GATE = next(step for step in ACTION["runs"]["steps"] if step.get("id") == "gate")
HOSTILE_CONFIG = "policies: [loose.yaml]\nplugins: [evil.py]\nbase: HEAD\n"
# Every move allowed, no rules: what a change would like to be judged by.
LOOSE_POLICY = (
    "apiVersion: modelgate/v1\nkind: Policy\nname: loose\nstages: [staging, production]\n"
    "transitions: {staging: [production]}\n"
)


def _pr_clone(repo: Repo, tmp_path: Path, change: dict[str, str] | None = None) -> Path:
    """A pull request as actions/checkout leaves it: a depth-1 clone of the head, with origin.
    ``change``: more files (path -> text) the pull request adds."""
    repo.manifest("m", **production_fields(stage="staging"))
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.manifest("m", **production_fields(metrics={"auc": {"value": 0.80, "goal": "maximize"}}))
    for path, text in (change or {}).items():
        repo.write(path, text)
    repo.commit("promote with a changed metric")
    clone = tmp_path / "clone"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", "--branch", "feature", f"file://{repo.root}", str(clone)], check=True
    )
    return clone


def pull_request_event(base: str) -> dict[str, Any]:
    return {
        "action": "synchronize",
        "number": 7,
        "pull_request": {"number": 7, "base": {"ref": "main", "sha": base}, "head": {"ref": "feature"}},
    }


def _input(value: str, inputs: dict[str, str]) -> str:
    """What the runner puts in the step's environment for ``${{ inputs.NAME }}``, and for
    setup-python's ``python-path`` output (the interpreter modelgate was installed into)."""
    if value == "${{ steps.python.outputs.python-path }}":
        return sys.executable
    match = re.fullmatch(r"\$\{\{ inputs\.([\w-]+) \}\}", value)
    assert match, f"the gate step's environment holds only inputs and the Python, not {value!r}"
    name = match.group(1)
    default = ACTION["inputs"][name].get("default", "")
    return inputs.get(name, "ghs_workflow_token" if default == "${{ github.token }}" else default)


def _run_action(
    clone: Path,
    tmp_path: Path,
    event_name: str = "pull_request",
    event: Any = None,
    extra_env: dict[str, str] | None = None,
    **inputs: str,
) -> tuple[int, dict[str, str], str, str]:
    """The gate step of action.yml exactly as the runner runs it: its `run` script with
    `bash --noprofile --norc -eo pipefail` in the checkout, its environment from the inputs
    (named as in action.yml, `_` for `-`), and the GITHUB_* variables of ``event_name``
    (``event``: its payload, or raw text; by default a pull request on origin/main)."""
    output, summary, temp = tmp_path / "output", tmp_path / "summary.md", tmp_path / "runner-temp"
    temp.mkdir(exist_ok=True)
    if event is None and event_name.startswith("pull_request"):
        event = pull_request_event(
            subprocess.run(
                ["git", "ls-remote", "origin", "refs/heads/main"], cwd=clone, capture_output=True, text=True
            ).stdout[:40]
            or "0" * 40
        )
    env = {
        **os.environ,
        "GITHUB_ACTIONS": "true",
        "CI": "true",
        "GITHUB_OUTPUT": str(output),
        "GITHUB_STEP_SUMMARY": str(summary),
        "RUNNER_TEMP": str(temp),
        "GITHUB_REPOSITORY": "acme/models",
        "GITHUB_RUN_ID": "7",
        "GITHUB_EVENT_NAME": event_name,
        "GITHUB_WORKSPACE": str(clone),
    }
    if event is not None:
        (tmp_path / "event.json").write_text(event if isinstance(event, str) else json.dumps(event))
        env["GITHUB_EVENT_PATH"] = str(tmp_path / "event.json")
    if event_name in ("pull_request", "pull_request_target"):
        env |= {"GITHUB_BASE_REF": "main", "GITHUB_HEAD_REF": "feature"}  # only these events have them
    named = {key.replace("_", "-"): value for key, value in inputs.items()}
    env |= {key: _input(value, named) for key, value in GATE["env"].items()}
    env |= extra_env or {}
    (tmp_path / "gate.sh").write_text(GATE["run"])
    proc = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(tmp_path / "gate.sh")],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
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
    # the metric table shows what the regression rule judged, the failed comparison marked as the reason
    assert (
        "| `fraud-detector@1.0.0` | auc | `fraud-detector@1.0.0` at the base | 0.93 | 0.8 |"
        " -0.13 ↓ | maximize | 0 | ❌ **fails MG303**: auc regressed: 0\\.8 vs 0\\.93 in the base"
        " \\(`fraud-detector@1.0.0`\\) \\(maximize, tolerance 0\\) |"
    ) in summary
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
    repo.write(
        "p.yaml",
        "apiVersion: modelgate/v1\nkind: Policy\nname: p\nextends: [builtin:default]\n"
        "rules:\n  - {check: owners, severity: warning}\n",
    )
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


def test_every_python_the_action_runs_is_isolated_from_the_checkout() -> None:
    """The steps run in the checkout of the change: each Python must be started with -I."""
    runs = [step["run"] for step in ACTION["runs"]["steps"] if "run" in step]
    calls = [
        line.strip()
        for run in runs
        for line in run.splitlines()
        if re.search(r"(?i)\bpython3?\b|_PYTHON\b", line) and "PYTHON*" not in line
    ]
    assert len(calls) == 2, calls  # pip install, and the gate: setup-python's interpreter, by its path
    assert all(re.match(r'"\$MODELGATE_PYTHON" -I -m [\w.]+( |$)', call) for call in calls), calls
    action = REPO / "modelgate" / "integrations" / "github_action.py"
    assert re.search(r"PYTHON = \[sys\.executable, \"-I\"\]", action.read_text())


def test_the_install_step_runs_pip_outside_the_checkout_without_python_variables(tmp_path: Path) -> None:
    """The install step as written, with `python` a recorder (installing would need the network):
    pip is started isolated, outside the checkout, with no PYTHON* variable for the Pythons it
    starts itself (build backends, which do not inherit -I)."""
    [install] = [step for step in ACTION["runs"]["steps"] if "pip install" in step.get("run", "")]
    checkout, temp, bin_dir = tmp_path / "checkout", tmp_path / "runner-temp", tmp_path / "bin"
    for folder in (checkout, temp, bin_dir):
        folder.mkdir()
    record = tmp_path / "python-was-run"
    (bin_dir / "python").write_text(f'#!/bin/sh\n{{ pwd; echo "$@"; env; }} > {record}\n')
    (bin_dir / "python").chmod(0o755)
    (tmp_path / "install.sh").write_text(install["run"])
    assert install["env"]["MODELGATE_PYTHON"] == "${{ steps.python.outputs.python-path }}"
    env = {
        **os.environ,
        "MODELGATE_PYTHON": str(bin_dir / "python"),
        "RUNNER_TEMP": str(temp),
        "GITHUB_ACTION_PATH": str(REPO),
        "PYTHONPATH": str(checkout),
        "PYTHONSTARTUP": str(checkout / "x.py"),
        "PYTHONHOME": str(checkout),
    }
    subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(tmp_path / "install.sh")],
        cwd=checkout,
        env=env,
        check=True,
    )
    cwd, args, *variables = record.read_text().splitlines()
    assert cwd == str(temp)
    assert args.startswith("-I -m pip install ") and args.endswith(str(REPO))
    assert [v for v in variables if v.startswith("PYTHON")] == []


def _hostile_python(marker: Path) -> dict[str, str]:
    """A change that would replace the gate: each file leaves ``marker``-NAME if executed, and
    the fake package answers `pass` for the Action and for `python -m modelgate`."""
    leave = "import pathlib\npathlib.Path({!r}).write_text('executed')\n"
    passing = "import os, sys\nopen(os.environ['GITHUB_OUTPUT'], 'a').write('verdict<<x\\npass\\nx\\n')\nsys.exit(0)\n"
    return {
        "modelgate/__init__.py": leave.format(f"{marker}-package"),
        "modelgate/__main__.py": "import sys\nsys.exit(0)\n",
        "modelgate/integrations/github_action.py": passing,
        "sitecustomize.py": leave.format(f"{marker}-sitecustomize"),
        "usercustomize.py": leave.format(f"{marker}-usercustomize"),
    }


@pytest.mark.parametrize("path", ["checkout", "PYTHONPATH"])
def test_a_change_cannot_replace_the_gate(repo: Repo, tmp_path: Path, path: str) -> None:
    """A pull request adds a `modelgate/` package, sitecustomize.py and usercustomize.py; an
    earlier step may even have put the checkout on PYTHONPATH. The installed gate runs anyway
    and gives the real verdict; none of the change's Python is executed."""
    marker = tmp_path / "ran"
    clone = _pr_clone(repo, tmp_path, _hostile_python(marker))
    extra = {"PYTHONPATH": str(clone)} if path == "PYTHONPATH" else {}
    code, outputs, summary, log = _run_action(clone, tmp_path, extra_env=extra)
    assert sorted(p.name for p in tmp_path.glob("ran-*")) == []
    assert (code, outputs["verdict"], outputs["exit-code"]) == (1, "fail", "1"), log
    assert "## modelgate: ❌ fail" in summary
    report = json.loads(Path(outputs["json-report"]).read_text())
    assert report["verdict"] == "fail" and "no-metric-regression" in {
        r["name"] for r in report["results"] if r["outcome"] == "failed"
    }
    # The installed console script, run in the same checkout, imports nothing from it either.
    proc = subprocess.run(
        [MODELGATE, "check", "--base", repo.git("rev-parse", "main"), "--ci"], cwd=clone, capture_output=True, text=True
    )
    assert (proc.returncode, sorted(p.name for p in tmp_path.glob("ran-*"))) == (1, []), proc.stdout + proc.stderr


def _hostile_config(marker: Path) -> dict[str, str]:
    """A change that edits what it is judged by: a config naming itself as the base, a policy
    without rules, and a local plugin that leaves ``marker`` when imported."""
    return {
        ".modelgate.yaml": HOSTILE_CONFIG,
        "loose.yaml": LOOSE_POLICY,
        "evil.py": f"import pathlib\npathlib.Path({str(marker)!r}).write_text('executed')\n",
    }


def _event(name: str, base: str, head: str) -> dict[str, Any]:
    if name == "merge_group":
        return {
            "action": "checks_requested",
            "merge_group": {
                "head_sha": head,
                "head_ref": "refs/heads/gh-readonly-queue/main/pr-7-" + base,
                "base_sha": base,
                "base_ref": "refs/heads/main",
            },
        }
    if name == "push":
        return {
            "ref": "refs/heads/main",
            "before": base,
            "after": head,
            "created": False,
            "deleted": False,
            "forced": False,
        }
    return {**pull_request_event(base), "action": "submitted" if name == "pull_request_review" else "opened"}


@pytest.mark.parametrize(
    "event_name", ["pull_request", "pull_request_target", "pull_request_review", "merge_group", "push"]
)
def test_the_base_comes_from_the_event(repo: Repo, tmp_path: Path, event_name: str) -> None:
    """Every event names its base in its payload (pull_request_review has no GITHUB_BASE_REF):
    the change is judged by the base's config and policy, and its local plugin never runs."""
    marker = tmp_path / "plugin-ran"
    clone = _pr_clone(repo, tmp_path, _hostile_config(marker))
    base, head = repo.git("rev-parse", "main"), repo.git("rev-parse", "feature")
    code, outputs, _, log = _run_action(clone, tmp_path, event_name, _event(event_name, base, head))
    assert not marker.exists()
    assert (code, outputs["verdict"]) == (1, "fail"), log
    report = json.loads(Path(outputs["json-report"]).read_text())
    assert report["git"]["base"] == base
    assert [(p["path"], p["source"]) for p in report["policies"]] == [("builtin:default", "builtin")]
    assert "no-metric-regression" in {r["name"] for r in report["results"] if r["outcome"] == "failed"}
    assert "the edit takes effect after merge" in log


@pytest.mark.parametrize(
    ("event_name", "event", "says"),
    [
        (
            "pull_request_review",
            {"action": "submitted", "pull_request": {"number": 7, "base": {"ref": "main"}}},
            "has no pull_request.base.sha: the base cannot be determined",
        ),
        ("pull_request", {"action": "opened"}, "has no pull_request.base.sha"),
        (
            "merge_group",
            {"action": "checks_requested", "merge_group": {"head_sha": "a" * 40}},
            "has no merge_group.base_sha",
        ),
        ("push", {"ref": "refs/heads/main", "after": "a" * 40}, "has no before"),
        ("pull_request_review", "{not json", "not a JSON event payload"),
        ("pull_request_review", "[]", "the event payload is not a JSON object"),
        (
            "pull_request_review",
            {"pull_request": {"base": {"sha": "--upload-pack=false"}}},
            "pull_request.base.sha '--upload-pack=false' is not a full commit id",
        ),
        ("pull_request_review", {"pull_request": {"base": {"sha": "a" * 40 + "\n"}}}, "is not a full commit id"),
        ("pull_request_review", None, "GITHUB_EVENT_PATH is not set"),
        (
            "workflow_run",
            {"workflow_run": {"head_sha": "a" * 40}},
            "the workflow_run event does not say what this checkout is compared with",
        ),
    ],
)
def test_no_determinable_base_is_exit_4_naming_what_is_missing(
    repo: Repo, tmp_path: Path, event_name: str, event: Any, says: str
) -> None:
    """Never a run that trusts the work tree: its config names a base (HEAD) and a plugin."""
    marker = tmp_path / "plugin-ran"
    clone = _pr_clone(repo, tmp_path, _hostile_config(marker))
    # event None: the runner wrote no payload at all
    code, outputs, _, log = _run_action(
        clone, tmp_path, event_name, event, extra_env={"GITHUB_EVENT_PATH": ""} if event is None else None
    )
    assert (code, outputs["verdict"], outputs["exit-code"]) == (4, "error", "4"), log
    assert log.startswith("::error title=modelgate::") and says in log, log
    assert not marker.exists()


def test_base_none_is_refused_for_a_change_under_review(repo: Repo, tmp_path: Path) -> None:
    clone = _pr_clone(repo, tmp_path, _hostile_config(tmp_path / "plugin-ran"))
    code, outputs, _, log = _run_action(clone, tmp_path, "pull_request_review", base="none")
    assert (code, outputs["verdict"]) == (4, "error")
    assert "--base none: the pull_request_review event checks a change under review" in log


@pytest.mark.parametrize("event_name", ["schedule", "workflow_dispatch", "push"])
def test_a_branch_as_it_stands_is_checked_with_its_own_config(repo: Repo, tmp_path: Path, event_name: str) -> None:
    """A scheduled or manual run, or the push that created a branch, checks the branch as it
    stands: there the checkout is the trusted tree (its local plugin is the branch's own)."""
    marker = tmp_path / "plugin-ran"
    repo.write(".modelgate.yaml", "plugins: [own.py]\n")
    repo.write("own.py", f"import pathlib\npathlib.Path({str(marker)!r}).write_text('executed')\n")
    repo.manifest("m")
    head = repo.commit("the branch")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repo.root}", str(clone)], check=True)
    event = (
        {"ref": "refs/heads/main", "before": "0" * 40, "after": head, "created": True}
        if event_name == "push"
        else {"schedule": "0 4 * * *"}
    )
    code, outputs, _, log = _run_action(clone, tmp_path, event_name, event)
    assert (code, outputs["verdict"]) == (0, "pass"), log
    assert json.loads(Path(outputs["json-report"]).read_text())["git"]["base"] is None
    assert marker.exists()


def _race(repo: Repo) -> tuple[str, str]:
    """main: 1.0.0 in production, 2.0.0 and 3.0.0 in staging. Branches `a` and `b` each
    promote one of them with `modelgate promote` (which archives 1.0.0), each passes the gate
    on its own head; then both merge into main. Returns (main after `a`, main after `b`)."""
    for version, stage in (("1.0.0", "production"), ("2.0.0", "staging"), ("3.0.0", "staging")):
        repo.manifest(
            f"models/{version}",
            **production_fields(version=version, stage=stage, artifact_bytes=f"weights {version}".encode()),
        )
    repo.commit("1.0.0 in production, 2.0.0 and 3.0.0 in staging")
    for branch, version in (("a", "2.0.0"), ("b", "3.0.0")):
        repo.git("checkout", "-q", "-b", branch, "main")
        promoted = repo.run("promote", f"fraud-detector@{version}", "--to", "production")
        assert promoted.returncode == 0, promoted.stdout + promoted.stderr
        repo.commit(f"promote {version}")
        alone = repo.run("check", "--base", "main")
        assert alone.returncode == 0, alone.stdout  # green on its own head
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--no-ff", "a", "-m", "Merge pull request #1 from a")
    first = repo.git("rev-parse", "HEAD")
    repo.git("merge", "-q", "--no-ff", "b", "-m", "Merge pull request #2 from b")
    return first, repo.git("rev-parse", "HEAD")


def _two_production_versions(report: dict[str, Any]) -> list[tuple[str, str]]:
    return sorted(
        (r["model"], r["message"])
        for r in report["results"]
        if r["name"] == "exclusive-stage" and r["outcome"] == "failed"
    )


TWO = [
    (
        "fraud-detector@2.0.0",
        "fraud-detector@3.0.0 (models/3.0.0/modelgate.yaml) is also in exclusive stage 'production'",
    ),
    (
        "fraud-detector@3.0.0",
        "fraud-detector@2.0.0 (models/2.0.0/modelgate.yaml) is also in exclusive stage 'production'",
    ),
]


def test_two_pull_requests_green_alone_are_caught_together_by_the_merge_queue_and_the_push(
    repo: Repo, tmp_path: Path
) -> None:
    """The race end to end: two branches, each green alone, the merged result red, in the
    merge-queue run (base: main before the second merge, head: the merge) and in the push run
    after it (before..after), each through the Action's run step in a shallow clone."""
    first, second = _race(repo)
    clone = tmp_path / "clone"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", "--branch", "main", f"file://{repo.root}", str(clone)], check=True
    )
    queue = {
        "action": "checks_requested",
        "merge_group": {
            "head_sha": second,
            "head_ref": f"refs/heads/gh-readonly-queue/main/pr-2-{first}",
            "base_sha": first,
            "base_ref": "refs/heads/main",
        },
    }
    code, outputs, summary, log = _run_action(clone, tmp_path, "merge_group", queue)
    assert (code, outputs["verdict"]) == (1, "fail"), log
    report = json.loads(Path(outputs["json-report"]).read_text())
    assert report["git"]["base"] == first and report["git"]["head"] == second
    assert _two_production_versions(report) == TWO
    assert {r["name"] for r in report["results"] if r["outcome"] == "failed"} == {"exclusive-stage"}
    assert "fails the gate after this push" not in log
    push = {
        "ref": "refs/heads/main",
        "before": first,
        "after": second,
        "created": False,
        "deleted": False,
        "forced": False,
        "repository": {"full_name": "acme/models", "default_branch": "main"},
    }
    code, outputs, summary, log = _run_action(clone, tmp_path, "push", push)
    assert (code, outputs["verdict"]) == (1, "fail"), log
    assert _two_production_versions(json.loads(Path(outputs["json-report"]).read_text())) == TWO
    [loud] = [line for line in log.splitlines() if line.startswith("::error title=modelgate%3A main")]
    assert loud.startswith(
        f"::error title=modelgate%3A main fails the gate after this push::main at {second[:12]}"
        f" fails the gate after the push {first[:12]}..{second[:12]}: changes that passed one"
        " by one fail together once merged. Fix the branch now. Failed: MG402 exclusive-stage on"
        " fraud-detector@2.0.0: fraud-detector@3.0.0 (models/3.0.0/modelgate.yaml) is also in"
    )
    assert "::error file=models/2.0.0/modelgate.yaml" in log and "::error file=models/3.0.0/modelgate.yaml" in log
    assert "## modelgate: ❌ fail" in summary


def test_a_merge_group_whose_head_is_not_the_checkout_is_exit_4(repo: Repo, tmp_path: Path) -> None:
    first, second = _race(repo)
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--branch", "a", f"file://{repo.root}", str(clone)], check=True)
    queue = {
        "action": "checks_requested",
        "merge_group": {"head_sha": second, "base_sha": first, "base_ref": "refs/heads/main"},
    }
    code, outputs, _, log = _run_action(clone, tmp_path, "merge_group", queue)
    assert (code, outputs["verdict"]) == (4, "error"), log
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=clone, capture_output=True, text=True).stdout.strip()
    assert log == (
        f"::error title=modelgate::the merge_group event is about commit {second} but the checkout is"
        f" {head}: check out the event's commit (actions/checkout does by default)\n"
    )
