"""Approvals: the signed-commits provider with real SSH keys and real signed commits, and
the approvals rule on a laptop and in CI."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from modelgate.approvals.evidence import Approval, Approvals, Rejection, tally
from tests.conftest import Repo, extending_default, production_fields, staging_fields

POLICY = extending_default("{check: approvals, stages: [production], with: {min: 1}}")
TRAILER = "Approved-by: fraud-detector@1.0.0 -> production"


def keypair(tmp_path: Path, name: str) -> tuple[Path, str]:
    key = tmp_path / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)], check=True)
    return key, (tmp_path / f"{name}.pub").read_text().strip()


def signed_commit(repo: Repo, key: Path | None, who: str, message: str) -> str:
    env = {"GIT_AUTHOR_NAME": who, "GIT_AUTHOR_EMAIL": who, "GIT_COMMITTER_NAME": who, "GIT_COMMITTER_EMAIL": who}
    args = ["-c", "gpg.format=ssh", "-c", f"user.signingkey={key}", "commit", "-S"] if key else ["commit"]
    repo.git(*args, "-q", "--allow-empty", "-m", message, env=env)
    return repo.git("rev-parse", "HEAD")


@pytest.fixture
def promotion(repo: Repo, tmp_path: Path) -> dict[str, Any]:
    """main: a staging model, the policy, and the allowed signers; feature: the promotion."""
    keys = {name: keypair(tmp_path, name) for name in ("reviewer", "author", "stranger")}
    repo.write("policy.yaml", POLICY)
    repo.write(".modelgate.yaml", "policies: [policy.yaml]\napprovals: {provider: signed-commits}\n")
    repo.write(".github/allowed_signers", "".join(f"{who}@acme.io {keys[who][1]}\n" for who in ("reviewer", "author")))
    repo.manifest("m", **production_fields(stage="staging"))
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.manifest("m", **production_fields())
    repo.git("add", "-A")
    signed_commit(repo, None, "author@acme.io", "promote fraud-detector to production")
    return {"repo": repo, "keys": keys}


def check(repo: Repo, *args: str) -> tuple[int, dict[str, Any], str]:
    proc = repo.run("check", "--base", "main", "--json", "../r.json", *args)
    report = json.loads((repo.root.parent / "r.json").read_text())
    result = next(r for r in report["results"] if r["name"] == "approvals")
    return proc.returncode, result, proc.stdout


def test_valid_signed_approval_passes(promotion: dict[str, Any]) -> None:
    repo, keys = promotion["repo"], promotion["keys"]
    sha = signed_commit(repo, keys["reviewer"][0], "reviewer@acme.io", f"LGTM\n\n{TRAILER}")
    code, result, out = check(repo, "--ci", "--audit", "../audit.json")
    assert code == 0, out
    assert result["outcome"] == "passed"
    assert result["message"].startswith(f"approved by reviewer@acme.io (commit {sha} signed with SHA256:")
    [approval] = json.loads((repo.root.parent / "audit.json").read_text())["approvals"]
    assert approval["who"] == "reviewer@acme.io" and approval["provider"] == "signed-commits"
    assert approval["evidence"].startswith(f"commit {sha} signed with SHA256:")
    assert (approval["model"], approval["stage"]) == ("fraud-detector@1.0.0", "production")
    assert approval["when"] == "2026-11-01T12:00:00Z"


def test_messages_and_emails_holding_control_characters_do_not_break_the_log(promotion: dict[str, Any]) -> None:
    # SOH was the record separator of the log this provider reads; git keeps it (and ESC) in
    # a message and in an email.
    repo, keys = promotion["repo"], promotion["keys"]
    signed_commit(repo, None, "author\x01@acme.io", "note \x01\x1b[2J\x01 more")
    sha = signed_commit(repo, keys["reviewer"][0], "reviewer@acme.io", f"LGTM \x01\x1b[31m\n\n{TRAILER}")
    code, result, out = check(repo, "--ci")
    assert (code, result["outcome"]) == (0, "passed"), out
    assert result["message"].startswith(f"approved by reviewer@acme.io (commit {sha} signed with SHA256:")


def test_missing_approval_fails_in_ci_and_on_a_laptop_with_a_provider(promotion: dict[str, Any]) -> None:
    repo = promotion["repo"]
    code, result, _ = check(repo, "--ci")
    assert (code, result["outcome"]) == (1, "failed")
    assert result["message"] == "needs 1 verified approval(s) for fraud-detector@1.0.0 -> production, has 0"
    # With a provider configured, a missing approval is a failure on a laptop too.
    code, result, _ = check(repo, "--no-ci")
    assert (code, result["outcome"]) == (1, "failed")


def test_no_provider_skips_on_a_laptop_and_fails_in_ci(repo: Repo) -> None:
    repo.write("policy.yaml", POLICY)
    repo.write(".modelgate.yaml", "policies: [policy.yaml]\n")
    repo.manifest("m", **production_fields(stage="staging"))
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.manifest("m", **production_fields())
    repo.commit("promote")
    code, result, _ = check(repo)
    assert (code, result["outcome"]) == (0, "skipped")
    assert result["message"].startswith("verified in CI")
    code, result, _ = check(repo, "--ci")
    assert (code, result["outcome"]) == (1, "failed")
    assert "cannot be verified: no approvals provider is configured" in result["message"]


@pytest.mark.parametrize(
    ("signer", "key", "reason"),
    [
        ("author@acme.io", "author", "author@acme.io: authored this change (commit "),
        ("reviewer@acme.io", None, "reviewer@acme.io (commit author; no allowed signer): not signed"),
        ("stranger@acme.io", "stranger", "signature not verified by the base's .github/allowed_signers"),
    ],
    ids=["self-approval", "unsigned-trailer", "key-not-allowed"],
)
def test_spoofed_approvals_are_rejected_with_the_reason(
    promotion: dict[str, Any], signer: str, key: str | None, reason: str
) -> None:
    repo, keys = promotion["repo"], promotion["keys"]
    signed_commit(repo, keys[key][0] if key else None, signer, f"approve\n\n{TRAILER}")
    code, result, _ = check(repo, "--ci")
    assert code == 1
    assert result["message"].startswith("needs 1 verified approval(s)")
    assert reason in result["message"]


@pytest.mark.parametrize(
    "trailer",
    [
        "Approved-by: fraud-detector@1.0.0 -> staging",  # another stage
        "Approved-by: fraud-detector@0.9.0 -> production",  # another version
        "Approved-by: churn@1.0.0 -> production",  # another model
    ],
)
def test_an_approval_counts_only_for_its_model_version_and_stage(promotion: dict[str, Any], trailer: str) -> None:
    repo, keys = promotion["repo"], promotion["keys"]
    signed_commit(repo, keys["reviewer"][0], "reviewer@acme.io", f"LGTM\n\n{trailer}")
    code, result, _ = check(repo, "--ci")
    assert (code, result["outcome"]) == (1, "failed")
    assert result["message"] == "needs 1 verified approval(s) for fraud-detector@1.0.0 -> production, has 0"


def test_allowed_signers_edited_in_the_change_do_not_count(promotion: dict[str, Any]) -> None:
    repo, keys = promotion["repo"], promotion["keys"]
    # The change adds the stranger's key, then the stranger approves: the base's file decides.
    with (repo.root / ".github" / "allowed_signers").open("a") as out:
        out.write(f"stranger@acme.io {keys['stranger'][1]}\n")
    repo.git("add", "-A")
    signed_commit(repo, None, "author@acme.io", "trust me")
    signed_commit(repo, keys["stranger"][0], "stranger@acme.io", f"approve\n\n{TRAILER}")
    code, result, _ = check(repo, "--ci")
    assert code == 1
    assert (
        "stranger@acme.io (commit author; no allowed signer): signature not verified by the base's"
        " .github/allowed_signers"
    ) in result["message"]


def test_approval_in_the_commit_that_changes_the_model_is_its_authors(promotion: dict[str, Any]) -> None:
    """The author signs the promotion itself with an approval trailer and a borrowed author
    email: the signer of a commit that changes files authored the change."""
    repo, keys = promotion["repo"], promotion["keys"]
    repo.manifest("m", **production_fields(tags={"team": "risk"}))
    repo.git("add", "-A")
    sha = signed_commit(repo, keys["author"][0], "reviewer@acme.io", f"tweak\n\n{TRAILER}")
    code, result, _ = check(repo, "--ci")
    assert (code, result["outcome"]) == (1, "failed")
    assert f"rejected: author@acme.io: authored this change (commit {sha} signed with SHA256:" in result["message"]


def test_approval_followed_by_a_change_is_stale(promotion: dict[str, Any]) -> None:
    repo, keys = promotion["repo"], promotion["keys"]
    signed_commit(repo, keys["reviewer"][0], "reviewer@acme.io", f"LGTM\n\n{TRAILER}")
    repo.manifest("m", **production_fields(tags={"reviewed": "no"}))
    repo.git("add", "-A")
    signed_commit(repo, None, "author@acme.io", "one more thing")
    code, result, _ = check(repo, "--ci")
    assert (code, result["outcome"]) == (1, "failed")
    assert (
        "rejected: reviewer@acme.io: stale: m/modelgate.yaml changed after this approval; approve the head"
        " again (commit "
    ) in result["message"]
    # Approving the head again counts; a later empty commit changes nothing.
    signed_commit(repo, keys["reviewer"][0], "reviewer@acme.io", f"LGTM again\n\n{TRAILER}")
    signed_commit(repo, None, "author@acme.io", "empty")
    code, result, out = check(repo, "--ci")
    assert (code, result["outcome"]) == (0, "passed"), out


def test_the_rule_may_name_its_provider_and_allow_authors(repo: Repo, tmp_path: Path) -> None:
    """``with: {provider: signed-commits, distinct_from_author: false}``: no provider in the
    config, and a one-person project's own signed approval counts."""
    key, public = keypair(tmp_path, "solo")
    repo.write(
        "policy.yaml",
        POLICY.replace("with: {min: 1}", "with: {min: 1, provider: signed-commits, distinct_from_author: false}"),
    )
    repo.write(".modelgate.yaml", "policies: [policy.yaml]\n")
    repo.write(".github/allowed_signers", f"solo@acme.io {public}\n")
    repo.manifest("m", **production_fields(stage="staging"))
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.manifest("m", **production_fields())
    repo.git("add", "-A")
    signed_commit(repo, None, "solo@acme.io", "promote")
    sha = signed_commit(repo, key, "solo@acme.io", f"approve\n\n{TRAILER}")
    code, result, out = check(repo, "--ci", "--audit", "../audit.json")
    assert code == 0, out
    assert result["message"].startswith(f"approved by solo@acme.io (commit {sha} signed with SHA256:")


