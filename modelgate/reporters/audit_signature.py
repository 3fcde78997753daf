"""SSH signatures of audit records: who vouches for a record, beyond its hash.

``record_sha256`` proves that a record is as it was written, not who wrote it: anyone can
recompute it for a forged record. An SSH signature over the record's exact bytes
(``ssh-keygen -Y sign``, namespace ``modelgate-audit``) says who did, checked against an
allowed-signers file in the format git uses for signed commits (``principal [options]
key``, see ssh-keygen(1) "ALLOWED SIGNERS"), the format signed-commit approvals use.

A signature travels beside its record as ``FILE.sig`` (``modelgate audit sign``), or after
it, the way git keeps a signed tag's: a git note under ``refs/notes/modelgate`` holds the
record's bytes followed by the armored signature. The record is JSON, whose strings never
hold a raw line break, so a line that begins the armor cannot come from inside it.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Sequence

from modelgate.datamodel.records import record
from modelgate.errors import UsageError

NAMESPACE = "modelgate-audit"
BEGIN = b"-----BEGIN SSH SIGNATURE-----"
_GOOD = re.compile(r'^Good "[^"]*" signature for .+ with (.+ key \S+)\s*$', re.M)


@record
class Signer:
    """Who signed: the allowed signer's principal and the key's type and fingerprint."""

    principal: str
    key: str  # "ED25519 key SHA256:..."


def split(raw: bytes) -> tuple[bytes, bytes | None]:
    """(the record's bytes, the signature after them or None)."""
    at = raw.find(b"\n" + BEGIN)
    if at < 0:
        return raw, None
    return raw[: at + 1], raw[at + 1 :]


def sign(payload: bytes, key: str) -> bytes:
    """The armored SSH signature of ``payload`` with the private key in file ``key``."""
    if not os.path.isfile(key):
        raise UsageError(f"--key {key}: no such key file (an SSH private key, e.g. from ssh-keygen -t ed25519)")
    # An absolute path: a key file named like an option stays a file name.
    proc = _ssh_keygen(["-Y", "sign", "-f", os.path.abspath(key), "-n", NAMESPACE], payload)
    if proc.returncode != 0 or not proc.stdout.startswith(BEGIN):
        raise UsageError(f"--key {key}: ssh-keygen could not sign with it: {_last_line(proc.stderr)}")
    return proc.stdout


def verify(payload: bytes, signature: bytes, allowed_signers: bytes) -> Signer | str:
    """The signer of ``payload`` when ``signature`` verifies against ``allowed_signers``
    (the file's bytes) in the ``modelgate-audit`` namespace; else why not."""
    import tempfile  # here: only verifying needs files for ssh-keygen

    with tempfile.TemporaryDirectory(prefix="modelgate-signature-") as folder:
        signature_file, signers_file = os.path.join(folder, "record.sig"), os.path.join(folder, "allowed_signers")
        with open(signature_file, "wb") as stream:
            stream.write(signature)
        with open(signers_file, "wb") as stream:
            stream.write(allowed_signers)
        found = _ssh_keygen(["-Y", "find-principals", "-s", signature_file, "-f", signers_file], b"")
        principals = found.stdout.decode("utf-8", "replace").split() if found.returncode == 0 else []
        if not principals:
            return f"made by no key of the allowed signers ({_last_line(found.stderr)})"
        why = ""
        for principal in principals:
            proc = _ssh_keygen(
                ["-Y", "verify", "-f", signers_file, "-I", principal, "-n", NAMESPACE, "-s", signature_file], payload
            )
            good = _GOOD.search(proc.stdout.decode("utf-8", "replace"))
            if proc.returncode == 0 and good is not None:
                return Signer(principal, good.group(1))
            why = _last_line(proc.stderr) or _last_line(proc.stdout)
        return f"does not verify: {why}"


def _ssh_keygen(args: Sequence[str], payload: bytes) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["ssh-keygen", *args], input=payload, capture_output=True, check=False, timeout=60)
    except OSError as exc:
        raise UsageError(f"cannot run ssh-keygen: {exc.strerror}; install OpenSSH 8.2 or later") from None
    except subprocess.TimeoutExpired:
        raise UsageError("ssh-keygen did not answer within 60 s (a key with a passphrase needs ssh-agent)") from None


def _last_line(data: bytes) -> str:
    lines = [line for line in data.decode("utf-8", "replace").splitlines() if line.strip()]
    return lines[-1].strip() if lines else "no reason given"
