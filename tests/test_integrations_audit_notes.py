"""The audit trail that outlives CI: the Action's run step on a push of a merged change signs the
audit record and stores it as a git note under refs/notes/modelgate on a local bare "origin";
another clone fetches the notes and `modelgate history` shows who approved each promotion."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import MODELGATE, Repo, production_fields
from tests.test_approvals_evidence import keypair, signed_commit
from tests.test_integrations_github_action import _run_action

NOTES = "refs/notes/modelgate"
POLICY = (
    "apiVersion: modelgate/v1\nkind: Policy\nname: acme\nextends: [builtin:default]\n"
    "aliases: {champion: {requires: production}}\n"
)


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()


def modelgate(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([MODELGATE, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.fixture
def merged(repo: Repo, tmp_path: Path) -> dict[str, Any]:
    """A bare origin whose main just received a merged pull request: 1.0.0 promoted to production
    by the author, approved by a reviewer's signed `Approved-by:` commit, merged with a merge
    commit. Keys: the reviewer's and author's (approvals), the CI's (audit notes), a stranger's."""
    (tmp_path / "keys").mkdir()
    keys = {name: keypair(tmp_path / "keys", name) for name in ("reviewer", "author", "ci", "stranger")}
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], check=True)
    repo.git("remote", "add", "origin", str(origin))
    repo.write("policy.yaml", POLICY)
    repo.write(
        ".modelgate.yaml",
        "policies: [policy.yaml]\napprovals: {provider: signed-commits}\n"
        "audit: {allowed_signers: .github/audit_signers}\n",
    )
    repo.write(".github/allowed_signers", "".join(f"{w}@acme.io {keys[w][1]}\n" for w in ("reviewer", "author")))
    repo.write(".github/audit_signers", f'ci@acme.io namespaces="modelgate-audit" {keys["ci"][1]}\n')
    repo.manifest("m", **production_fields(stage="staging"))
    before = repo.commit("register 1.0.0 in staging", "2026-10-01T09:00:00Z")
    repo.git("push", "-q", "origin", "main")
    repo.git("checkout", "-q", "-b", "feature")
    repo.manifest("m", **production_fields(aliases=["champion"]))
    repo.git("add", "-A")
    signed_commit(repo, None, "author@acme.io", "promote 1.0.0 to production as the champion")
    approval = signed_commit(
        repo, keys["reviewer"][0], "reviewer@acme.io", "LGTM\n\nApproved-by: fraud-detector@1.0.0 -> production"
    )
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--no-ff", "feature", "-m", "Merge pull request #7 from acme/feature")
    after = repo.git("rev-parse", "HEAD")
    repo.git("push", "-q", "origin", "main")
    ci = tmp_path / "ci"  # what actions/checkout leaves for the push: a clone of the pushed commit
    subprocess.run(["git", "clone", "-q", str(origin), str(ci)], check=True)
    return {
        "repo": repo,
        "origin": origin,
        "ci": ci,
        "keys": keys,
        "before": before,
        "after": after,
        "approval": approval,
    }


def push_event(merged: dict[str, Any], branch: str = "main") -> dict[str, Any]:
    return {
        "ref": f"refs/heads/{branch}",
        "before": merged["before"],
        "after": merged["after"],
        "created": False,
        "deleted": False,
        "forced": False,
        "repository": {"default_branch": "main"},
    }


def run_gate(
    merged: dict[str, Any],
    tmp_path: Path,
    key: str = "ci",
    event: dict[str, Any] | None = None,
    event_name: str = "push",
    **inputs: str,
) -> tuple[int, dict[str, str], str]:
    key_text = Path(merged["keys"][key][0]).read_text().rstrip("\n")  # as a secret often holds it
    inputs = {"audit_notes": "true", "audit_key": key_text, **inputs}
    code, outputs, _summary, log = _run_action(
        merged["ci"], tmp_path, event_name, event if event is not None else push_event(merged), **inputs
    )
    return code, outputs, log


def user_clone(merged: dict[str, Any], tmp_path: Path) -> Path:
    """Someone else's clone, later, with the notes fetched as the README says."""
    clone = tmp_path / "later"
    subprocess.run(["git", "clone", "-q", str(merged["origin"]), str(clone)], check=True)
    subprocess.run(["git", "fetch", "-q", "origin", f"{NOTES}:{NOTES}"], cwd=clone, check=True)
    return clone


