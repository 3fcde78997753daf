"""A promotion, start to finish: the whole path through the installed command in one
repository, as README's section "A promotion, start to finish" tells it, with its output.

init, check, promote to staging (what is missing shown), fix, promote to production (the
incumbent archived), a regression blocked and shown in the Markdown table, a waiver approved
in the same pull request by the policy's code owner (GitHub's REST API played by the local
server of tests/github_api.py), merge, no stale warning after it, and two pull requests that
pass alone caught together by the merge-queue run and by the push run (the Action's run
step in a shallow clone).

Every ```text block of that README section is a command (``$ ...``) and the output the walk
gets for it here, compared with durations and commit ids blanked; run with
``WRITE_WALK_README=1`` to write the walk's output into the README.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

from tests.conftest import LOCK, MODELGATE, REPO, Repo, production_fields, sha256
from tests.github_api import TOKEN, FakeGitHub, commit, github, permission, pull, review
from tests.test_integrations_github_action import _run_action

__all__ = ["github"]  # the fixture, imported for pytest

README = REPO / "README.md"
SECTION = "## A promotion, start to finish"
PULLS = "/repos/acme/fraud/pulls/12"


def _section() -> str:
    """The README section, up to the next heading outside a code block."""
    text = README.read_text()
    start = text.index(SECTION)
    fenced, offset = False, start
    for line in text[start:].splitlines(keepends=True):
        if line.startswith("```"):
            fenced = not fenced
        elif line.startswith("## ") and not fenced and offset > start:
            return text[start:offset]
        offset += len(line)
    return text[start:]


def _blank(text: str) -> str:
    text = re.sub(r" in \d+\.\d+s ", " in 0.00s ", text)
    return re.sub(r"\b[0-9a-f]{12,64}\b", "<commit>", text)


def _yaml_blocks() -> list[str]:
    return re.findall(r"```yaml\n(.+?)```", _section(), re.S)


class Walk:
    """The repository and what each step printed, as (command line, output) in order."""

    def __init__(self, repo: Repo, github: FakeGitHub, tmp_path: Path) -> None:
        self.repo, self.github, self.tmp = repo, github, tmp_path
        self.shown: list[tuple[str, str]] = []

    def run(
        self,
        command: str,
        env: dict[str, str] | None = None,
        expect: int = 0,
        show: bool = True,
        stdout_only: bool = False,
    ) -> str:
        argv = shlex.split(command.split("  #")[0])
        assert argv[0] == "modelgate"
        proc = subprocess.run(
            [MODELGATE, *argv[1:]],
            cwd=self.repo.root,
            capture_output=True,
            text=True,
            env={**os.environ, **(env or {})},
            timeout=120,
        )
        assert "Traceback" not in proc.stderr, proc.stderr
        assert proc.returncode == expect, f"{command}: exit {proc.returncode}\n{proc.stdout}{proc.stderr}"
        out = proc.stdout if stdout_only else proc.stdout + proc.stderr
        if show:
            self.shown.append((command, out))
        return out

    def action(self, label: str, event_name: str, event: dict[str, Any], expect: int) -> tuple[str, dict[str, Any]]:
        """The Action's run step on ``event`` in a fresh shallow clone of main."""
        clone = self.tmp / f"clone-{len(self.shown)}"
        subprocess.run(
            ["git", "clone", "-q", "--depth", "1", "--branch", "main", f"file://{self.repo.root}", str(clone)],
            check=True,
        )
        code, outputs, _, log = _run_action(clone, self.tmp, event_name, event)
        assert code == expect, log
        report = json.loads(Path(outputs["json-report"]).read_text())
        # The Action's log holds the terminal report, then GitHub annotations: show the report
        # and the annotations that are about the run rather than one manifest line.
        lines = [
            line
            for line in log.splitlines()
            if not line.startswith("::error file=")
            and not line.startswith("::warning file=")
            and not line.startswith("::notice file=")
        ]
        self.shown.append((label, "\n".join(lines) + "\n"))
        return log, report

    def ci_env(self, name: str = "pull_request_review") -> dict[str, str]:
        base, head = self.repo.git("rev-parse", "main"), self.repo.git("rev-parse", "HEAD")
        event = self.tmp / "event.json"
        event.write_text(json.dumps({"action": "submitted", "pull_request": pull(12, "ana", head, base)}))
        return {
            "GITHUB_TOKEN": TOKEN,
            "GITHUB_REPOSITORY": "acme/fraud",
            "GITHUB_API_URL": self.github.url,
            "GITHUB_EVENT_PATH": str(event),
            "GITHUB_EVENT_NAME": name,
        }

    def pull_request(self, *reviews: dict[str, Any]) -> None:
        base, head = self.repo.git("rev-parse", "main"), self.repo.git("rev-parse", "HEAD")
        self.github.answer(PULLS, pull(12, "ana", head, base))
        self.github.pages(f"{PULLS}/commits", [commit(head, "ana", "ana@acme.io")], per_page=30)
        self.github.pages(f"{PULLS}/reviews", list(reviews), per_page=30)
        for login in ("lead", "bo"):
            self.github.answer(f"/repos/acme/fraud/collaborators/{login}/permission", permission(login, "write"))

    def merge(self, branch: str, number: int) -> str:
        self.repo.git("checkout", "-q", "main")
        self.repo.git("merge", "-q", "--no-ff", branch, "-m", f"Merge pull request #{number} from acme/{branch}")
        return self.repo.git("rev-parse", "HEAD")