def test_rejections_are_in_the_audit_record(promotion: dict[str, Any]) -> None:
    repo, keys = promotion["repo"], promotion["keys"]
    sha = signed_commit(repo, keys["stranger"][0], "stranger@acme.io", f"approve\n\n{TRAILER}")
    code, _, _ = check(repo, "--ci", "--audit", "../audit.json")
    assert code == 1
    record = json.loads((repo.root.parent / "audit.json").read_text())
    assert record["approvals"] == []
    [rejection] = record["approvals_rejected"]
    assert rejection["who"] == "stranger@acme.io (commit author; no allowed signer)"
    assert rejection["evidence"].startswith(f"commit {sha}")
    assert (rejection["model"], rejection["stage"]) == ("fraud-detector@1.0.0", "production")


def test_teams_cannot_be_resolved_offline(promotion: dict[str, Any]) -> None:
    repo, keys = promotion["repo"], promotion["keys"]
    repo.git("checkout", "-q", "main")
    repo.write("policy.yaml", POLICY.replace("with: {min: 1}", 'with: {min: 1, from: ["@acme/leads"]}'))
    repo.commit("only leads approve")
    repo.git("checkout", "-q", "feature")
    repo.git("merge", "-q", "main")
    signed_commit(repo, keys["reviewer"][0], "reviewer@acme.io", f"approve\n\n{TRAILER}")
    code, result, _ = check(repo, "--ci")
    assert code == 1
    assert (
        "reviewer@acme.io: not one of ['@acme/leads']; team @acme/leads cannot be resolved by signed-commits"
    ) in result["message"]


