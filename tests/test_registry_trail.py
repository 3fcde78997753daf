"""`modelgate history` shows who approved each promotion where git can prove it: signed
`Approved-by:` trailers of the change that landed the step, verified against the allowed signers
of the commit it landed on, with real SSH keys and real merges."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Repo, production_fields
from tests.test_approvals_evidence import keypair, signed_commit

TRAILER = "Approved-by: fraud-detector@1.0.0 -> production"


@pytest.fixture
def keys(repo: Repo, tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """main: 1.0.0 in staging and the allowed signers; the branch `feature` promotes it (by the author)."""
    found = {name: keypair(tmp_path, name) for name in ("reviewer", "author", "stranger")}
    repo.write(".github/allowed_signers", "".join(f"{w}@acme.io {found[w][1]}\n" for w in ("reviewer", "author")))
    repo.manifest("m", **production_fields(stage="staging"))
    repo.commit("register", "2026-10-01T09:00:00Z")
    repo.git("checkout", "-q", "-b", "feature")
    repo.manifest("m", **production_fields())
    repo.git("add", "-A")
    signed_commit(repo, None, "author@acme.io", "promote 1.0.0")
    return found


def history(repo: Repo, *args: str) -> list[dict[str, Any]]:
    proc = repo.run("history", "fraud-detector", "--json", *args)
    assert proc.returncode == 0, proc.stderr
    return list(json.loads(proc.stdout)["steps"])


def approvers(repo: Repo) -> list[tuple[str, str]]:
    [step] = [s for s in history(repo) if s["to_stage"] == "production"]
    assert step["unverified"] == []
    return [(a["who"], a["via"]) for a in step["approvers"]]


@pytest.mark.parametrize("merge", ["merge-commit", "fast-forward"])
def test_a_signed_approval_of_the_change_is_shown_with_its_promotion(
    repo: Repo, keys: dict[str, Any], merge: str
) -> None:
    sha = signed_commit(repo, keys["reviewer"][0], "reviewer@acme.io", f"LGTM\n\n{TRAILER}")
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--no-ff" if merge == "merge-commit" else "--ff-only", "feature", "-m", "merge #7")
    steps = history(repo)
    assert [(s["from_stage"], s["to_stage"]) for s in steps] == [("(new)", "staging"), ("staging", "production")]
    assert steps[0]["approvers"] == []
    [approver] = steps[1]["approvers"]
    assert (approver["who"], approver["via"]) == ("reviewer@acme.io", "signed-commit")
    assert approver["evidence"].startswith(f"commit {sha} signed with SHA256:")
    text = repo.run("history", "fraud-detector").stdout.splitlines()
    assert text[2].startswith(f"    approved by reviewer@acme.io (signed-commit: commit {sha} signed with SHA256:")


@pytest.mark.parametrize("who", ["author", "stranger", "unsigned"])
def test_what_git_cannot_prove_is_not_shown_as_an_approval(repo: Repo, keys: dict[str, Any], who: str) -> None:
    """The change's own author, a key the allowed signers do not list, an unsigned trailer."""
    key = None if who == "unsigned" else keys[who][0]
    signed_commit(repo, key, f"{'reviewer' if who == 'unsigned' else who}@acme.io", f"approve\n\n{TRAILER}")
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--no-ff", "feature", "-m", "merge #7")
    assert approvers(repo) == []


def test_an_approval_for_another_stage_or_a_later_change_is_not_this_promotions(
    repo: Repo, keys: dict[str, Any]
) -> None:
    signed_commit(repo, keys["reviewer"][0], "reviewer@acme.io", "LGTM\n\nApproved-by: fraud-detector@1.0.0 -> staging")
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--no-ff", "feature", "-m", "merge #7")
    # A later, separate change carrying an approval trailer for the same move approves nothing that landed.
    signed_commit(repo, keys["reviewer"][0], "reviewer@acme.io", f"late\n\n{TRAILER}")
    assert approvers(repo) == []


def test_the_allowed_signers_are_those_of_the_commit_the_change_landed_on(repo: Repo, keys: dict[str, Any]) -> None:
    """A change that adds its own approver's key to the allowed signers proves nothing with it."""
    repo.write(".github/allowed_signers", f"stranger@acme.io {keys['stranger'][1]}\n")
    repo.git("add", "-A")
    signed_commit(repo, None, "author@acme.io", "trust a friend")
    signed_commit(repo, keys["stranger"][0], "stranger@acme.io", f"LGTM\n\n{TRAILER}")
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--no-ff", "feature", "-m", "merge #7")
    assert approvers(repo) == []


def test_audit_signers_that_cannot_be_read_are_exit_4(repo: Repo, keys: dict[str, Any]) -> None:
    proc = repo.run("history", "fraud-detector", "--signer", "no-such-file")
    assert proc.returncode == 4 and "--signer no-such-file: No such file or directory" in proc.stderr
    repo.write(".modelgate.yaml", "audit: {allowed_signers: .github/audit_signers}\n")
    head = repo.commit("name audit signers that are not there")
    proc = repo.run("history", "fraud-detector")
    assert proc.returncode == 4
    assert f"config audit.allowed_signers: no .github/audit_signers in {head[:12]}" in proc.stderr
