"""The ``signed-commits`` approval provider: offline, git only.

A commit whose message carries ``Approved-by: <name>@<version> -> <stage>`` counts as its
signer's approval when git verifies its signature (``gpg.format ssh``) against an
allowed-signers file read from the base commit, never from the change, and when it
certifies the bytes being gated:

- it is on the change's own line, the first-parent chain merge_base..HEAD. An approval
  signed on another branch and merged in approved that branch, not this change. When HEAD
  is a merge whose first parent already holds the merge-base (GitHub's merge of a pull
  request into its base, a merge queue's, a merged pull request pushed to the base), the
  change's line is its second parent's;
- its tree holds the same blobs as HEAD for the approved model: every manifest of that
  name@version at HEAD, and every file such a manifest pins by digest (its artifacts and
  its lockfile). Any later change to one of them makes the approval stale, as a review of
  an older commit is on GitHub; changes to other files do not.

The provider also reports the change's authors (the ``approvals`` rule refuses their
approvals, ``distinct_from_author``, on by default): the author and committer emails of
every commit in merge_base..HEAD that changes files, and the verified signer of any such
commit, so an approval trailer in a commit that also edits files is its own author's
approval.
"""

from __future__ import annotations

import datetime as dt
import os
import posixpath
import re
from typing import TYPE_CHECKING

from modelgate.datamodel.records import record
from modelgate.hookspecs import hookimpl

if TYPE_CHECKING:
    from modelgate.approvals.evidence import ApprovalRequest, Approvals
    from modelgate.git.repo import GitRepo

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
    from modelgate.approvals.evidence import TRAILER, Approval, Approvals, Rejection

    if request.git is None or request.merge_base is None or request.head is None:
        return Approvals(NAME, error="signed-commits needs a base to compare with (--base, or a pull request)")
    path = str(request.settings.get("allowed_signers", DEFAULT_SIGNERS))
    try:
        signers = request.tree.read(path)
    except FileNotFoundError:
        return Approvals(NAME, error=f"no allowed-signers file {path} in the base commit")
    git = request.git
    span = f"{request.merge_base}..{request.head}"
    # Asked below whatever the log says: git answers them while it verifies signatures.
    changing_files = ("log", "--format=%H", span, "--", ".")
    git.start(*changing_files)
    git.start_parents(request.head)
    import tempfile  # here: a costly import, and most runs never verify signatures

    with tempfile.NamedTemporaryFile("wb", prefix="modelgate-signers-", delete=False) as handle:
        handle.write(signers)
    try:
        # Only SSH signatures checked against the base's file count. An OpenPGP or X.509
        # signature would be verified by the machine's own keyring (on a laptop, the
        # developer's key is trusted there), and gpg would parse what the change wrote:
        # `false` as their programs leaves such a commit unverified ("N") and runs nothing.
        log = git.run(
            "-c",
            "gpg.format=ssh",
            "-c",
            "gpg.openpgp.program=false",
            "-c",
            "gpg.x509.program=false",
            "-c",
            f"gpg.ssh.allowedSignersFile={handle.name}",
            "log",
            "-z",
            f"--format={_FORMAT}",
            span,
        ).decode("utf-8", "replace")
    finally:
        os.unlink(handle.name)
    commits = _parse(log)
    # Commits that change files (an approval is an empty commit); merges count when they
    # differ from every parent, as git log shows them.
    changing = set(git.run(*changing_files).decode().split())
    authors: set[str] = set()
    for c in (c for c in commits if c.sha in changing):
        authors.update(x for x in (c.author, c.committer) if x)
        if c.status == "G" and c.signer:
            authors.add(c.signer)
    line = _first_parents(git, request.merge_base, request.head)
    held = _HeldBytes(git, request.head)
    accepted: list[Approval] = []
    rejected: list[Rejection] = []
    for c in commits:
        for name, version, stage in TRAILER.findall(c.body):
            model = f"{name}@{version}"
            evidence = f"commit {c.sha}" + (f" signed with {c.key}" if c.key else "")
            if c.status != "G" or not c.signer:
                unverified = f"signature not verified by the base's {path} ({c.status})"
                reason = "not signed with an SSH key" if c.status == "N" else unverified
                who = c.signer or f"{c.author} (commit author; no allowed signer)"
                rejected.append(Rejection(who, model, stage, reason, evidence))
                continue
            if c.sha not in line:
                rejected.append(
                    Rejection(
                        c.signer,
                        model,
                        stage,
                        "not on the change's first-parent line (merged in from another branch)",
                        evidence,
                    )
                )
                continue
            problem = held.differs(model, c.sha)
            if problem is not None:
                rejected.append(Rejection(c.signer, model, stage, problem, evidence))
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
        sha, author, committer, timestamp, status, signer, key, body = fields[start : start + _FIELDS]
        if not _SHA.match(sha) or not timestamp.isdigit():
            raise GitError(f"git log printed an unexpected commit {sha[:80]!r}; cannot read approvals")
        commits.append(_Commit(sha, author, committer, int(timestamp), status or "E", signer, key, body))
    return commits


