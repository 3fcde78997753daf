"""Approvals: the signed-commits provider with real SSH keys and real signed commits, and
the approvals rule on a laptop and in CI."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Repo, production_fields

POLICY = """\
apiVersion: modelgate/v1
kind: Policy
name: acme
extends: [builtin:default]
rules:
  - {check: approvals, stages: [production], with: {min: 1}}
"""
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
    repo.write(".github/allowed_signers", "".join(
        f"{who}@acme.io {keys[who][1]}\n" for who in ("reviewer", "author")))
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


def test_missing_approval_fails_in_ci_and_is_skipped_on_a_laptop(promotion: dict[str, Any]) -> None:
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
        ("author@acme.io", "author", "author@acme.io: the signer authored this change"),
        ("reviewer@acme.io", None, "reviewer@acme.io (commit author; no allowed signer): not signed"),
        ("stranger@acme.io", "stranger", "signature not verified by the base's .github/allowed_signers"),
    ],
    ids=["self-approval", "unsigned-trailer", "key-not-allowed"],
)
def test_spoofed_approvals_are_rejected_with_the_reason(promotion: dict[str, Any], signer: str,
                                                        key: str | None, reason: str) -> None:
    repo, keys = promotion["repo"], promotion["keys"]
    signed_commit(repo, keys[key][0] if key else None, signer, f"approve\n\n{TRAILER}")
    code, result, _ = check(repo, "--ci")
    assert code == 1
    assert result["message"].startswith("needs 1 verified approval(s)")
    assert reason in result["message"]


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
    assert ("stranger@acme.io (commit author; no allowed signer): signature not verified by the base's"
            " .github/allowed_signers") in result["message"]
