"""The ``signed-commits`` approval provider: offline, git only.

A commit in merge_base..HEAD whose message carries ``Approved-by: <name>@<version> ->
<stage>`` counts as its signer's approval when git verifies its signature (``gpg.format
ssh``) against an allowed-signers file read from the base commit, never from the change.
An approval is of the change as it stood at that commit: if a file the change touches is
different at the head, the approval is stale, as a review of an older commit is on GitHub.
The provider also reports the change's authors (the ``approvals`` rule refuses their
approvals, ``distinct_from_author``, on by default): the author and committer emails of
every commit in the range that changes files, and the verified signer of any such commit,
so an approval trailer in a commit that also edits files is its own author's approval.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from typing import TYPE_CHECKING

from modelgate.hookspecs import hookimpl
from modelgate.records import record

if TYPE_CHECKING:
    from modelgate.approvals import ApprovalRequest, Approvals
    from modelgate.gitrepo import GitRepo

NAME = "signed-commits"
DEFAULT_SIGNERS = ".github/allowed_signers"
# Eight fields per commit, each ended by a NUL (-z ends the last one): git never prints a
# NUL inside a field, while a message or an email may hold any other control character
# (SOH, the old record separator, included). %G? verifies the signature.
_FORMAT = "%H%x00%ae%x00%ce%x00%ct%x00%G?%x00%GS%x00%GF%x00%B"
_FIELDS = 8
_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")


@record
class _Commit:
    sha: str
    author: str
    committer: str
    timestamp: int
    status: str  # git's %G?: G good, N none, B bad, U/X/Y/R/E not verified here
    signer: str
    key: str
    body: str


@hookimpl
def modelgate_approval_providers() -> list[str]:
    return [NAME]


@hookimpl
def modelgate_collect_approvals(request: ApprovalRequest) -> Approvals | None:
    if request.provider != NAME:
        return None
    # Here, not at the top: this module loads on every start, and most runs ask no provider.
    from modelgate.approvals import TRAILER, Approval, Approvals, Rejection

    if request.git is None or request.merge_base is None or request.head is None:
        return Approvals(NAME, error="signed-commits needs a base to compare with (--base, or a pull request)")
    path = str(request.settings.get("allowed_signers", DEFAULT_SIGNERS))
    try:
        signers = request.tree.read(path)
    except FileNotFoundError:
        return Approvals(NAME, error=f"no allowed-signers file {path} in the base commit")
    git = request.git
    span = f"{request.merge_base}..{request.head}"
    import tempfile  # here: a costly import, and most runs never verify signatures

    with tempfile.NamedTemporaryFile("wb", prefix="modelgate-signers-", delete=False) as handle:
        handle.write(signers)
    try:
        log = git.run("-c", "gpg.format=ssh", "-c", f"gpg.ssh.allowedSignersFile={handle.name}",
                      "log", "-z", f"--format={_FORMAT}", span).decode("utf-8", "replace")
    finally:
        os.unlink(handle.name)
    commits = _parse(log)
    # Commits that change files (an approval is an empty commit); merges count when they
    # differ from every parent, as git log shows them.
    changing = set(git.run("log", "--format=%H", span, "--", ".").decode().split())
    authors: set[str] = set()
    for c in (c for c in commits if c.sha in changing):
        authors.update(x for x in (c.author, c.committer) if x)
        if c.status == "G" and c.signer:
            authors.add(c.signer)
    touched = _changed(git, request.merge_base, request.head)
    accepted: list[Approval] = []
    rejected: list[Rejection] = []
    for c in commits:
        for name, version, stage in TRAILER.findall(c.body):
            model = f"{name}@{version}"
            evidence = f"commit {c.sha}" + (f" signed with {c.key}" if c.key else "")
            if c.status != "G" or not c.signer:
                unverified = f"signature not verified by the base's {path} ({c.status})"
                reason = "not signed" if c.status == "N" else unverified
                who = c.signer or f"{c.author} (commit author; no allowed signer)"
                rejected.append(Rejection(who, model, stage, reason, evidence))
                continue
            later = sorted(touched & _changed(git, c.sha, request.head))
            if later:
                shown = ", ".join(later[:3]) + (f" and {len(later) - 3} more" if len(later) > 3 else "")
                rejected.append(Rejection(c.signer, model, stage,
                                          f"stale: {shown} changed after this approval; approve the head again",
                                          evidence))
                continue
            when = dt.datetime.fromtimestamp(c.timestamp, dt.UTC).isoformat().replace("+00:00", "Z")
            # Whether the signer authored the change is the rule's call (tally).
            accepted.append(Approval(c.signer, model, stage, when, NAME, evidence))
    return Approvals(NAME, tuple(accepted), tuple(rejected), tuple(sorted(authors)))


def _parse(log: str) -> list[_Commit]:
    """The commits of ``git log -z --format=_FORMAT``, read by position."""
    from modelgate.errors import GitError

    fields = log.split("\x00")
    if fields and fields[-1] == "":
        fields.pop()
    if len(fields) % _FIELDS:
        raise GitError(f"git log printed {len(fields)} fields, not {_FIELDS} per commit; cannot read approvals")
    commits = []
    for start in range(0, len(fields), _FIELDS):
        sha, author, committer, timestamp, status, signer, key, body = fields[start:start + _FIELDS]
        if not _SHA.match(sha) or not timestamp.isdigit():
            raise GitError(f"git log printed an unexpected commit {sha[:80]!r}; cannot read approvals")
        commits.append(_Commit(sha, author, committer, int(timestamp), status or "E", signer, key, body))
    return commits


def _changed(git: GitRepo, old: str, new: str) -> set[str]:
    """The paths whose content differs between two commits."""
    out = git.run("diff", "--no-renames", "--name-only", "-z", old, new, "--")
    return {p for p in out.decode("utf-8", "surrogateescape").split("\x00") if p}
