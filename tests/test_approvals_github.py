"""The ``github`` approvals provider: a real repository with a promotion on a branch, the
GitHub REST API played by a local HTTP server with GitHub's JSON shapes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from modelgate.reporters.audit import render_markdown
from tests.conftest import Repo, check_in_process, production_fields
from tests.github_api import TOKEN, FakeGitHub, commit, github, permission, pull, review, user

__all__ = ["github"]  # the fixture, imported for pytest

PULLS = "/repos/acme/fraud/pulls/7"
RULE = "{check: approvals, stages: [production], with: {min: 1}}"


class PullRequest:
    """main: a staging model and the policy; branch `promote`: the promotion, by @author."""

    def __init__(
        self,
        repo: Repo,
        github: FakeGitHub,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        rule: str = RULE,
        config: str = "policies: [policy.yaml]\napprovals: {provider: github}\n",
    ) -> None:
        self.repo, self.github = repo, github
        repo.write(
            "policy.yaml",
            f"""\
            apiVersion: modelgate/v1
            kind: Policy
            name: acme
            extends: [builtin:default]
            rules:
              - {rule}
            """,
        )
        repo.write(".modelgate.yaml", config)
        repo.write("CODEOWNERS", "*  @acme/platform\n/m/  @acme/ml-leads\n")
        repo.manifest("m", **production_fields(stage="staging"))
        self.base = repo.commit("base")
        repo.git("checkout", "-q", "-b", "promote")
        repo.manifest("m", **production_fields())
        self.head = repo.commit("promote fraud-detector to production")
        github.answer(PULLS, pull(7, "author", self.head, self.base))
        github.pages(f"{PULLS}/commits", [commit(self.head, "author", "author@example.com")], per_page=30)
        github.pages(f"{PULLS}/reviews", [], per_page=30)
        # Everyone these tests name may push, unless a test says otherwise.
        self.grant("reviewer", "lead", "boss", "friend", "helper", "author", "Author")
        event = tmp_path / "event.json"
        event.write_text(
            json.dumps(
                {
                    "action": "submitted",
                    "review": review(1, "reviewer", "APPROVED", self.head),
                    "pull_request": pull(7, "author", self.head, self.base),
                }
            )
        )
        for name, value in {
            "GITHUB_TOKEN": TOKEN,
            "GITHUB_REPOSITORY": "acme/fraud",
            "GITHUB_API_URL": github.url,
            "GITHUB_EVENT_PATH": str(event),
            "GITHUB_EVENT_NAME": "pull_request_review",
        }.items():
            monkeypatch.setenv(name, value)

    def reviews(self, *reviews: dict[str, Any], per_page: int = 30) -> None:
        self.github.pages(f"{PULLS}/reviews", list(reviews), per_page)

    def grant(self, *logins: str, role: str = "write") -> None:
        for login in logins:
            self.github.answer(f"/repos/acme/fraud/collaborators/{login}/permission", permission(login, role))

    def members(self, team: str, *logins: str) -> None:
        org, slug = team.lstrip("@").split("/")
        self.github.pages(f"/orgs/{org}/teams/{slug}/members", [user(login) for login in logins], per_page=30)

    def check(self, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
        report = check_in_process(self.repo, "--base", "main", "--ci", *args, capsys=capsys)
        return report.code, report.result("approvals")


@pytest.fixture
def pr(repo: Repo, github: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PullRequest:
    return PullRequest(repo, github, tmp_path, monkeypatch)


def test_approval_of_the_head_by_another_person_passes(pr: PullRequest, capsys: pytest.CaptureFixture[str]) -> None:
    pr.reviews(review(80, "reviewer", "APPROVED", pr.head))
    code, result = pr.check(capsys, "--audit", str(pr.repo.root.parent / "audit.json"))
    assert (code, result["outcome"]) == (0, "passed")
    assert result["message"] == f"approved by @reviewer (review 80 of pull request #7 on {pr.head})"
    audit = json.loads((pr.repo.root.parent / "audit.json").read_text())
    assert audit["approvals"] == [
        {
            "who": "@reviewer",
            "model": "fraud-detector@1.0.0",
            "stage": "production",
            "when": "2026-11-01T12:30:00Z",
            "provider": "github",
            "evidence": f"review 80 of pull request #7 on {pr.head}",
        }
    ]
    # Escaped for Markdown: no @mention or #reference (code spans: GitHub links neither), no HTML.
    assert (
        "- approved by `@reviewer` for `fraud-detector@1.0.0` -> production (github: review 80"
        f" of pull request `#7` on {pr.head}, 2026\\-11\\-01T12:30:00Z)"
    ) in render_markdown(audit)


def test_the_gate_checks_githubs_merge_commit_too(pr: PullRequest, capsys: pytest.CaptureFixture[str]) -> None:
    # actions/checkout of a pull_request event checks out refs/pull/7/merge: main + the head.
    pr.repo.git("checkout", "-q", "--detach", "main")
    pr.repo.git("merge", "-q", "--no-ff", "-m", "Merge 7 into main", "promote")
    pr.reviews(review(80, "reviewer", "APPROVED", pr.head))
    code, result = pr.check(capsys)
    assert (code, result["outcome"]) == (0, "passed")


def test_stale_approval_of_an_older_commit_fails(pr: PullRequest, capsys: pytest.CaptureFixture[str]) -> None:
    old = pr.base
    pr.reviews(review(80, "reviewer", "APPROVED", old))
    code, result = pr.check(capsys)
    assert (code, result["outcome"]) == (1, "failed")
    assert result["message"] == (
        "needs 1 verified approval(s) for fraud-detector@1.0.0 -> production, has 0; rejected: @reviewer:"
        f" approved {old[:12]}, not the head {pr.head[:12]} (stale) (review 80 of pull request #7 on {old})"
    )


def test_self_review_by_the_pull_requests_author_fails(pr: PullRequest, capsys: pytest.CaptureFixture[str]) -> None:
    pr.reviews(review(80, "Author", "APPROVED", pr.head))  # logins compare case-insensitively
    code, result = pr.check(capsys)
    assert (code, result["outcome"]) == (1, "failed")
    assert "; rejected: @Author: authored this change (review 80 " in result["message"]


def test_approval_by_a_commit_author_fails(pr: PullRequest, capsys: pytest.CaptureFixture[str]) -> None:
    pr.github.pages(
        f"{PULLS}/commits",
        [commit(pr.base, "author", "author@example.com"), commit(pr.head, "helper", "helper@example.com")],
        per_page=30,
    )
    pr.reviews(review(80, "helper", "APPROVED", pr.head))
    code, result = pr.check(capsys)
    assert (code, result["outcome"]) == (1, "failed")
    assert "rejected: @helper: authored this change" in result["message"]


def test_commit_author_without_a_github_account_blocks_approvals(
    pr: PullRequest, capsys: pytest.CaptureFixture[str]
) -> None:
    pr.github.pages(f"{PULLS}/commits", [commit(pr.head, None, "ghost@example.com")], per_page=30)
    pr.reviews(review(80, "reviewer", "APPROVED", pr.head))
    code, result = pr.check(capsys)
    assert (code, result["outcome"]) == (1, "failed")
    assert (
        "@reviewer: cannot tell whether they authored this change: commits by ghost@example.com have no"
        " github account to compare with"
    ) in result["message"]


def test_dismissed_review_fails(pr: PullRequest, capsys: pytest.CaptureFixture[str]) -> None:
    pr.reviews(review(80, "reviewer", "DISMISSED", pr.head))
    code, result = pr.check(capsys)
    assert (code, result["outcome"]) == (1, "failed")
    assert "rejected: @reviewer: the review was dismissed (review 80 " in result["message"]


def test_approval_by_a_bot_fails(pr: PullRequest, capsys: pytest.CaptureFixture[str]) -> None:
    """A workflow in the change could make github-actions[bot] approve the pull request."""
    bot = review(80, "github-actions[bot]", "APPROVED", pr.head) | {
        "user": user("github-actions[bot]", 41898282, type="Bot")
    }
    pr.reviews(bot)
    code, result = pr.check(capsys)
    assert (code, result["outcome"]) == (1, "failed")
    assert "rejected: @github-actions[bot]: an approval by a Bot account, not a person (review 80 " in result["message"]


def test_changes_requested_after_approving_withdraws_the_approval(
    pr: PullRequest, capsys: pytest.CaptureFixture[str]
) -> None:
    pr.reviews(
        review(80, "reviewer", "APPROVED", pr.head),
        review(81, "reviewer", "CHANGES_REQUESTED", pr.head),
        review(82, "reviewer", "COMMENTED", pr.head),
    )
    code, result = pr.check(capsys)
    assert (code, result["outcome"]) == (1, "failed")
    assert "rejected: @reviewer: requested changes after approving (review 81 " in result["message"]


def test_reviews_on_a_later_page_count(pr: PullRequest, capsys: pytest.CaptureFixture[str]) -> None:
    comments = [review(n, f"user{n}", "COMMENTED", pr.head) for n in range(1, 6)]
    pr.reviews(*comments, review(80, "reviewer", "APPROVED", pr.head), per_page=2)
    code, result = pr.check(capsys)
    assert (code, result["outcome"]) == (0, "passed")
    assert f"{PULLS}/reviews?per_page=100&page=3" in pr.github.requests


def test_commit_authors_and_team_members_on_later_pages_count(
    repo: Repo, github: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pr = PullRequest(
        repo,
        github,
        tmp_path,
        monkeypatch,
        rule='{check: approvals, stages: [production], with: {min: 1, from: ["@acme/ml-leads"]}}',
    )
    commits = [commit(pr.head, f"dev{n}", f"dev{n}@example.com") for n in range(4)]
    github.pages(f"{PULLS}/commits", [*commits, commit(pr.head, "lead", "lead@example.com")], per_page=2)
    github.pages(
        "/orgs/acme/teams/ml-leads/members",
        [user(f"m{n}") for n in range(5)] + [user("lead"), user("boss")],
        per_page=3,
    )
    pr.reviews(review(80, "lead", "APPROVED", pr.head))
    code, result = pr.check(capsys)
    assert (code, result["outcome"]) == (1, "failed")
    assert "rejected: @lead: authored this change" in result["message"]  # the commit on page 3
    pr.reviews(review(80, "lead", "APPROVED", pr.head), review(81, "boss", "APPROVED", pr.head))
    code, result = pr.check(capsys)
    assert (code, result["outcome"]) == (0, "passed")  # a member on page 3
    assert result["message"].startswith(f"approved by @boss (review 81 of pull request #7 on {pr.head})")
    assert "/orgs/acme/teams/ml-leads/members?per_page=100&page=3" in github.requests


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (500, {"message": "Server Error"}, f"GET {PULLS}/reviews: 500 Internal Server Error (Server Error)"),
        (404, {"message": "Not Found"}, f"GET {PULLS}/reviews: 404 Not Found (Not Found)"),
    ],
)
def test_api_error_fails_closed_in_ci_and_skips_on_a_laptop(
    pr: PullRequest, capsys: pytest.CaptureFixture[str], status: int, body: dict[str, str], expected: str
) -> None:
    pr.github.answer(f"{PULLS}/reviews", body, status=status)
    code, result = pr.check(capsys)
    assert (code, result["outcome"]) == (1, "failed")
    assert result["message"] == (
        f"needs 1 verified approval(s) for fraud-detector@1.0.0 -> production; they cannot be verified: {expected}"
    )
    code, result = pr.check(capsys, "--no-ci")
    assert (code, result["outcome"]) == (0, "skipped")
    assert result["message"] == f"verified in CI: needs 1 verified approval(s) ({expected})"


def test_an_event_payload_nested_too_deeply_fails_closed_with_a_message(pr: PullRequest, tmp_path: Path) -> None:
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    proc = pr.repo.run(
        "check", "--base", "main", "--ci", "--json", "../r.json", env={"GITHUB_EVENT_PATH": str(tmp_path / "deep.json")}
    )
    assert proc.returncode == 1, proc.stderr
    [result] = [
        r for r in json.loads((pr.repo.root.parent / "r.json").read_text())["results"] if r["name"] == "approvals"
    ]
    assert result["outcome"] == "failed"  # not an "error" result: a crash of the provider
    assert (
        f"cannot be verified: GITHUB_EVENT_PATH {tmp_path / 'deep.json'}: not a JSON event payload"
        " (maximum recursion depth exceeded"
    ) in result["message"]


def test_no_token_fails_in_ci(
    pr: PullRequest, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_TOKEN")
    code, result = pr.check(capsys)
    assert (code, result["outcome"]) == (1, "failed")
    assert result["message"].endswith(
        "cannot be verified: no GITHUB_TOKEN in the environment to read the pull request's reviews with"
    )


def test_a_push_event_is_not_a_pull_request(
    pr: PullRequest, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "push.json").write_text(json.dumps({"ref": "refs/heads/promote", "after": pr.head}))
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(tmp_path / "push.json"))
    monkeypatch.setenv("GITHUB_EVENT_NAME", "push")
    code, result = pr.check(capsys)
    assert code == 1
    assert result["message"].endswith(
        "the push event is not about a pull request; approvals are verified on"
        " pull requests (on: pull_request, pull_request_review)"
    )


@pytest.mark.parametrize(
    ("name", "payload", "why"),
    [
        (
            "merge_group",
            {"merge_group": {"base_sha": "b" * 40, "head_sha": "c" * 40}},
            "the merge queue takes only pull requests whose required checks passed",
        ),
        (
            "push",
            {"ref": "refs/heads/main", "before": "b" * 40, "after": "c" * 40, "repository": {"default_branch": "main"}},
            "a push to the default branch 'main', which takes pull requests whose required checks passed",
        ),
        (
            "push",
            {
                "ref": "refs/heads/" + "d" * 150,
                "before": "b" * 40,
                "after": "c" * 40,
                "repository": {"default_branch": "d" * 150},
            },
            f"a push to the default branch {'d' * 100!r}, which takes pull requests whose required checks passed",
        ),
    ],
)
def test_a_merge_queue_or_a_push_to_the_default_branch_took_its_approvals_on_the_pull_request(
    pr: PullRequest,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    payload: dict[str, Any],
    why: str,
) -> None:
    """Their commits are not a reviewed head: the rule says the pull request's required check
    verified the approvals (skipped, never passed), and the API is not asked."""
    (tmp_path / "queue.json").write_text(json.dumps(payload))
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(tmp_path / "queue.json"))
    monkeypatch.setenv("GITHUB_EVENT_NAME", name)
    code, result = pr.check(capsys)
    assert (code, result["outcome"]) == (0, "skipped")
    assert result["message"] == f"verified on the pull request: needs 1 verified approval(s) ({why})"
    assert pr.github.requests == []
    # A push to another branch is no merge of a reviewed pull request.
    payload = {**payload, "ref": "refs/heads/promote"}
    (tmp_path / "queue.json").write_text(json.dumps(payload))
    if name == "push":
        assert pr.check(capsys)[0] == 1


def test_a_checkout_other_than_the_pull_requests_head_fails(
    pr: PullRequest, capsys: pytest.CaptureFixture[str]
) -> None:
    pr.reviews(review(80, "reviewer", "APPROVED", pr.head))
    pr.repo.manifest("m", **production_fields(description="pushed after the approval"))
    pr.repo.commit("after the approval")  # the API still says the head is the approved commit
    code, result = pr.check(capsys)
    assert (code, result["outcome"]) == (1, "failed")
    assert "nor a merge of it (the pull request moved on?)" in result["message"]


def test_team_requirement_resolved_through_the_api(
    repo: Repo, github: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pr = PullRequest(
        repo,
        github,
        tmp_path,
        monkeypatch,
        rule='{check: approvals, stages: [production], with: {min: 1, from: ["@acme/ml-leads"]}}',
    )
    pr.members("@acme/ml-leads", "lead")
    pr.reviews(review(80, "reviewer", "APPROVED", pr.head), review(81, "lead", "APPROVED", pr.head))
    code, result = pr.check(capsys)
    assert (code, result["outcome"]) == (0, "passed")
    assert result["message"] == (
        f"approved by @lead (review 81 of pull request #7 on {pr.head}); rejected:"
        f" @reviewer: not one of ['@acme/ml-leads'] (review 80 of pull request #7 on {pr.head})"
    )


def test_unreadable_team_fails_with_the_token_hint(
    repo: Repo, github: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pr = PullRequest(
        repo,
        github,
        tmp_path,
        monkeypatch,
        rule='{check: approvals, stages: [production], with: {min: 1, from: ["@acme/ml-leads"]}}',
    )
    pr.reviews(review(81, "lead", "APPROVED", pr.head))  # no members route: GitHub's 404
    code, result = pr.check(capsys)
    assert (code, result["outcome"]) == (1, "failed")
    assert (
        "@lead: not one of ['@acme/ml-leads']; team @acme/ml-leads could not be resolved: GET"
        " /orgs/acme/teams/ml-leads/members: 404 Not Found (Not Found); reading teams needs a token with"
        " read:org (config approvals.token_env)"
    ) in result["message"]


def test_codeowners_from_the_base_commit(
    repo: Repo, github: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pr = PullRequest(
        repo,
        github,
        tmp_path,
        monkeypatch,
        rule="{check: approvals, stages: [production], with: {min: 1, codeowners: true}}",
    )
    # The change makes its author's friend an owner; the base's CODEOWNERS still decides.
    repo.write("CODEOWNERS", "/m/  @friend\n")
    pr.head = repo.commit("own it")
    github.answer(PULLS, pull(7, "author", pr.head, pr.base))
    github.pages(f"{PULLS}/commits", [commit(pr.head, "author", "author@example.com")], per_page=30)
    pr.members("@acme/ml-leads", "lead")
    pr.reviews(review(80, "friend", "APPROVED", pr.head))
    code, result = pr.check(capsys)
    assert (code, result["outcome"]) == (1, "failed")
    assert result["message"].startswith(
        "needs 1 verified approval(s) for fraud-detector@1.0.0 -> production,"
        " has 1 (none of the code owners ['@acme/ml-leads'] approved): @friend"
    )
    pr.reviews(review(80, "friend", "APPROVED", pr.head), review(81, "lead", "APPROVED", pr.head))
    code, result = pr.check(capsys)
    assert (code, result["outcome"]) == (0, "passed")


def test_a_codeowners_line_github_skips_fails_the_rule(
    repo: Repo, github: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """GitHub skips a negation line; reading it any other way would pick owners nobody chose,
    so the rule fails and names the line instead."""
    pr = PullRequest(
        repo,
        github,
        tmp_path,
        monkeypatch,
        rule="{check: approvals, stages: [production], with: {min: 1, codeowners: true}}",
    )
    repo.git("checkout", "-q", "main")
    repo.write("CODEOWNERS", "*  @acme/platform\n/m/  @acme/ml-leads\n!/m/experimental/  @acme/interns\n")
    pr.base = repo.commit("owners")
    repo.git("checkout", "-q", "promote")
    github.answer(PULLS, pull(7, "author", pr.head, pr.base))
    github.pages(f"{PULLS}/commits", [commit(pr.head, "author", "author@example.com")], per_page=30)
    pr.members("@acme/ml-leads", "lead")
    pr.reviews(review(81, "lead", "APPROVED", pr.head))
    code, result = pr.check(capsys)
    assert (code, result["outcome"]) == (1, "failed")
    assert result["message"] == (
        "needs 1 verified approval(s) for fraud-detector@1.0.0 -> production including a code owner, but the base"
        " commit's CODEOWNERS has lines GitHub skips: CODEOWNERS:3: '!/m/experimental/': negation with ! is not"
        " supported by GitHub; GitHub skips this line; fix them on the base branch"
    )


def test_end_to_end_in_github_actions(pr: PullRequest) -> None:
    """The installed command in the environment a GitHub Actions job gives it (CI=true,
    GITHUB_ACTIONS=true, the event and the API): the failure is a workflow-command annotation
    on the manifest's line, and an approval of the head passes with no annotation."""
    actions = {"CI": "true", "GITHUB_ACTIONS": "true"}
    pr.reviews(review(80, "reviewer", "APPROVED", pr.base))
    proc = pr.repo.run("check", "--base", "main", env=actions)
    assert proc.returncode == 1, proc.stderr
    [annotation] = [line for line in proc.stdout.splitlines() if line.startswith("::")]
    assert annotation.startswith(
        "::error file=m/modelgate.yaml,line=6,col=3,title=MG603 approvals (fraud-detector@1.0.0)::"
        "needs 1 verified approval(s) for fraud-detector@1.0.0 -> production, has 0; rejected: "
        f"@reviewer: approved {pr.base[:12]}, not the head {pr.head[:12]} (stale)"
    ), annotation
    assert annotation.endswith("%0Ahint: ask the required reviewers to approve this promotion"), annotation
    pr.reviews(review(80, "reviewer", "APPROVED", pr.base), review(81, "reviewer", "APPROVED", pr.head))
    audit = pr.repo.root.parent / "audit.json"
    proc = pr.repo.run("check", "--base", "main", "--audit", str(audit), env=actions)
    assert proc.returncode == 0, proc.stdout
    assert not [line for line in proc.stdout.splitlines() if line.startswith("::")], proc.stdout
    record = json.loads(audit.read_text())
    [approval] = record["approvals"]
    assert (approval["who"], approval["provider"], approval["model"], approval["stage"]) == (
        "@reviewer",
        "github",
        "fraud-detector@1.0.0",
        "production",
    )
    assert approval["evidence"] == f"review 81 of pull request #7 on {pr.head}"
    assert approval["when"]
    assert pr.repo.run("audit", "verify", str(audit)).returncode == 0