def test_tally_counts_each_approver_once_and_matches_identities_loosely() -> None:
    found = Approvals(
        "github",
        accepted=(
            Approval("@Lead", None, None, "t", "github", "review 1"),
            Approval("@lead", None, None, "t", "github", "review 2"),
            Approval("@other", "other-model@1.0.0", "production", "t", "github", "review 3"),
        ),
        change_authors=("@author",),
        members=lambda team: frozenset({"@LEAD"}) if team == "@acme/leads" else frozenset(),
    )
    result = tally(found, "fraud-detector@1.0.0", "production", ["@acme/leads"])
    assert [(a.who, a.model, a.stage, a.evidence) for a in result.counted] == [
        ("@Lead", "fraud-detector@1.0.0", "production", "review 1")
    ]
    assert result.rejected == () and result.missing_owner is None
    assert tally(found, "fraud-detector@1.0.0", "production", owners=[]).missing_owner == (
        "no CODEOWNERS entry of the base commit owns this manifest"
    )


@pytest.mark.parametrize(("waivable", "outcome", "code"), [("", "failed", 1), ("waivable: [approvals]\n", "waived", 0)])
def test_approvals_are_waived_only_where_the_policy_allows_it(
    repo: Repo, waivable: str, outcome: str, code: int
) -> None:
    waiver = (
        "waivers:\n  - {check: approvals, model: fraud-detector, reason: 'break-glass INC-7',"
        " expires: 2099-01-01, owner: ana@acme.io}\n"
    )
    repo.write("policy.yaml", POLICY + waiver + waivable)
    repo.write(".modelgate.yaml", "policies: [policy.yaml]\n")
    repo.manifest("m", **production_fields())
    repo.commit("promote")
    proc = repo.run("check", "--ci", "--base", "none", "--json", "../r.json")
    report = json.loads((repo.root.parent / "r.json").read_text())
    [result] = [r for r in report["results"] if r["name"] == "approvals"]
    assert (proc.returncode, result["outcome"]) == (code, outcome), proc.stdout
    if outcome == "waived":
        assert result["waiver"]["reason"] == "break-glass INC-7" and result["waiver"]["owner"] == "ana@acme.io"


def test_a_manifest_the_change_leaves_alone_needs_no_new_approval(repo: Repo) -> None:
    repo.write("policy.yaml", POLICY)
    repo.write(".modelgate.yaml", "policies: [policy.yaml]\napprovals: {provider: signed-commits}\n")
    repo.write(".github/allowed_signers", "")
    repo.manifest("m", **production_fields())
    repo.commit("base: a model in production")
    repo.git("checkout", "-q", "-b", "feature")
    repo.manifest("other", **production_fields(stage="staging", name="churn"))
    repo.commit("another model, to staging")
    code, result, out = check(repo, "--ci")
    assert (code, result["outcome"], result["message"]) == (0, "passed", "unchanged since the base"), out
    repo.manifest("m", **production_fields(tags={"team": "risk"}))  # touching it reopens it
    repo.commit("retag")
    code, result, _ = check(repo, "--ci")
    assert (code, result["outcome"]) == (1, "failed")