def _history(repo: Repo) -> None:
    """The team's repository before the walk: its policy, its code owners, and fraud-detector
    1.0.0 in production."""
    repo.git("config", "user.email", "ana@acme.io")
    repo.write(".modelgate.yaml", "policies: [governance/policy.yaml]\napprovals: {provider: github}\n")
    repo.write(
        "governance/policy.yaml", "apiVersion: modelgate/v1\nkind: Policy\nname: acme\nextends: [builtin:default]\n"
    )
    repo.write("CODEOWNERS", "*  @acme/ml\n/governance/  @lead\n")
    repo.manifest(
        "models/fraud-detector/1.0.0",
        **production_fields(version="1.0.0", owners=["@acme/ml"], metrics={"auc": {"value": 0.93, "goal": "maximize"}}),
    )
    repo.commit("fraud-detector 1.0.0 in production")


def _staged(repo: Repo, version: str, auc: float) -> None:
    repo.manifest(
        f"models/fraud-detector/{version}",
        artifact_bytes=f"weights {version}".encode(),
        **production_fields(
            version=version, stage="staging", owners=["@acme/ml"], metrics={"auc": {"value": auc, "goal": "maximize"}}
        ),
    )


def test_a_promotion_start_to_finish(repo: Repo, github: FakeGitHub, tmp_path: Path) -> None:
    walk = Walk(repo, github, tmp_path)
    _history(repo)
    fix, waiver = _yaml_blocks()
    manifest = repo.root / "models/fraud-detector/1.1.0/modelgate.yaml"

    # 1. A new version: init writes the manifest, check passes.
    repo.git("checkout", "-q", "-b", "fraud-1.1.0")
    repo.write("models/fraud-detector/1.1.0/model.onnx", b"retrained weights" * 4096)
    walk.run(
        "modelgate init models/fraud-detector/1.1.0/model.onnx --name fraud-detector --version 1.1.0"
        " --license Apache-2.0"
    )
    assert 'version: "1.1.0"' in manifest.read_text()
    walk.run("modelgate check")

    # 2. Promote to staging: what is missing is listed (exit 1), the stage is set.
    out = walk.run("modelgate promote fraud-detector@1.1.0 --to staging", expect=1)
    assert "still missing before this promotion can merge:" in out
    assert "MG201 required-fields: lineage.data is required at stage 'staging'" in out
    assert "MG302 required-metrics: at least 1 metric(s) required at stage 'staging', found 0" in out
    # Readiness: what production will also need is said now, while the version may change.
    assert "once at staging, to reach production this version still needs" in out
    assert "MG201 required-fields: lineage.environment.lockfile is required at stage 'production'" in out
    assert "verified in CI at production: MG603 approvals" in out

    # 3. Fix: the lineage and metrics README shows, appended to the manifest init wrote.
    repo.write("models/fraud-detector/1.1.0/requirements.lock", LOCK)
    assert sha256(LOCK) in fix
    manifest.write_text(manifest.read_text() + fix)
    walk.run("modelgate check --base main")
    repo.commit("fraud-detector 1.1.0 in staging")
    walk.merge("fraud-1.1.0", 11)

    # 4. Promote to production: 1.0.0, the incumbent, is archived in the same change; the
    # lower AUC is a regression against it, and blocks.
    repo.git("checkout", "-q", "-b", "promote-1.1.0")
    out = walk.run("modelgate promote fraud-detector@1.1.0 --to production", expect=1)
    assert "  and fraud-detector@1.0.0: production -> archived" in out
    assert "MG303 no-metric-regression" in out
    assert '"stage": "archived"' in (repo.root / "models/fraud-detector/1.0.0/modelgate.yaml").read_text()
    out = walk.run("modelgate check --base main --markdown -", expect=1, stdout_only=True)
    assert out.startswith("## modelgate: ❌ fail")
    assert "| `fraud-detector` | `1.1.0` | staging → production | ❌ 1 failed |" in out
    assert "- **MG303 no\\-metric\\-regression** · `fraud-detector@1.1.0`" in out
    assert "auc regressed: 0\\.91 vs 0\\.93 in `fraud-detector@1.0.0`" in out
    # The metric table shows what the rule judged: 1.1.0 against the incumbent, the reason.
    assert (
        "| `fraud-detector@1.1.0` | auc | `fraud-detector@1.0.0` in production | 0.93 | 0.91"
        " | -0.02 ↓ | maximize | 0 | ❌ **fails MG303**"
    ) in out

    # 5. The team accepts it: a waiver in the same pull request, pending until the policy's
    # code owner approves the pull request's head.
    (repo.root / "governance/policy.yaml").write_text((repo.root / "governance/policy.yaml").read_text() + waiver)
    repo.commit("promote fraud-detector 1.1.0 to production; waive its AUC (RISK-118)")
    walk.pull_request(review(90, "bo", "APPROVED", repo.git("rev-parse", "HEAD")))
    out = walk.run("modelgate check --base main --ci", env=walk.ci_env(), expect=1)
    assert "waiver-pending: governance/policy.yaml:6:5 waives no-metric-regression on fraud-detector@1.1.0" in out
    assert "it takes effect when @lead (code owners of governance/policy.yaml at the base) approves" in out
    head = repo.git("rev-parse", "HEAD")
    walk.pull_request(review(90, "bo", "APPROVED", head), review(91, "lead", "APPROVED", head))
    out = walk.run("modelgate check --base main --ci", env=walk.ci_env())
    assert "1 waived" in out and "added by this change, approved by @lead" in out

    # 6. Merged: the push run and every later run raise no waiver-stale.
    before = repo.git("rev-parse", "main")
    after = walk.merge("promote-1.1.0", 12)
    push = {
        "ref": "refs/heads/main",
        "before": before,
        "after": after,
        "created": False,
        "deleted": False,
        "forced": False,
        "repository": {"full_name": "acme/fraud", "default_branch": "main"},
    }
    _, report = walk.action("the Action on the push of the merge to main", "push", push, expect=0)
    assert [r for r in report["results"] if r["name"] == "waiver-stale" and r["outcome"] != "passed"] == []
    out = walk.run("modelgate check --strict")
    assert "waiver-stale" not in out

    # 7. Two pull requests race: each promotes another version to production and passes on
    # its own head; merged one after the other, main would hold two production versions.
    _staged(repo, "1.2.0", 0.94)
    _staged(repo, "1.3.0", 0.95)
    repo.commit("fraud-detector 1.2.0 and 1.3.0 in staging")
    for branch, version in (("promote-1.2.0", "1.2.0"), ("promote-1.3.0", "1.3.0")):
        repo.git("checkout", "-q", "-b", branch, "main")
        walk.run(f"modelgate promote fraud-detector@{version} --to production", show=False)
        repo.commit(f"promote fraud-detector {version} to production")
        walk.run("modelgate check --base main", show=branch.endswith("1.3.0"))
    first = walk.merge("promote-1.2.0", 13)
    second = walk.merge("promote-1.3.0", 14)
    queue = {
        "action": "checks_requested",
        "merge_group": {
            "head_sha": second,
            "head_ref": f"refs/heads/gh-readonly-queue/main/pr-14-{first}",
            "base_sha": first,
            "base_ref": "refs/heads/main",
        },
    }
    two = [
        "fraud-detector@1.2.0 (models/fraud-detector/1.2.0/modelgate.yaml) is also in exclusive stage 'production'",
        "fraud-detector@1.3.0 (models/fraud-detector/1.3.0/modelgate.yaml) is also in exclusive stage 'production'",
    ]
    _, report = walk.action(
        "the Action on the merge_group event of the second pull request", "merge_group", queue, expect=1
    )
    assert (
        sorted(r["message"] for r in report["results"] if r["name"] == "exclusive-stage" and r["outcome"] == "failed")
        == two
    )
    push = {**push, "before": first, "after": second}
    log, report = walk.action("the Action on the push of both merges to main", "push", push, expect=1)
    assert "::error title=modelgate%3A main fails the gate after this push::" in log

    _compare_with_readme(walk.shown)


def _compare_with_readme(shown: list[tuple[str, str]]) -> None:
    blocks = [
        f"$ {command}\n{output.rstrip()}" if command.startswith("modelgate") else f"# {command}\n{output.rstrip()}"
        for command, output in shown
    ]
    if os.environ.get("WRITE_WALK_README") == "1":
        text = README.read_text()
        section = _section()
        olds = re.findall(r"```text\n(.+?)\n```", section, re.S)
        assert len(olds) == len(blocks), f"the README section has {len(olds)} text blocks, the walk {len(blocks)}"
        new = section
        for old, block in zip(olds, blocks, strict=True):
            new = new.replace(f"```text\n{old}\n```", f"```text\n{block}\n```", 1)
        README.write_text(text.replace(section, new))
    written = re.findall(r"```text\n(.+?)\n```", _section(), re.S)
    assert [_blank(b) for b in written] == [_blank(b) for b in blocks], (
        "README's 'A promotion, start to finish' differs from the walk: WRITE_WALK_README=1 pytest"
        " tests/test_promotion_walk.py rewrites its output blocks"
    )