def test_promotion_to_production_passes_only_with_a_verified_approval(
    repo: Repo, github: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The contract end to end: builtin:default (no policy of the repository's own), the
    installed command in CI, the github provider against the local API."""
    pr = PullRequest(repo, github, tmp_path, monkeypatch, config="approvals: {provider: github}\n")
    audit = repo.root.parent / "audit.json"
    needs = "needs 1 verified approval(s) for fraud-detector@1.0.0 -> production, has 0"
    # No review yet.
    proc = repo.run("check", "--base", "main", "--ci", "--audit", str(audit))
    assert proc.returncode == 1, proc.stdout
    assert "policy builtin:default ·" in proc.stdout and "MG603 approvals (failed)" in proc.stdout
    assert needs in proc.stdout
    assert json.loads(audit.read_text())["approvals"] == []
    # Spoofing attempts, each refused with its reason.
    for spoof, why in [
        (review(70, "author", "APPROVED", pr.head), "@author: authored this change"),
        (review(71, "reviewer", "APPROVED", pr.base), f"@reviewer: approved {pr.base[:12]}, not the head"),
        (review(72, "reviewer", "DISMISSED", pr.head), "@reviewer: the review was dismissed"),
    ]:
        pr.reviews(spoof)
        proc = repo.run("check", "--base", "main", "--ci")
        assert proc.returncode == 1, proc.stdout
        assert f"{needs}; rejected: {why}" in proc.stdout
    # A review approving the head, by someone who wrote none of it.
    pr.reviews(review(70, "author", "APPROVED", pr.head), review(80, "reviewer", "APPROVED", pr.head))
    proc = repo.run("check", "--base", "main", "--ci", "--audit", str(audit))
    assert proc.returncode == 0, proc.stdout
    record = json.loads(audit.read_text())
    assert record["verdict"] == "pass"
    assert record["approvals"] == [
        {
            "who": "@reviewer",
            "model": "fraud-detector@1.0.0",
            "stage": "production",
            "when": "2026-11-01T12:30:00Z",
            "provider": "github",
            "evidence": f"review 80 of pull request #7 on {pr.head}",
        }
    ]
    assert [(r["who"], r["reason"]) for r in record["approvals_rejected"]] == [("@author", "authored this change")]
    verified = repo.run("audit", "verify", str(audit))
    assert verified.returncode == 0 and "audit record intact" in verified.stdout


def test_github_actions_default_to_the_github_provider(
    repo: Repo, github: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No provider configured: in GitHub Actions, reviews are what there is to verify."""
    pr = PullRequest(repo, github, tmp_path, monkeypatch, config="policies: [policy.yaml]\n")
    pr.reviews(review(80, "reviewer", "APPROVED", pr.head))
    proc = pr.repo.run("check", "--base", "main", "--json", "../r.json", env={"CI": "true", "GITHUB_ACTIONS": "true"})
    assert proc.returncode == 0, proc.stdout
    [result] = [r for r in json.loads((repo.root.parent / "r.json").read_text())["results"] if r["name"] == "approvals"]
    assert result["message"] == f"approved by @reviewer (review 80 of pull request #7 on {pr.head})"
    proc = pr.repo.run("check", "--base", "main", "--ci")  # CI, but not GitHub Actions: no provider
    assert proc.returncode == 1
    assert "cannot be verified: no approvals provider is configured (config: approvals.provider)" in proc.stdout


def installed_check(pr: PullRequest) -> tuple[int, dict[str, Any], str]:
    """The installed command in CI against the local API; the approvals result."""
    report = pr.repo.root.parent / "permission.json"
    proc = pr.repo.run("check", "--base", "main", "--ci", "--json", str(report))
    [result] = [r for r in json.loads(report.read_text())["results"] if r["name"] == "approvals"]
    return proc.returncode, result, proc.stdout + proc.stderr


PERMISSION = "/repos/acme/fraud/collaborators/reviewer/permission"


@pytest.mark.parametrize("role", ["write", "maintain", "admin"])
def test_an_approval_counts_from_write_maintain_or_admin(pr: PullRequest, role: str) -> None:
    pr.grant("reviewer", role=role)
    pr.reviews(review(80, "reviewer", "APPROVED", pr.head))
    code, result, out = installed_check(pr)
    assert (code, result["outcome"]) == (0, "passed"), out
    assert result["message"] == f"approved by @reviewer (review 80 of pull request #7 on {pr.head})"


@pytest.mark.parametrize(
    ("status", "answer", "reason"),
    [
        (
            200,
            permission("reviewer", "read"),
            "has the 'read' role on acme/fraud (permission 'read'); only write, maintain and admin approve",
        ),
        (
            200,
            permission("reviewer", "triage"),
            "has the 'triage' role on acme/fraud (permission 'read'); only write, maintain and admin approve",
        ),
        (
            200,
            permission("reviewer", "none"),
            "has the 'none' role on acme/fraud (permission 'none'); only write, maintain and admin approve",
        ),
        # A custom role may be built on write, or on read with extras: it is not taken on trust.
        (
            200,
            permission("reviewer", "release-manager", legacy="write"),
            "has the 'release-manager' role on acme/fraud (permission 'write'); only write, maintain and admin approve",
        ),
        # A role and a permission that do not belong together are not an answer to trust.
        (
            200,
            permission("reviewer", "write", legacy="read"),
            "has the 'write' role on acme/fraud (permission 'read'); only write, maintain and admin approve",
        ),
        (
            200,
            {"permission": "write"},
            f"their role on acme/fraud could not be verified: GET {PERMISSION}: unexpected answer shape",
        ),
        (
            404,
            {"message": "Not Found"},
            f"their role on acme/fraud could not be verified: GET {PERMISSION}: 404 Not Found (Not Found)",
        ),
        (
            403,
            {"message": "Resource not accessible by integration"},
            f"their role on acme/fraud could not be verified: GET {PERMISSION}: 403 Forbidden (Resource not accessible"
            " by integration)",
        ),
        (
            500,
            {"message": "Server Error"},
            f"their role on acme/fraud could not be verified: GET {PERMISSION}: 500 Internal Server Error"
            " (Server Error)",
        ),
        # What the API says is cut to a length in the message: 60 characters of role, 20 of permission.
        (
            200,
            {**permission("reviewer", "read"), "role_name": "r" * 100, "permission": "p" * 30},
            f"has the {'r' * 60!r} role on acme/fraud (permission {'p' * 20!r});"
            " only write, maintain and admin approve",
        ),
    ],
    ids=["read", "triage", "none", "custom-role", "inconsistent", "no-role", "404", "403", "500", "long-role"],
)
def test_an_approval_without_write_access_counts_for_nothing(
    pr: PullRequest, status: int, answer: dict[str, Any], reason: str
) -> None:
    """Anyone who can see a pull request may approve it on GitHub; only someone who could
    push the change themselves approves it for the gate. Unknown is not counted, and the
    report says why."""
    pr.github.answer(PERMISSION, answer, status=status)
    pr.reviews(review(80, "reviewer", "APPROVED", pr.head))
    code, result, out = installed_check(pr)
    assert (code, result["outcome"]) == (1, "failed"), out
    assert result["message"] == (
        "needs 1 verified approval(s) for fraud-detector@1.0.0 -> production, has 0; rejected:"
        f" @reviewer: {reason} (review 80 of pull request #7 on {pr.head})"
    )
    assert "Traceback" not in out


def test_the_role_is_asked_once_and_only_of_reviewers_whose_approval_would_count(pr: PullRequest) -> None:
    pr.reviews(
        review(80, "reviewer", "APPROVED", pr.base),
        review(81, "reviewer", "APPROVED", pr.head),
        review(82, "lead", "APPROVED", pr.base),  # stale
        review(83, "boss", "APPROVED", pr.head),
        review(84, "boss", "DISMISSED", pr.head),
        review(85, "helper", "COMMENTED", pr.head),
    )
    code, result, out = installed_check(pr)
    assert (code, result["outcome"]) == (0, "passed"), out
    asked = sorted(r for r in pr.github.requests if "/collaborators/" in r)
    assert asked == [PERMISSION]


# -- the provider's parsing of what the event and the API say, each case exactly --------

from modelgate.approvals import github as provider  # noqa: E402
from modelgate.approvals.github_client import GitHubError  # noqa: E402

HEAD = "a" * 40


def test_the_pull_request_number_comes_only_from_a_pull_request_event(tmp_path: Path) -> None:
    def number(payload: object) -> int:
        (tmp_path / "event.json").write_text(json.dumps(payload))
        return provider._pull_number({"GITHUB_EVENT_PATH": str(tmp_path / "event.json"), "GITHUB_EVENT_NAME": "x"})

    assert number({"pull_request": {"number": 1}}) == 1
    for bad in (0, -3, True, "7", None):
        with pytest.raises(GitHubError, match="the x event is not about a pull request"):
            number({"pull_request": {"number": bad}})
    (tmp_path / "garbage.json").write_text("{not json")
    for path, why in (("garbage.json", "not a JSON event payload"), ("missing.json", "cannot read the event payload")):
        with pytest.raises(GitHubError, match=f"GITHUB_EVENT_PATH {tmp_path / path}: {why}"):
            provider._pull_number({"GITHUB_EVENT_PATH": str(tmp_path / path)})


def test_authors_are_logins_and_unlinked_commit_authors() -> None:
    linked = commit("1" * 40, "ana", "ana@acme.io")
    committer_only = {**commit("2" * 40, "bob", "bob@acme.io"), "committer": None}  # the author is linked
    unlinked = commit("3" * 40, None, "ghost@elsewhere.io")
    no_email = {**commit("4" * 40, None, ""), "commit": {}}
    authors, unmatched = provider._authors("opener", [linked, committer_only, unlinked, no_email])
    assert authors == ("@ana", "@bob", "@opener")
    assert unmatched == ("ghost@elsewhere.io", "the author of 444444444444")


def test_judging_reviews_takes_each_reviewers_latest_decision() -> None:
    gone = {**review(1, "x", "APPROVED", HEAD), "user": None}
    gone_comment = {**review(2, "x", "COMMENTED", HEAD), "user": None}
    robot = review(3, "robot", "APPROVED", HEAD)
    robot["user"]["type"] = "Bot" + "x" * 60
    reviews = [
        gone,
        gone_comment,
        robot,
        review(4, "ana", "APPROVED", HEAD),
        review(5, "bob", "CHANGES_REQUESTED", HEAD),
        review(6, "cy", "APPROVED", HEAD),
        review(7, "cy", "CHANGES_REQUESTED", HEAD),
        review(8, "dee", "APPROVED", "b" * 40),
    ]
    accepted, rejected = provider._judge(reviews, HEAD, 7)
    assert [(a.who, a.evidence) for a in accepted] == [("@ana", f"review 4 of pull request #7 on {HEAD}")]
    assert rejected[0].evidence == f"review 1 of pull request #7 on {HEAD}"  # the approval, not the comment
    assert [(r.who, r.reason) for r in rejected] == [
        ("(deleted account)", "the reviewer's account no longer exists"),
        ("@robot", f"an approval by a {('Bot' + 'x' * 60)[:40]} account, not a person"),
        ("@cy", "requested changes after approving"),
        ("@dee", f"approved {'b' * 12}, not the head {'a' * 12} (stale)"),
    ]  # bob only requested changes: nothing to report


def test_team_names_are_checked_before_any_request() -> None:
    teams = provider._Teams(None)  # type: ignore[arg-type]  # no request may be made
    for team in ("@acme/bad slug", "@-acme/leads", "@acme/"):
        with pytest.raises(LookupError, match="not an @org/team name"):
            teams(team)


def test_hostile_api_answers_are_quoted_short(
    pr: PullRequest, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_REPOSITORY", "x" * 300)
    code, result = pr.check(capsys)
    assert code == 1 and result["message"].endswith(f"GITHUB_REPOSITORY {'x' * 200!r} is not owner/name")
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/fraud")
    pr.github.answer(PULLS, {**pull(7, "author", pr.head, pr.base), "head": {"sha": "z" * 100}})
    code, result = pr.check(capsys)
    assert code == 1 and result["message"].endswith(f"GET {PULLS}: head.sha {'z' * 80!r} is not a commit id")


def test_a_checkout_that_is_not_the_head_is_named_in_full(pr: PullRequest, capsys: pytest.CaptureFixture[str]) -> None:
    pr.reviews(review(80, "reviewer", "APPROVED", pr.head))
    pr.repo.manifest("m", **production_fields(description="pushed after the approval"))
    checked = pr.repo.commit("after the approval")
    _, result = pr.check(capsys)
    assert result["message"].endswith(
        f"this run checks {checked[:12]}, which is neither pull request #7's head {pr.head[:12]} nor a merge"
        " of it (the pull request moved on?); re-run on the current head"
    )


def test_a_pull_request_with_250_commits_cannot_be_judged(pr: PullRequest, capsys: pytest.CaptureFixture[str]) -> None:
    many = [commit(f"{i:040x}", "author", "author@example.com") for i in range(250)]
    pr.github.pages(f"{PULLS}/commits", many, per_page=100)
    pr.reviews(review(80, "reviewer", "APPROVED", pr.head))
    code, result = pr.check(capsys)
    assert code == 1 and result["message"].endswith(
        "pull request #7 has 250 or more commits, more than the API lists; its authors cannot all be known"
    )
    pr.github.pages(f"{PULLS}/commits", many[:249], per_page=100)
    code, result = pr.check(capsys)
    assert (code, result["outcome"]) == (0, "passed"), result["message"]


def test_team_members_that_are_not_users_are_ignored_and_403_gets_the_hint(
    repo: Repo,
    github: FakeGitHub,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pr = PullRequest(
        repo,
        github,
        tmp_path,
        monkeypatch,
        rule='{check: approvals, stages: [production], with: {min: 1, from: ["@acme/ml-leads"]}}',
    )
    github.pages("/orgs/acme/teams/ml-leads/members", ["lead", {"login": 5}, user("lead")], per_page=30)
    pr.reviews(review(81, "lead", "APPROVED", pr.head))
    code, result = pr.check(capsys)
    assert (code, result["outcome"]) == (0, "passed"), result["message"]
    github.answer("/orgs/acme/teams/ml-leads/members", {"message": "Forbidden"}, status=403)
    code, result = pr.check(capsys)
    assert code == 1 and "reading teams needs a token with read:org" in result["message"], result["message"]


def test_without_a_git_checkout_the_provider_cannot_tell_what_was_approved(pr: PullRequest) -> None:
    import os

    from modelgate.approvals.evidence import ApprovalRequest
    from modelgate.git.trees import WorkTree

    for git_head in ((None, pr.head), (None, None)):
        request = ApprovalRequest(
            "github", {}, git_head[0], pr.base, git_head[1], WorkTree(str(pr.repo.root)), env=dict(os.environ)
        )
        answer = provider.modelgate_collect_approvals(request=request)
        assert answer is not None and answer.accepted == ()
        assert answer.error == "the github provider needs the pull request's git checkout"


def test_a_push_whose_payload_cannot_be_read_is_not_taken_as_verified_on_the_pull_request(tmp_path: Path) -> None:
    """Only a payload that says "a push to the default branch" defers the approvals; one that
    cannot be read says nothing, and the approvals are asked for here."""
    from modelgate.approvals.github import _verified_on_the_pull_request

    broken = tmp_path / "event.json"
    broken.write_text("{not json")
    for path in (broken, tmp_path / "missing.json"):
        assert _verified_on_the_pull_request({"GITHUB_EVENT_NAME": "push", "GITHUB_EVENT_PATH": str(path)}) is None
    pushed = tmp_path / "push.json"
    pushed.write_text('{"ref": "refs/heads/main", "repository": {"default_branch": "main"}}')
    assert _verified_on_the_pull_request({"GITHUB_EVENT_NAME": "push", "GITHUB_EVENT_PATH": str(pushed)}) == (
        "a push to the default branch 'main', which takes pull requests whose required checks passed"
    )