def test_a_provider_no_plugin_provides_is_a_configuration_error(repo: Repo) -> None:
    """A misspelt provider would otherwise be an approval that never comes (skipped on a
    laptop, failed in CI): it is refused up front, naming what is installed."""
    repo.manifest("m", **production_fields())
    repo.write("policy.yaml", POLICY)
    repo.write(".modelgate.yaml", "policies: [policy.yaml]\napprovals: {provider: signed-comits}\n")
    proc = repo.run("check")
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert (
        "configuration approvals.provider: no plugin provides approvals 'signed-comits';"
        " installed providers: github, signed-commits"
    ) in proc.stderr
    repo.write(".modelgate.yaml", "policies: [policy.yaml]\napprovals: {provider: signed-commits}\n")
    assert repo.run("check").returncode != 4
    disabled = repo.run("check", "-p", "no:signed-commits")
    assert disabled.returncode == 4
    assert "no plugin provides approvals 'signed-commits'; installed providers: github" in disabled.stderr


def test_a_rule_naming_an_unknown_provider_is_a_configuration_error(repo: Repo) -> None:
    repo.manifest("m", **production_fields())
    repo.write("policy.yaml", POLICY.replace("with: {min: 1}", "with: {min: 1, provider: gitlab}"))
    repo.write(".modelgate.yaml", "policies: [policy.yaml]\n")
    proc = repo.run("check")
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert (
        "policy.yaml:6:5: no plugin provides approvals 'gitlab'; installed providers: github, signed-commits"
        in proc.stderr
    )


def test_approval_signed_on_a_side_branch_and_merged_in_counts_for_nothing(promotion: dict[str, Any]) -> None:
    """The approval must be on the change's own line (first parents): one signed on another
    branch, even of the same bytes, approved that branch, not this change."""
    repo, keys = promotion["repo"], promotion["keys"]
    repo.git("checkout", "-q", "-b", "side")
    sha = signed_commit(repo, keys["reviewer"][0], "reviewer@acme.io", f"LGTM\n\n{TRAILER}")
    repo.git("checkout", "-q", "feature")
    repo.git("merge", "-q", "--no-ff", "-m", "merge the approval", "side")
    code, result, out = check(repo, "--ci")
    assert (code, result["outcome"]) == (1, "failed"), out
    assert (
        f"rejected: reviewer@acme.io: not on the change's first-parent line (merged in from another branch)"
        f" (commit {sha} signed with SHA256:"
    ) in result["message"]


@pytest.mark.parametrize("changed", ["manifest", "artifact", "lockfile"])
def test_approval_followed_by_a_change_to_the_model_counts_for_nothing(promotion: dict[str, Any], changed: str) -> None:
    """An approval certifies exact bytes: the manifest and every file it pins (artifacts,
    lockfile) must be the head's, blob for blob."""
    repo, keys = promotion["repo"], promotion["keys"]
    signed_commit(repo, keys["reviewer"][0], "reviewer@acme.io", f"LGTM\n\n{TRAILER}")
    path = {"manifest": "m/modelgate.yaml", "artifact": "m/model.bin", "lockfile": "m/requirements.lock"}[changed]
    if changed == "manifest":
        repo.manifest("m", **production_fields(description="edited after the approval"))
    else:
        repo.write(path, b"other bytes\n")
    repo.git("add", "-A")
    signed_commit(repo, None, "author@acme.io", "one more thing")
    code, result, out = check(repo, "--ci")
    assert (code, result["outcome"]) == (1, "failed"), out
    assert (
        f"rejected: reviewer@acme.io: stale: {path} changed after this approval; approve the head again"
        in result["message"]
    )


def test_approval_followed_by_a_change_to_another_file_still_counts(promotion: dict[str, Any]) -> None:
    """Only the approved model's bytes matter: a later edit of the README or of another
    model does not undo the approval of this one."""
    repo, keys = promotion["repo"], promotion["keys"]
    sha = signed_commit(repo, keys["reviewer"][0], "reviewer@acme.io", f"LGTM\n\n{TRAILER}")
    repo.write("README.md", "# models\n")
    repo.manifest("other", **staging_fields(name="churn"))
    repo.git("add", "-A")
    signed_commit(repo, None, "author@acme.io", "docs and another model")
    code, result, out = check(repo, "--ci")
    assert (code, result["outcome"]) == (0, "passed"), out
    assert result["message"].startswith(f"approved by reviewer@acme.io (commit {sha} signed with SHA256:")


def test_approval_counts_in_githubs_merge_of_the_pull_request(promotion: dict[str, Any]) -> None:
    """CI checks out GitHub's merge of the pull request into its base (first parent: the
    base, second: the pull request's head): the change's line is the second parent's, and
    its approval is compared with the merge's bytes."""
    repo, keys = promotion["repo"], promotion["keys"]
    signed_commit(repo, keys["reviewer"][0], "reviewer@acme.io", f"LGTM\n\n{TRAILER}")
    repo.git("checkout", "-q", "main")
    repo.write("README.md", "# models\n")
    repo.commit("main moves on")
    repo.git("checkout", "-q", "--detach", "main")
    repo.git("merge", "-q", "--no-ff", "-m", "Merge feature into main", "feature")
    code, result, out = check(repo, "--ci")
    assert (code, result["outcome"]) == (0, "passed"), out