def promotion(clone: Path, *args: str) -> dict[str, Any]:
    """The production step of `history --json`; ``args`` go before the command (-p no:NAME)."""
    proc = modelgate(clone, *args, "history", "fraud-detector", "--json")
    assert proc.returncode == 0, proc.stderr
    [step] = [s for s in json.loads(proc.stdout)["steps"] if s["to_stage"] == "production"]
    return step


def test_a_merged_change_leaves_a_signed_note_that_history_reads(merged: dict[str, Any], tmp_path: Path) -> None:
    code, outputs, log = run_gate(merged, tmp_path)
    assert (code, outputs["verdict"]) == (0, "pass"), log
    assert outputs["audit-note"] == merged["after"]
    assert f"audit record signed and stored as a git note on {merged['after']}" in log
    assert git(merged["origin"], "rev-parse", "--verify", NOTES)  # pushed to origin
    clone = user_clone(merged, tmp_path)
    note = clone / "note"
    note.write_text(git(clone, "notes", f"--ref={NOTES}", "show", merged["after"]) + "\n")
    assert "-----BEGIN SSH SIGNATURE-----" in note.read_text()
    verified = modelgate(clone, "audit", "verify", str(note), "--signer", ".github/audit_signers")
    assert verified.returncode == 0 and "signed by ci@acme.io (ED25519 key SHA256:" in verified.stdout

    step = promotion(clone)
    assert step["commit"] in (merged["after"], git(clone, "rev-parse", f"{merged['after']}^2~1"))
    by = {(a["who"], a["via"]) for a in step["approvers"]}
    assert by == {("reviewer@acme.io", "signed-commit"), ("reviewer@acme.io", "audit-note")}
    [from_note] = [a for a in step["approvers"] if a["via"] == "audit-note"]
    assert from_note["evidence"].startswith("record signed by ci@acme.io (ED25519 key SHA256:")
    assert f"signed-commits: commit {merged['approval']} signed with SHA256:" in from_note["evidence"]
    assert step["unverified"] == []
    text = modelgate(clone, "history", "fraud-detector").stdout
    assert "    approved by reviewer@acme.io (audit-note: record signed by ci@acme.io" in text
    assert f"    approved by reviewer@acme.io (signed-commit: commit {merged['approval']}" in text


def test_only_the_note_proves_an_approval_the_trailers_cannot(merged: dict[str, Any], tmp_path: Path) -> None:
    """Where the trailers prove nothing (a squash merge drops them; here the signed-commits
    provider is disabled in the reading clone), the signed note still says who approved."""
    assert run_gate(merged, tmp_path)[0] == 0
    clone = user_clone(merged, tmp_path)
    step = promotion(clone, "-p", "no:signed-commits")
    assert [(a["who"], a["via"]) for a in step["approvers"]] == [("reviewer@acme.io", "audit-note")]


