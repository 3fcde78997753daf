"""A waiver added in the pull request of the promotion it excuses: it takes effect only with a
verified approval from the policy file's code owners (CODEOWNERS of the base, GitHub reviews
from the local API), and once merged it is no false alarm on main or on later pull requests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Repo, production_fields
from tests.github_api import TOKEN, FakeGitHub, commit, github, permission, pull, review

__all__ = ["github"]  # the fixture, imported for pytest

PULLS = "/repos/acme/fraud/pulls/7"
POLICY = """\
apiVersion: modelgate/v1
kind: Policy
name: acme
extends: [builtin:default]
"""
WAIVER = """\
waivers:
  - check: no-metric-regression
    model: fraud-detector
    version: 1.1.0
    reason: "-0.02 AUC accepted for 3x lower latency (RISK-118)"
    expires: 2099-12-31
    owner: lead@acme.io
"""


def _fields(version: str, stage: str, auc: float) -> dict[str, Any]:
    return production_fields(
        version=version,
        stage=stage,
        metrics={"auc": {"value": auc, "goal": "maximize"}},
        artifact_bytes=f"weights {version}".encode(),
    )


class WaiverPR:
    """main: 1.0.0 in production, 1.1.0 (worse AUC) in staging, the policy owned by @lead;
    branch `promote` (by @author): 1.1.0 to production, 1.0.0 archived, and a waiver."""

    def __init__(
        self, repo: Repo, github: FakeGitHub, tmp_path: Path, codeowners: str = "*  @acme/ml\n/governance/  @lead\n"
    ) -> None:
        self.repo, self.github, self.tmp = repo, github, tmp_path
        repo.write("governance/policy.yaml", POLICY)
        repo.write(".modelgate.yaml", "policies: [governance/policy.yaml]\napprovals: {provider: github}\n")
        repo.write("CODEOWNERS", codeowners)
        repo.manifest("models/1.0.0", **_fields("1.0.0", "production", 0.93))
        repo.manifest("models/1.1.0", **_fields("1.1.0", "staging", 0.91))
        self.base = repo.commit("1.0.0 in production, 1.1.0 in staging")
        repo.git("checkout", "-q", "-b", "promote")
        repo.manifest("models/1.0.0", **_fields("1.0.0", "archived", 0.93))
        repo.manifest("models/1.1.0", **_fields("1.1.0", "production", 0.91))
        repo.write("governance/policy.yaml", POLICY + WAIVER)
        self.head = repo.commit("promote 1.1.0, with a waiver for its AUC")
        github.answer(PULLS, pull(7, "author", self.head, self.base))
        github.pages(f"{PULLS}/commits", [commit(self.head, "author", "author@example.com")], per_page=30)
        for login in ("reviewer", "lead", "author"):
            github.answer(f"/repos/acme/fraud/collaborators/{login}/permission", permission(login, "write"))
        self.reviews()

    def reviews(self, *reviews: dict[str, Any]) -> None:
        self.github.pages(f"{PULLS}/reviews", list(reviews), per_page=30)

    def env(self, name: str = "pull_request_review", payload: dict[str, Any] | None = None) -> dict[str, str]:
        event = self.tmp / "event.json"
        event.write_text(
            json.dumps(
                payload
                if payload is not None
                else {"action": "submitted", "pull_request": pull(7, "author", self.head, self.base)}
            )
        )
        return {
            "GITHUB_TOKEN": TOKEN,
            "GITHUB_REPOSITORY": "acme/fraud",
            "GITHUB_API_URL": self.github.url,
            "GITHUB_EVENT_PATH": str(event),
            "GITHUB_EVENT_NAME": name,
            "CI": "true",
        }

    def check(self, *args: str, env: dict[str, str] | None = None) -> tuple[int, dict[str, Any], str]:
        report = self.tmp / "report.json"
        proc = self.repo.run("check", "--json", str(report), *args, env=env if env is not None else self.env())
        assert "Traceback" not in proc.stderr, proc.stderr
        return proc.returncode, json.loads(report.read_text()), proc.stdout + proc.stderr


def _outcome(report: dict[str, Any], name: str, model: str = "fraud-detector@1.1.0") -> dict[str, Any]:
    [result] = [r for r in report["results"] if r["name"] == name and r["model"] == model]
    return result


def _stale(report: dict[str, Any]) -> list[str]:
    return [r["message"] for r in report["results"] if r["name"] == "waiver-stale" and r["outcome"] != "passed"]


@pytest.fixture
def pr(repo: Repo, github: FakeGitHub, tmp_path: Path) -> WaiverPR:
    return WaiverPR(repo, github, tmp_path)


def test_a_waiver_added_with_its_promotion_waits_for_the_policy_owners_approval(pr: WaiverPR) -> None:
    pending = (
        "notice: waiver-pending: governance/policy.yaml:6:5 waives no-metric-regression on"
        " fraud-detector@1.1.0 but this change adds it, so it waives nothing yet: it takes effect when @lead"
        " (code owners of governance/policy.yaml at the base) approves this pull request"
    )
    # No review: the approvals rule and the regression fail, and the notice says who must approve.
    code, report, out = pr.check("--base", "main")
    assert code == 1
    assert _outcome(report, "no-metric-regression")["outcome"] == "failed"
    assert pending + "; or merge the waiver in a pull request of its own first" in out
    assert (
        "hint: a waiver this change adds (governance/policy.yaml:6:5) waives nothing yet: it takes effect when @lead"
    ) in out
    # An approval of the head by someone who does not own the policy file: the promotion is
    # approved, the waiver is not.
    pr.reviews(review(80, "reviewer", "APPROVED", pr.head))
    code, report, out = pr.check("--base", "main")
    assert code == 1
    assert _outcome(report, "approvals")["outcome"] == "passed"
    assert _outcome(report, "no-metric-regression")["outcome"] == "failed"
    assert pending + " (rejected: @reviewer: not one of ['@lead'])" in out, out
    # The owner approving an older commit does not count; approving the head does.
    pr.reviews(review(80, "reviewer", "APPROVED", pr.head), review(81, "lead", "APPROVED", pr.base))
    assert pr.check("--base", "main")[0] == 1
    pr.reviews(review(80, "reviewer", "APPROVED", pr.head), review(82, "lead", "APPROVED", pr.head))
    code, report, out = pr.check("--base", "main")
    assert code == 0, out
    waived = _outcome(report, "no-metric-regression")
    assert waived["outcome"] == "waived"
    assert waived["waiver"]["policy"] == (
        f"governance/policy.yaml:6:5, added by this change, approved by @lead"
        f" (review 82 of pull request #7 on {pr.head})"
    )
    assert "waiver-pending" not in out


def test_the_author_cannot_approve_their_own_waiver(repo: Repo, github: FakeGitHub, tmp_path: Path) -> None:
    pr = WaiverPR(repo, github, tmp_path, codeowners="/governance/  @author\n")  # the base names the author
    pr.reviews(review(80, "reviewer", "APPROVED", pr.head), review(81, "author", "APPROVED", pr.head))
    code, report, out = pr.check("--base", "main")
    assert code == 1
    assert _outcome(report, "no-metric-regression")["outcome"] == "failed"
    assert "(rejected: @reviewer: not one of ['@author']; @author: authored this change)" in out, out


def test_a_codeowners_line_the_change_adds_does_not_make_anyone_an_owner(
    repo: Repo, github: FakeGitHub, tmp_path: Path
) -> None:
    pr = WaiverPR(repo, github, tmp_path)
    repo.write("CODEOWNERS", "*  @acme/ml\n/governance/  @reviewer\n")
    pr.head = repo.commit("make my reviewer the owner")
    github.answer(PULLS, pull(7, "author", pr.head, pr.base))
    pr.reviews(review(80, "reviewer", "APPROVED", pr.head))
    code, _report, out = pr.check("--base", "main")
    assert code == 1
    assert "it takes effect when @lead (code owners of governance/policy.yaml at the base)" in out


def test_without_a_provider_the_waiver_waits_for_ci(pr: WaiverPR) -> None:
    """On a laptop nothing can verify an approval: the waiver waits (fail closed), and says so."""
    proc = pr.repo.run("check", "--base", "main")
    assert proc.returncode == 1
    assert (
        "it takes effect when @lead (code owners of governance/policy.yaml at the base) approves this pull"
        " request, verified in CI (no GITHUB_TOKEN in the environment to read the pull request's reviews with"
        " here)"
    ) in proc.stdout


def test_after_the_merge_no_run_calls_the_waiver_stale(pr: WaiverPR) -> None:
    """The waiver documents 1.1.0's accepted regression for as long as 1.1.0 is live: the push
    run after the merge, a run on main, and a later pull request raise no waiver-stale."""
    pr.reviews(review(80, "reviewer", "APPROVED", pr.head), review(82, "lead", "APPROVED", pr.head))
    assert pr.check("--base", "main")[0] == 0
    repo = pr.repo
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--no-ff", "promote", "-m", "Merge pull request #7")
    merged = repo.git("rev-parse", "HEAD")
    push = {
        "ref": "refs/heads/main",
        "before": pr.base,
        "after": merged,
        "created": False,
        "deleted": False,
        "forced": False,
        "repository": {"full_name": "acme/fraud", "default_branch": "main"},
    }
    code, report, out = pr.check(env=pr.env("push", push))
    assert code == 0, out
    assert _outcome(report, "no-metric-regression")["outcome"] == "waived"
    assert _outcome(report, "approvals")["outcome"] == "skipped"
    assert _stale(report) == []
    # main as it stands (a scheduled run), and a later pull request that touches something else.
    code, report, out = pr.check("--base", "none", env={})
    assert (code, _stale(report)) == (0, []), out
    repo.git("checkout", "-q", "-b", "later")
    repo.write("README.md", "docs\n")
    repo.commit("docs")
    code, report, out = pr.check("--base", "main", env={})
    assert (code, _stale(report)) == (0, []), out
    code, report, out = pr.check("--base", "main", "--strict", env={})
    assert code == 0, out
    # Once 1.1.0 is archived, the waiver can no longer apply: now it is stale.
    repo.manifest("models/1.1.0", **_fields("1.1.0", "archived", 0.91))
    repo.manifest("models/1.0.0", **_fields("1.0.0", "production", 0.93))
    code, report, out = pr.check("--base", "none", env={})
    assert _stale(report) == [
        "waiver for no-metric-regression on fraud-detector@1.1.0 (governance/policy.yaml:6:5)"
        " can no longer apply: fraud-detector@1.1.0 is archived"
    ]


def test_a_waiver_in_a_file_the_change_makes_its_policy_extend_waits_for_the_merge(
    repo: Repo, github: FakeGitHub, tmp_path: Path
) -> None:
    """The change cannot choose whose approval its waiver needs by writing it in a new file,
    owned by someone friendlier, that the policy now extends."""
    pr = WaiverPR(repo, github, tmp_path, codeowners="*  @reviewer\n/governance/policy.yaml  @lead\n")
    repo.write("governance/policy.yaml", POLICY.replace("[builtin:default]", "[governance/extra.yaml]"))
    repo.write("governance/extra.yaml", POLICY.replace("name: acme", "name: extra") + WAIVER)
    pr.head = repo.commit("the waiver, in a file of its own")
    github.answer(PULLS, pull(7, "author", pr.head, pr.base))
    pr.reviews(review(80, "reviewer", "APPROVED", pr.head))
    code, report, out = pr.check("--base", "main")
    assert code == 1, out
    assert _outcome(report, "no-metric-regression")["outcome"] == "failed"
    assert "waiver-pending" not in out and "waiver-approved" not in out
