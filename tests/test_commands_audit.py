"""``modelgate audit sign`` and ``audit verify --signer``: an audit record signed with a real SSH
key, verified against an allowed-signers file (git's format), through the installed command."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from modelgate.reporters.audit import canonical
from tests.conftest import Repo, production_fields
from tests.test_approvals_evidence import keypair


@pytest.fixture
def signed(repo: Repo, tmp_path: Path) -> dict[str, Path]:
    """An audit record of a real run, the CI key that signs it, a stranger's key, and the
    allowed-signers file that names only the CI key."""
    repo.manifest("m", **production_fields())
    repo.commit("model")
    assert repo.run("check", "--audit", "../audit.json").returncode == 0
    ci, ci_public = keypair(tmp_path, "ci")
    stranger, _ = keypair(tmp_path, "stranger")
    allowed = tmp_path / "audit_signers"
    allowed.write_text(f'ci@acme.io namespaces="modelgate-audit" {ci_public}\n')
    return {"record": tmp_path / "audit.json", "ci": ci, "stranger": stranger, "allowed": allowed}


def audit(repo: Repo, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return repo.run("audit", *map(str, args))


def test_a_signed_record_verifies_against_the_allowed_signers(repo: Repo, signed: dict[str, Path]) -> None:
    record = signed["record"]
    proc = audit(repo, "sign", record, "--key", signed["ci"])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.endswith(f"signed with {signed['ci']}: {record}.sig\n")
    assert Path(f"{record}.sig").read_text().startswith("-----BEGIN SSH SIGNATURE-----\n")
    proc = audit(repo, "verify", record, "--signer", signed["allowed"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith(f"{record}: audit record intact (record_sha256 ")
    assert "; signed by ci@acme.io (ED25519 key SHA256:" in proc.stdout
    # Plain OpenSSH verifies it too: the signature is over the file's exact bytes.
    plain = subprocess.run(
        [
            "ssh-keygen",
            "-Y",
            "verify",
            "-f",
            str(signed["allowed"]),
            "-I",
            "ci@acme.io",
            "-n",
            "modelgate-audit",
            "-s",
            f"{record}.sig",
        ],
        input=record.read_bytes(),
        capture_output=True,
    )
    assert plain.returncode == 0, plain.stderr
    # Without --signer only the hash is checked, and the output says so.
    proc = audit(repo, "verify", record)
    assert proc.returncode == 0 and "signature" not in proc.stdout


def test_a_forged_record_with_a_recomputed_hash_does_not_verify(repo: Repo, signed: dict[str, Path]) -> None:
    """The hash alone proves nothing about origin: whoever edits a record can recompute it. The
    signature does."""
    record = signed["record"]
    assert audit(repo, "sign", record, "--key", signed["ci"]).returncode == 0
    data = json.loads(record.read_text())
    data.pop("record_sha256")
    data["verdict"], data["approvals"] = "pass", [{"who": "mallory@acme.io"}]
    data["record_sha256"] = hashlib.sha256(canonical(data)).hexdigest()
    record.write_text(json.dumps(data, indent=2))
    assert audit(repo, "verify", record).returncode == 0  # the hash matches: it was recomputed
    proc = audit(repo, "verify", record, "--signer", signed["allowed"])
    assert proc.returncode == 1
    assert proc.stdout.startswith(f"{record}: the signature does not verify: ")


@pytest.mark.parametrize("how", ["stranger", "unsigned", "namespace", "embedded-stranger"])
def test_a_signature_by_anyone_else_or_none_is_a_failure(repo: Repo, signed: dict[str, Path], how: str) -> None:
    record = signed["record"]
    target = record
    if how == "stranger":
        assert audit(repo, "sign", record, "--key", signed["stranger"]).returncode == 0
    elif how == "namespace":  # the CI key, but a git commit signature's namespace
        sig = subprocess.run(
            ["ssh-keygen", "-Y", "sign", "-f", str(signed["ci"]), "-n", "git"],
            input=record.read_bytes(),
            capture_output=True,
            check=True,
        ).stdout
        Path(f"{record}.sig").write_bytes(sig)
    elif how == "embedded-stranger":  # as a git note holds it: the record, then the signature
        sig = subprocess.run(
            ["ssh-keygen", "-Y", "sign", "-f", str(signed["stranger"]), "-n", "modelgate-audit"],
            input=record.read_bytes(),
            capture_output=True,
            check=True,
        ).stdout
        target = record.with_name("note")
        target.write_bytes(record.read_bytes() + sig)
    proc = audit(repo, "verify", target, "--signer", signed["allowed"])
    assert proc.returncode == 1, proc.stdout + proc.stderr
    expected = {
        "stranger": "the signature made by no key of the allowed signers",
        "embedded-stranger": "the signature made by no key of the allowed signers",
        "namespace": "the signature does not verify",
        "unsigned": f"not signed: no signature after the record and no {record}.sig",
    }[how]
    assert expected in proc.stdout


def test_a_record_followed_by_its_signature_verifies(repo: Repo, signed: dict[str, Path]) -> None:
    """The form a git note under refs/notes/modelgate holds."""
    record = signed["record"]
    assert audit(repo, "sign", record, "--key", signed["ci"]).returncode == 0
    note = record.with_name("note")
    note.write_bytes(record.read_bytes() + Path(f"{record}.sig").read_bytes())
    proc = audit(repo, "verify", note, "--signer", signed["allowed"])
    assert proc.returncode == 0, proc.stdout
    assert "signed by ci@acme.io" in proc.stdout
    proc = audit(repo, "verify", note)
    assert proc.returncode == 0 and proc.stdout.endswith("; its signature was not checked (give --signer)\n")
    # Editing the record in front of its signature breaks the signature, not just the hash.
    note.write_bytes(note.read_bytes().replace(b'"verdict": "pass"', b'"verdict": "fail"'))
    assert audit(repo, "verify", note, "--signer", signed["allowed"]).returncode == 1
    assert audit(repo, "sign", record.with_name("note"), "--key", signed["ci"]).returncode == 1  # modified


def test_usage_problems_are_exit_4(repo: Repo, signed: dict[str, Path], tmp_path: Path) -> None:
    record = signed["record"]
    cases = [
        (("sign", record, "--key", tmp_path / "no-such-key"), "no such key file"),
        (("sign", record), "the following arguments are required: --key"),
        (("verify", record, "--signer", tmp_path / "no-such-file"), "--signer"),
        (("verify", tmp_path / "missing.json"), "not a readable audit record"),
        (("sign", signed["allowed"], "--key", signed["ci"]), "not a readable audit record"),
    ]
    for args, says in cases:
        proc = audit(repo, *args)
        assert (proc.returncode, says in proc.stderr) == (4, True), (args, proc.stderr)
    not_a_key = tmp_path / "not-a-key"
    not_a_key.write_text("hello\n")
    not_a_key.chmod(0o600)
    proc = audit(repo, "sign", record, "--key", not_a_key)
    assert proc.returncode == 4 and "ssh-keygen could not sign with it" in proc.stderr
    assert not Path(f"{record}.sig").exists()