def _approval(who: str) -> Approval:
    return Approval(who, None, None, "t", "github", f"review by {who}")


def _counted(found: Approvals, allowed: list[str], **kwargs: Any) -> list[str]:
    return [a.who for a in tally(found, "fraud-detector@1.0.0", "production", allowed, **kwargs).counted]


def test_tally_checks_every_allowed_entry_until_one_matches() -> None:
    """A user entry that does not match, a team that cannot be resolved or whose lookup
    fails: each is passed over, and a later entry may still admit the approver."""

    def members(team: str) -> frozenset[str]:
        if team == "@acme/broken":
            raise LookupError("the token cannot read teams", "detail")
        return frozenset({"@lead"}) if team == "@acme/leads" else frozenset()

    found = Approvals("github", accepted=(_approval("@ana"),), members=members)
    assert _counted(found, ["@ana"]) == ["@ana"]
    assert _counted(found, ["@bob", "@ana"]) == ["@ana"]
    assert _counted(found, ["@acme/broken", "@ana"]) == ["@ana"]
    assert _counted(found, ["@acme/nobody", "@ana"]) == ["@ana"]
    assert _counted(Approvals("x", accepted=(_approval("@ana"),)), ["@acme/leads", "@ana"]) == ["@ana"]
    refused = tally(found, "fraud-detector@1.0.0", "production", ["@bob", "@acme/broken"])
    assert refused.counted == ()
    assert [r.reason for r in refused.rejected] == [
        "not one of ['@bob', '@acme/broken']; team @acme/broken could not be resolved: the token cannot read teams"
    ]
    unexplained = Approvals(
        "github", accepted=(_approval("@ana"),), members=lambda team: (_ for _ in ()).throw(LookupError())
    )
    [why] = tally(unexplained, "fraud-detector@1.0.0", "production", ["@acme/x"]).rejected
    assert why.reason == "not one of ['@acme/x']; team @acme/x could not be resolved: "


def test_tally_tells_users_from_teams() -> None:
    """``@ana`` is a user (compared directly); only ``@org/team`` is looked up."""
    found = Approvals("signed-commits", accepted=(_approval("ana"),))  # no team lookup at all
    assert _counted(found, ["@ana"]) == ["ana"]
    assert _counted(found, ["acme/ana"]) == []


def test_tally_refuses_the_changes_authors_unless_the_rule_allows_them() -> None:
    found = Approvals("github", accepted=(_approval("@author"),), change_authors=("@Author",))
    assert _counted(found, []) == []  # the default: an author cannot approve their own change
    assert _counted(found, [], distinct_from_author=False) == ["@author"]
    unmatched = Approvals("github", accepted=(_approval("@ana"),), unmatched_authors=("a@x", "b@x", "c@x", "d@x"))
    [why] = tally(unmatched, "fraud-detector@1.0.0", "production").rejected
    assert why.reason == (
        "cannot tell whether they authored this change: commits by a@x, b@x, c@x have no github account to compare with"
    )


def test_tally_requires_a_code_owner_when_asked() -> None:
    found = Approvals(
        "github", accepted=(_approval("@ana"), _approval("@owner")), members=lambda team: frozenset({"@owner"})
    )
    assert tally(found, "m@1", "production", owners=["@acme/owners"]).missing_owner is None
    assert tally(found, "m@1", "production", owners=["@ana"]).missing_owner is None
    alone = Approvals("github", accepted=(_approval("@ana"),), members=lambda team: frozenset({"@owner"}))
    assert tally(alone, "m@1", "production", owners=["@acme/owners"]).missing_owner == (
        "none of the code owners ['@acme/owners'] approved"
    )
    unresolved = Approvals("github", accepted=(_approval("@ana"),))  # the team cannot be resolved
    assert tally(unresolved, "m@1", "production", owners=["@acme/owners"]).missing_owner == (
        "none of the code owners ['@acme/owners'] approved"
    )


def test_tally_keeps_only_the_rejections_for_this_model_and_stage() -> None:
    found = Approvals(
        "x",
        rejected=(
            Rejection("@a", "fraud-detector@1.0.0", "staging", "r1", ""),
            Rejection("@b", "other@1.0.0", "production", "r2", ""),
            Rejection("@c", None, None, "r3", ""),
            Rejection("@d", "fraud-detector@1.0.0", "production", "r4", ""),
        ),
    )
    rejected = tally(found, "fraud-detector@1.0.0", "production").rejected
    assert [(r.who, r.model, r.stage) for r in rejected] == [
        ("@c", "fraud-detector@1.0.0", "production"),
        ("@d", "fraud-detector@1.0.0", "production"),
    ]


