"""The ``signed-commits`` approval provider: offline, git only.

A commit in merge_base..HEAD whose message carries ``Approved-by: <name>@<version> ->
<stage>`` counts as its signer's approval when git verifies its signature (``gpg.format
ssh``) against an allowed-signers file read from the base commit, never from the change.
The provider also reports the change's authors: the ``approvals`` rule refuses their
approvals (``distinct_from_author``, on by default).
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess

from modelgate.approvals import TRAILER, Approval, ApprovalRequest, Approvals, Rejection
from modelgate.hookspecs import hookimpl

NAME = "signed-commits"
DEFAULT_SIGNERS = ".github/allowed_signers"


@hookimpl
def modelgate_collect_approvals(request: ApprovalRequest) -> Approvals | None:
    if request.provider != NAME:
        return None
    if request.git is None or request.merge_base is None or request.head is None:
        return Approvals(NAME, error="signed-commits needs a base to compare with (--base, or a pull request)")
    path = str(request.settings.get("allowed_signers", DEFAULT_SIGNERS))
    try:
        signers = request.tree.read(path)
    except FileNotFoundError:
        return Approvals(NAME, error=f"no allowed-signers file {path} in the base commit")
    git = request.git
    span = f"{request.merge_base}..{request.head}"
    log = git.run("log", "--format=%H%x00%ae%x00%ct%x00%B%x01", span).decode("utf-8", "replace")
    # The change's authors: of commits that change files (an approval is an empty commit).
    changed = git.run("log", "--format=%ae", span, "--", ".").decode()
    authors = tuple(sorted({line for line in changed.split() if line}))
    accepted: list[Approval] = []
    rejected: list[Rejection] = []
    import tempfile

    with tempfile.NamedTemporaryFile("wb", prefix="modelgate-signers-", delete=False) as handle:
        handle.write(signers)
    try:
        for record in log.split("\x01"):
            if not record.strip():
                continue
            sha, author, timestamp, body = record.strip("\n").split("\x00", 3)
            for name, version, stage in TRAILER.findall(body):
                model = f"{name}@{version}"
                status, signer, key = _verify(git.root, sha, handle.name)
                when = dt.datetime.fromtimestamp(int(timestamp), dt.UTC).isoformat().replace("+00:00", "Z")
                evidence = f"commit {sha}" + (f" signed with {key}" if key else "")
                if status != "G" or not signer:
                    unverified = f"signature not verified by the base's {path} ({status})"
                    reason = "not signed" if status == "N" else unverified
                    who = signer or f"{author} (commit author; no allowed signer)"
                    rejected.append(Rejection(who, model, stage, reason, evidence))
                else:  # whether the signer authored the change is the rule's call (tally)
                    accepted.append(Approval(signer, model, stage, when, NAME, evidence))
    finally:
        os.unlink(handle.name)
    return Approvals(NAME, tuple(accepted), tuple(rejected), authors)


def _verify(root: str, sha: str, signers: str) -> tuple[str, str, str]:
    """(%G? status, signer principal, key fingerprint) as git reports them."""
    proc = subprocess.run(
        ["git", "-C", root, "-c", "gpg.format=ssh", "-c", f"gpg.ssh.allowedSignersFile={signers}",
         "log", "-1", "--format=%G?%x00%GS%x00%GF", sha],
        capture_output=True, text=True, check=False,
    )
    parts = [*proc.stdout.strip().split("\x00"), "", "", ""][:3]
    return parts[0] or "E", parts[1], parts[2]