def _first_parents(git: GitRepo, merge_base: str, head: str) -> set[str]:
    """The commits of the change's own line: first parents from HEAD down to the merge-base.

    A merge whose first parent is the merge-base itself is the base taking the change in
    (``refs/pull/N/merge``, a merge queue, a merged pull request pushed to the base): the
    change's line is then its second parent's. A branch that merges another one keeps its
    own commits as first parents, so what it merged stays off the line.
    """
    parents = git.parents(head)
    tip = parents[1] if len(parents) == 2 and parents[0] == merge_base else head
    out = git.run("rev-list", "--first-parent", "--end-of-options", tip, f"^{merge_base}")
    return set(out.decode().split())


class _HeldBytes:
    """Whether an approving commit holds the approved model's bytes as HEAD does.

    The approved model's files are read from HEAD: every manifest of that name@version, and
    every file such a manifest pins by digest (artifacts and lockfile, relative to its
    folder). A file absent from both commits (a DVC-tracked artifact, say) is equal: the
    manifest's digest pins it, and the manifest is compared.
    """

    def __init__(self, git: GitRepo, head: str) -> None:
        self.git = git
        self.head = head
        self._manifests: list[tuple[str, str]] | None = None  # (path, blob) of every manifest at HEAD
        self._files: dict[str, dict[str, list[str] | str]] = {}  # name -> name@version -> paths, or why not

    def differs(self, model: str, commit: str) -> str | None:
        """Why ``commit`` does not certify ``model`` as it is at HEAD; None when it does."""
        name = model.partition("@")[0]
        files = self._model_files(name).get(model, f"no manifest of {model} at the head {self.head[:12]}")
        if isinstance(files, str):
            return files
        later = sorted(_changed(self.git, commit, self.head, files))
        if not later:
            return None
        shown = ", ".join(later[:3]) + (f" and {len(later) - 3} more" if len(later) > 3 else "")
        return f"stale: {shown} changed after this approval; approve the head again"

    def _model_files(self, name: str) -> dict[str, list[str] | str]:
        """name@version -> the files HEAD holds for it, for the versions of model ``name``.
        Only manifests whose bytes may hold the name are parsed (a trailer names one model,
        and a registry has thousands)."""
        found = self._files.get(name)
        if found is not None:
            return found
        # Here: parsing manifests needs pydantic, and most runs verify no trailer.
        from modelgate.datamodel import manifest, strictyaml, textscan
        from modelgate.pipeline import discovery

        if self._manifests is None:
            self._manifests = sorted(
                (p, sha) for p, sha in self.git.tree(self.head).items() if discovery.is_manifest_path(p)
            )
        # Searched in git's answers at once (a registry's thousands of manifests asked for
        # one name), and only what may hold the name kept.
        shas = [sha for _, sha in self._manifests]
        candidates = self.git.blobs_containing(shas, textscan.needles(name), strictyaml.MAX_BYTES)
        holding = {sha: raw for sha, raw in candidates.items() if textscan.may_hold(raw, name)}
        files: dict[str, list[str] | str] = {}
        for path, sha in self._manifests:
            raw = holding.get(sha)
            if raw is None:
                continue
            model = manifest.from_bytes(raw, path, os.path.join(self.git.root, path)).model
            if model is None or model.name != name:
                continue
            pinned = [a.path for a in model.artifacts]
            env = model.lineage.environment if model.lineage else None
            if env is not None and env.lockfile is not None:
                pinned.append(env.lockfile.path)
            where = [_inside(posixpath.dirname(path), p) for p in pinned]
            if None in where:
                files[model.ref] = f"{path} names a file outside the repository; its bytes cannot be compared"
                continue
            have = files.setdefault(model.ref, [])
            if isinstance(have, list):  # a str: another manifest of it is beyond comparing
                have += [path, *(w for w in where if w is not None)]
        self._files[name] = files
        return files


def _inside(folder: str, rel: str) -> str | None:
    """``folder/rel`` as a path in the tree, or None when it is not one."""
    if "\0" in rel or rel.startswith("/"):
        return None
    joined = posixpath.normpath(posixpath.join(folder, rel))
    return None if joined == ".." or joined.startswith("../") else joined


def _changed(git: GitRepo, old: str, new: str, paths: list[str]) -> set[str]:
    """Which of ``paths`` differ between two commits (content, type or presence)."""
    # :(literal): a path is a name, never a glob the change could write.
    out = git.run("diff", "--no-renames", "--name-only", "-z", old, new, "--", *(f":(literal){p}" for p in paths))
    return {p for p in out.decode("utf-8", "surrogateescape").split("\x00") if p}