def test_signed_commits_needs_a_base_and_the_bases_allowed_signers(repo: Repo) -> None:
    """Asked without a merge-base, or where the base commit has no allowed-signers file, the
    provider answers with an error (the rule then fails closed), never with approvals."""
    from modelgate.approvals import signed_commits
    from modelgate.approvals.evidence import ApprovalRequest
    from modelgate.git.repo import GitRepo
    from modelgate.git.trees import CommitTree

    repo.manifest("m")
    head = repo.commit("no allowed signers here")
    git = GitRepo(str(repo.root))
    try:
        tree = CommitTree(git, head)
        for merge_base, head_ in ((None, head), (head, None)):
            answer = signed_commits.modelgate_collect_approvals(
                request=ApprovalRequest("signed-commits", {}, git, merge_base, head_, tree)
            )
            assert answer is not None and answer.accepted == ()
            assert answer.error == "signed-commits needs a base to compare with (--base, or a pull request)"
        answer = signed_commits.modelgate_collect_approvals(
            request=ApprovalRequest("signed-commits", {}, git, head, head, tree)
        )
        assert answer is not None and answer.accepted == ()
        assert answer.error == "no allowed-signers file .github/allowed_signers in the base commit"
    finally:
        git.close()


def test_a_signer_of_a_commit_that_changes_files_is_an_author(promotion: dict[str, Any]) -> None:
    """The reviewer signs a commit of the change under someone else's email: the signature,
    not the email, makes them an author, so their later approval is refused."""
    repo, keys = promotion["repo"], promotion["keys"]
    repo.manifest("m", **production_fields(tags={"team": "risk"}))
    repo.git("add", "-A")
    signed_commit(repo, keys["reviewer"][0], "someone-else@acme.io", "tweak the tags")
    signed_commit(repo, keys["reviewer"][0], "someone-else@acme.io", f"approve\n\n{TRAILER}")
    code, result, _ = check(repo, "--ci")
    assert (code, result["outcome"]) == (1, "failed")
    assert "rejected: reviewer@acme.io: authored this change (commit " in result["message"]


def test_an_expired_allowed_signer_cannot_approve(repo: Repo, tmp_path: Path) -> None:
    key, public = keypair(tmp_path, "former")
    repo.write("policy.yaml", POLICY)
    repo.write(".modelgate.yaml", "policies: [policy.yaml]\napprovals: {provider: signed-commits}\n")
    repo.write(".github/allowed_signers", f"former@acme.io valid-before=20200101 {public}\n")
    repo.manifest("m", **production_fields(stage="staging"))
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.manifest("m", **production_fields())
    repo.git("add", "-A")
    signed_commit(repo, None, "author@acme.io", "promote")
    signed_commit(repo, key, "former@acme.io", f"approve\n\n{TRAILER}")
    code, result, _ = check(repo, "--ci")
    assert (code, result["outcome"]) == (1, "failed")
    assert (
        "former@acme.io (commit author; no allowed signer): signature not verified by the base's"
        " .github/allowed_signers (U)"
    ) in result["message"]


def test_every_trailer_of_a_commit_is_judged(promotion: dict[str, Any]) -> None:
    """A commit approving two things: a refusal of the first does not hide the second."""
    repo, keys = promotion["repo"], promotion["keys"]
    two = f"approve\n\nApproved-by: churn@1.0.0 -> production\n{TRAILER}"
    signed_commit(repo, keys["stranger"][0], "stranger@acme.io", two)  # key not allowed: both refused
    code, result, _ = check(repo, "--ci")
    assert code == 1 and "stranger@acme.io (commit author; no allowed signer): signature not" in result["message"]


def test_a_stale_approval_names_what_changed_after_it(promotion: dict[str, Any]) -> None:
    """The approved model's files that differ at the head are named: up to three, then "and N
    more"; a change to another file is not named (it does not make the approval stale)."""
    repo, keys = promotion["repo"], promotion["keys"]
    extra = [repo.artifact(f"m/extra{i}.bin", b"extra %d" % i) for i in range(2)]
    artifacts = json.loads((repo.root / "m/modelgate.yaml").read_text())["artifacts"]
    repo.manifest("m", **{**production_fields(), "artifacts": [*artifacts, *extra]})
    repo.git("add", "-A")
    signed_commit(repo, None, "author@acme.io", "two more artifacts")
    signed_commit(repo, keys["reviewer"][0], "reviewer@acme.io", f"LGTM\n\n{TRAILER}")
    for name in ("model.bin", "extra0.bin", "extra1.bin", "requirements.lock", "notes.txt"):
        repo.write(f"m/{name}", b"changed after the approval")
    repo.git("add", "-A")
    signed_commit(repo, None, "author@acme.io", "four pinned files and a note")
    code, result, _ = check(repo, "--ci")
    assert (code, result["outcome"]) == (1, "failed")
    assert (
        "reviewer@acme.io: stale: m/extra0.bin, m/extra1.bin, m/model.bin and 1 more changed after this"
        " approval; approve the head again"
    ) in result["message"]
    repo.git("checkout", "-q", "HEAD~1", "--", "m/requirements.lock")  # three files exactly: no "and 0 more"
    repo.git("add", "-A")
    signed_commit(repo, None, "author@acme.io", "the lockfile back")
    code, result, _ = check(repo, "--ci")
    assert (
        "reviewer@acme.io: stale: m/extra0.bin, m/extra1.bin, m/model.bin changed after this approval;"
        " approve the head again"
    ) in result["message"]