@pytest.mark.parametrize("how", ["stranger-key", "no-signer", "tampered", "moved"])
def test_an_unverifiable_note_is_shown_as_unverified_never_as_an_approval(
    merged: dict[str, Any], tmp_path: Path, how: str
) -> None:
    """Anyone who can push can write refs/notes/modelgate: a note counts only when its record is
    intact, signed by an allowed audit signer, and about the commit it is attached to."""
    assert run_gate(merged, tmp_path, key="stranger" if how == "stranger-key" else "ci")[0] == 0
    clone = user_clone(merged, tmp_path)
    args: tuple[str, ...] = ("-p", "no:signed-commits")
    expected = {
        "stranger-key": "the signature made by no key of the allowed signers",
        "no-signer": "its signature was not checked: name the allowed signers",
        "tampered": "the signature does not verify",
        "moved": "no note",
    }[how]
    if how == "no-signer":
        (clone / ".modelgate.yaml").write_text("policies: [policy.yaml]\n")
        git(clone, "commit", "-qam", "drop the audit signers")
    if how == "tampered":  # a reviewer added to the record, record_sha256 recomputed, old signature kept
        import hashlib

        from modelgate.reporters.audit import canonical
        from modelgate.reporters.audit_signature import split

        payload, signature = split(git(clone, "notes", f"--ref={NOTES}", "show", merged["after"]).encode() + b"\n")
        data = json.loads(payload)
        data.pop("record_sha256")
        data["approvals"].append({**data["approvals"][0], "who": "mallory@acme.io"})
        data["record_sha256"] = hashlib.sha256(canonical(data)).hexdigest()
        forged = clone / "forged"
        forged.write_bytes(json.dumps(data).encode() + b"\n" + (signature or b""))
        git(clone, "notes", f"--ref={NOTES}", "add", "-f", "-F", str(forged), merged["after"])
    if how == "moved":  # the genuine note copied onto another commit: it is about the merge, not this one
        git(clone, "notes", f"--ref={NOTES}", "copy", merged["after"], merged["before"])
        step = modelgate(clone, *args, "history", "fraud-detector", "--json")
        steps = json.loads(step.stdout)["steps"]
        staged = next(s for s in steps if s["to_stage"] == "staging")
        assert staged["approvers"] == []
        assert staged["unverified"][0]["reason"].startswith(
            f"its record is about commit {merged['after'][:12]}, not this one"
        )
        return
    step = promotion(clone, *args)
    assert step["approvers"] == []
    [doubt] = step["unverified"]
    assert doubt["source"] == f"audit note on {merged['after'][:12]}"
    assert expected in doubt["reason"]
    assert "unverified, not counted: audit note on" in modelgate(clone, *args, "history", "fraud-detector").stdout


def test_notes_are_stored_only_for_a_push_to_the_default_branch(merged: dict[str, Any], tmp_path: Path) -> None:
    code, outputs, log = run_gate(merged, tmp_path, event=push_event(merged, branch="release"))
    assert (code, "audit-note" in outputs) == (0, False), log
    assert git(merged["ci"], "ls-remote", "origin", NOTES) == ""


def test_a_note_that_cannot_be_stored_fails_the_step(merged: dict[str, Any], tmp_path: Path) -> None:
    code, outputs, log = run_gate(merged, tmp_path, audit_key="")
    assert (code, outputs["verdict"]) == (4, "pass"), log
    assert "::error title=modelgate::audit-notes: no audit-key given" in log
    code, outputs, log = run_gate(merged, tmp_path, audit_notes="yes")
    assert (code, outputs["verdict"]) == (4, "error")
    assert "audit-notes must be 'true' or 'false', not yes" in log
    # origin refuses the push (as without `contents: write`): the step fails naming the permission
    git(merged["ci"], "remote", "set-url", "--push", "origin", str(tmp_path / "read-only"))
    code, outputs, log = run_gate(merged, tmp_path)
    assert code == 4 and "cannot push refs/notes/modelgate to origin" in log and "contents: write" in log, log


def test_the_gate_never_sees_the_signing_key(merged: dict[str, Any], tmp_path: Path) -> None:
    """The key is for the note alone: a plugin the gate loads (here the base's own local plugin,
    which records its environment) finds no INPUT_AUDIT_KEY."""
    seen = tmp_path / "seen-env"
    repo = merged["repo"]
    repo.write("spy.py", f"import os, pathlib\npathlib.Path({str(seen)!r}).write_text(repr(sorted(os.environ)))\n")
    repo.write(".modelgate.yaml", "policies: [policy.yaml]\napprovals: {provider: signed-commits}\nplugins: [spy.py]\n")
    merged["before"] = repo.commit("a local plugin")
    repo.git("push", "-q", "origin", "main")
    merged["after"] = merged["before"]
    subprocess.run(["git", "-C", str(merged["ci"]), "pull", "-q", "origin", "main"], check=True)
    code, _outputs, log = run_gate(merged, tmp_path)
    assert code == 0, log
    assert "INPUT_AUDIT_NOTES" in seen.read_text() and "INPUT_AUDIT_KEY" not in seen.read_text()