def test_an_openpgp_signature_counts_for_nothing_even_from_a_key_the_machine_trusts(
    promotion: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    """Only the base's allowed signers sign approvals. A GPG key in the machine's own keyring
    (on a laptop, the developer's own, ultimately trusted) would make git answer "good
    signature" for an approval that no allowed signer gave; gpg is never run on it."""
    repo = promotion["repo"]
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    monkeypatch.setenv("GNUPGHOME", str(home))
    # gpg starts an agent for the key; it must not outlive the test.
    request.addfinalizer(
        lambda: subprocess.run(["gpgconf", "--kill", "gpg-agent"], env={**os.environ, "GNUPGHOME": str(home)})
    )
    gpg = ["gpg", "--batch", "--quiet", "--passphrase", ""]
    subprocess.run([*gpg, "--quick-gen-key", "Mallory <mallory@acme.io>", "ed25519", "sign", "never"], check=True)
    env = {
        k: "mallory@acme.io"
        for k in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL")
    }
    repo.git(
        "-c",
        "user.signingkey=mallory@acme.io",
        "commit",
        "-S",
        "-q",
        "--allow-empty",
        "-m",
        f"LGTM\n\n{TRAILER}",
        env=env,
    )
    sha = repo.git("rev-parse", "HEAD")
    # The keyring trusts it: git itself calls the signature good.
    assert repo.git("log", "-1", "--format=%G?", sha) == "G"
    code, result, out = check(repo, "--ci")
    assert (code, result["outcome"]) == (1, "failed"), out
    assert (
        f"rejected: mallory@acme.io (commit author; no allowed signer): not signed with an SSH key (commit {sha})"
        in result["message"]
    ), result["message"]


@pytest.mark.parametrize("refused", ["unsigned", "off the line"])
def test_every_trailer_of_a_refused_commit_is_judged(promotion: dict[str, Any], refused: str) -> None:
    """A commit approving two models, refused for the first: the second is judged too."""
    repo, keys = promotion["repo"], promotion["keys"]
    two = f"LGTM\n\nApproved-by: churn@1.0.0 -> production\n{TRAILER}"
    if refused == "unsigned":
        sha = signed_commit(repo, None, "reviewer@acme.io", two)
        reason = f"reviewer@acme.io (commit author; no allowed signer): not signed with an SSH key (commit {sha})"
    else:
        repo.git("checkout", "-q", "-b", "side")
        sha = signed_commit(repo, keys["reviewer"][0], "reviewer@acme.io", two)
        repo.git("checkout", "-q", "feature")
        repo.git("merge", "-q", "--no-ff", "-m", "merge the approval", "side")
        reason = (
            f"reviewer@acme.io: not on the change's first-parent line (merged in from another branch) (commit {sha}"
        )
    code, result, _ = check(repo, "--ci")
    assert code == 1
    assert reason in result["message"], result["message"]


def test_the_approved_model_is_found_among_other_models(promotion: dict[str, Any]) -> None:
    """Manifests sorted before the approved one: another model (whose text never names it),
    one that mentions it but is another model, one that names it but cannot be read; none
    stops the search. Nor does a trailer before it that names a version the head does not
    hold."""
    repo, keys = promotion["repo"], promotion["keys"]
    repo.manifest("a", name="churn")
    repo.manifest("b", name="upsell", description="replaces fraud-detector for upsell offers")
    repo.git("add", "-A")
    # And a manifest that names it but cannot be read: no model, no files, no crash.
    repo.write("c/modelgate.yaml", "name: fraud-detector\nversion: [\n")
    repo.git("add", "-A")
    signed_commit(repo, None, "author@acme.io", "two more models")
    # A trailer the head cannot hold first: refused, and the next one is still judged.
    two = f"LGTM\n\nApproved-by: churn@9.9.9 -> production\n{TRAILER}"
    signed_commit(repo, keys["reviewer"][0], "reviewer@acme.io", two)
    _, result, _ = check(repo, "--ci")
    assert result["outcome"] == "passed", result["message"]


def test_an_approved_model_without_an_environment_is_compared_by_its_manifest_and_artifacts(
    promotion: dict[str, Any],
) -> None:
    repo, keys = promotion["repo"], promotion["keys"]
    fields = production_fields()
    del fields["lineage"]
    repo.manifest("m", **fields)
    repo.git("add", "-A")
    signed_commit(repo, None, "author@acme.io", "no lineage")
    signed_commit(repo, keys["reviewer"][0], "reviewer@acme.io", f"LGTM\n\n{TRAILER}")
    _, result, _ = check(repo, "--ci")
    assert result["outcome"] == "passed", result["message"]


@pytest.mark.parametrize("where", ["../../outside.bin", "/etc/hostname"])
def test_a_manifest_pinning_a_file_outside_the_repository_cannot_be_approved(
    promotion: dict[str, Any], where: str
) -> None:
    """Its bytes cannot be compared (a path that climbs out, an absolute one); another
    version of the model that pins such a file does not stop the approved one from being
    found."""
    repo, keys = promotion["repo"], promotion["keys"]
    outside = {"path": where, "sha256": "0" * 64, "size": 1}
    repo.manifest("a", version="0.9.0", artifacts=[outside])  # sorted first: another version
    repo.git("add", "-A")
    signed_commit(repo, None, "author@acme.io", "an old version that climbs out")
    signed_commit(repo, keys["reviewer"][0], "reviewer@acme.io", f"LGTM\n\n{TRAILER}")
    _, result, _ = check(repo, "--ci")
    assert result["outcome"] == "passed", result["message"]
    artifacts = json.loads((repo.root / "m/modelgate.yaml").read_text())["artifacts"]
    repo.manifest("m", **production_fields(artifacts=[*artifacts, outside]))
    repo.git("add", "-A")
    signed_commit(repo, None, "author@acme.io", "climbs out")
    signed_commit(repo, keys["reviewer"][0], "reviewer@acme.io", f"LGTM\n\n{TRAILER}")
    _, result, _ = check(repo, "--ci")
    assert result["outcome"] == "failed"
    assert (
        "reviewer@acme.io: m/modelgate.yaml names a file outside the repository; its bytes cannot be compared"
        in result["message"]
    ), result["message"]


def test_only_files_named_as_manifests_are_the_approved_models_manifests(promotion: dict[str, Any]) -> None:
    """A file whose name only ends like a manifest's (``notmodelgate.yaml``) is no manifest,
    whatever it holds: a copy of the approved model there pinning a file outside the
    repository does not stop the approval."""
    repo, keys = promotion["repo"], promotion["keys"]
    outside = {"path": "../../outside.bin", "sha256": "0" * 64, "size": 1}
    copy = json.loads((repo.root / "m" / "modelgate.yaml").read_text())
    repo.write("docs/notmodelgate.yaml", json.dumps({**copy, "artifacts": [outside]}))
    repo.git("add", "-A")
    signed_commit(repo, None, "author@acme.io", "a look-alike")
    signed_commit(repo, keys["reviewer"][0], "reviewer@acme.io", f"LGTM\n\n{TRAILER}")
    _, result, _ = check(repo, "--ci")
    assert result["outcome"] == "passed", result["message"]


def test_an_approval_of_a_version_the_head_commit_lacks_names_the_head(promotion: dict[str, Any]) -> None:
    """The work tree says 1.0.1 (not committed); the head commit holds 1.0.0 only."""
    repo, keys = promotion["repo"], promotion["keys"]
    signed_commit(
        repo, keys["reviewer"][0], "reviewer@acme.io", "LGTM\n\nApproved-by: fraud-detector@1.0.1 -> production"
    )
    head = repo.git("rev-parse", "HEAD")
    repo.manifest("m", **production_fields(version="1.0.1"))
    _, result, _ = check(repo, "--ci")
    assert result["outcome"] == "failed"
    assert (
        f"reviewer@acme.io: no manifest of fraud-detector@1.0.1 at the head {head[:12]} (commit " in result["message"]
    )


def test_a_log_git_could_not_have_printed_is_an_error_naming_its_start() -> None:
    from modelgate.approvals.signed_commits import _parse
    from modelgate.errors import GitError

    bogus = "x" * 100
    with pytest.raises(GitError) as raised:
        _parse("\x00".join([bogus, "a@x", "c@x", "1", "G", "s", "k", "body"]) + "\x00")
    assert str(raised.value) == f"git log printed an unexpected commit {'x' * 80!r}; cannot read approvals"


def test_an_approved_model_whose_name_is_written_with_escapes_is_found(promotion: dict[str, Any]) -> None:
    """HEAD's manifests are searched for the name's bytes, or a backslash: a name written
    with an escape (``fraud\\u002ddetector``) is still found, and so its files compared."""
    repo, keys = promotion["repo"], promotion["keys"]
    path = repo.root / "m" / "modelgate.yaml"
    path.write_text(path.read_text().replace('"fraud-detector"', '"fraud\\u002ddetector"'))
    repo.git("add", "-A")
    signed_commit(repo, None, "author@acme.io", "the name, escaped")
    signed_commit(repo, keys["reviewer"][0], "reviewer@acme.io", f"LGTM\n\n{TRAILER}")
    _, result, _ = check(repo, "--ci")
    assert result["outcome"] == "passed", result["message"]


def test_the_approved_models_files_are_found_among_manifests_of_equal_bytes(repo: Repo) -> None:
    """signed-commits reads HEAD's manifests one at a time, keeping only those that may hold
    the approved model's name; two manifests of the same bytes are both found."""
    from modelgate.approvals.signed_commits import _HeldBytes
    from modelgate.git.repo import GitRepo

    repo.manifest("a", artifact_bytes=b"w")
    repo.write("copy/modelgate.yaml", (repo.root / "a" / "modelgate.yaml").read_bytes())
    repo.manifest("b", name="other-model")
    head = repo.commit("three manifests, two of them the same bytes")
    git = GitRepo(str(repo.root))
    try:
        files = _HeldBytes(git, head)._model_files("fraud-detector")
    finally:
        git.close()
    assert files == {
        "fraud-detector@1.0.0": ["a/modelgate.yaml", "a/model.bin", "copy/modelgate.yaml", "copy/model.bin"]
    }
