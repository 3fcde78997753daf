"""Who approved each promotion in a model's history, where it can be proven.

Two sources, and nothing else (an author's claim in a commit message proves nothing):

- **signed commits**: the change that landed the step (the merge that brought it onto the
  history's first-parent line, or the commit itself followed by the empty approval
  commits a fast-forward keeps) is judged as the ``signed-commits`` provider judged it in
  CI: ``Approved-by: <name>@<version> -> <stage>`` trailers whose signature git verifies
  against the allowed signers of the commit the change landed on, on the change's own
  line, holding the bytes that landed, not by the change's authors;
- **audit notes**: the audit record the GitHub Action signed and stored as a git note on
  the landed commit (``refs/notes/modelgate``). A note counts only when its SSH signature
  verifies against an allowed-signers file the reader names (``--signer``, or config
  ``audit: {allowed_signers: PATH}`` read from the history's commit), and its record is
  about that commit. Anyone who can push to the remote can write notes: an unsigned,
  unverifiable or misplaced note is shown as unverified, never as an approval.
"""

from __future__ import annotations

import json
from bisect import bisect_left
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from modelgate.datamodel.records import record

if TYPE_CHECKING:
    from modelgate.approvals.evidence import ApprovalRequest, Approvals
    from modelgate.git.repo import GitRepo

NOTES_REF = "refs/notes/modelgate"
_SIGNED_COMMITS = "signed-commits"

# The approvals hook (``pm.hook.modelgate_collect_approvals``).
Collect = Callable[..., "Approvals | None"]


@record
class Approver:
    who: str
    via: str  # "signed-commit" or "audit-note"
    evidence: str

    def to_json(self) -> dict[str, str]:
        return {"who": self.who, "via": self.via, "evidence": self.evidence}


@record
class Unverified:
    source: str  # "audit note on <sha>"
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"source": self.source, "reason": self.reason}


class Trail:
    """Approvals along ``rev``'s history, asked per promotion step."""

    def __init__(
        self, repo: GitRepo, rev: str, collect: Collect | None, signers: bytes | None, signers_label: str
    ) -> None:
        self.repo = repo
        self.collect = collect
        self.signers = signers
        self.signers_label = signers_label
        # The first-parent line, oldest first, with each commit's tree and parents.
        self.line: list[str] = []
        self.trees: dict[str, str] = {}
        self.parents: dict[str, list[str]] = {}
        out = repo.run("log", "--first-parent", "--reverse", "-z", "--format=%H %T %P", "--end-of-options", rev)
        for entry in out.decode().split("\x00"):
            fields = entry.split()
            if len(fields) >= 2:
                self.line.append(fields[0])
                self.trees[fields[0]] = fields[1]
                self.parents[fields[0]] = fields[2:]
        self.position = {sha: index for index, sha in enumerate(self.line)}
        self.trailers = set(
            repo.run("log", "--format=%H", "--grep=^Approved-by:", "--end-of-options", rev).decode().split()
        )
        self.notes = _notes(repo)
        self._by_change: dict[tuple[str, str], Approvals | str] = {}
        self._records: dict[str, _Note | Unverified] = {}

    def landing(self, commit: str) -> str | None:
        """The commit of the first-parent line that brought ``commit`` in (itself when on it)."""
        if commit in self.position:
            return commit
        # Once in, always in: the first descendant along the line is found by bisection.
        found = bisect_left(range(len(self.line)), True, key=lambda i: self.repo.is_ancestor(commit, self.line[i]))
        return self.line[found] if found < len(self.line) else None

    def approvers(self, commit: str, model: str, stage: str) -> tuple[list[Approver], list[Unverified]]:
        """Who approved ``model`` (name@version) moving to ``stage`` in the step at ``commit``."""
        landed = self.landing(commit)
        if landed is None:
            return [], []
        found = self._signed(landed, model, stage)
        unverified: list[Unverified] = []
        if landed in self.notes:
            note = self._note(landed)
            if isinstance(note, Unverified):
                unverified.append(note)
            else:
                found += note.approvers(model, stage)
        return found, unverified

    # -- signed commits --------------------------------------------------------------

    def _change(self, landed: str) -> tuple[str, str] | None:
        """(merge-base, head) of the change that landed at ``landed``: a merge's first
        parent and itself, else its parent and itself with the empty commits after it."""
        parents = self.parents.get(landed, [])
        if not parents:
            return None
        if len(parents) > 1:
            return parents[0], landed
        index = self.position[landed]
        while (
            index + 1 < len(self.line)
            and len(self.parents[self.line[index + 1]]) == 1
            and self.trees[self.line[index + 1]] == self.trees[landed]
        ):
            index += 1
        return parents[0], self.line[index]

    def _signed(self, landed: str, model: str, stage: str) -> list[Approver]:
        if self.collect is None or not self.trailers:
            return []
        change = self._change(landed)
        if change is None:
            return []
        if change not in self._by_change:
            self._by_change[change] = self._ask(*change)
        found = self._by_change[change]
        if isinstance(found, str):
            return []
        from modelgate.approvals.evidence import tally

        counted = tally(found, model, stage).counted
        return [Approver(a.who, "signed-commit", a.evidence) for a in counted]

    def _ask(self, merge_base: str, head: str) -> Approvals | str:
        """The signed-commits provider's answer for one landed change, or why none."""
        span = self.repo.run("rev-list", "--end-of-options", f"{merge_base}..{head}").decode().split()
        if not self.trailers.intersection(span):
            return "no Approved-by: trailer in the change"
        from modelgate.approvals.evidence import ApprovalRequest
        from modelgate.datamodel import config
        from modelgate.errors import ModelgateError
        from modelgate.git.trees import CommitTree

        tree = CommitTree(self.repo, merge_base)
        try:
            settings = config.load(tree.read, {}, {}).approvals
        except ModelgateError as exc:
            return f"the configuration at {merge_base[:12]} cannot be read: {exc}"
        request: ApprovalRequest = ApprovalRequest(_SIGNED_COMMITS, settings, self.repo, merge_base, head, tree)
        assert self.collect is not None
        answer = self.collect(request=request)
        if answer is None or answer.error is not None:
            return answer.error if answer is not None and answer.error else "no signed-commits provider"
        return answer

    # -- audit notes ----------------------------------------------------------------

    def _note(self, landed: str) -> _Note | Unverified:
        if landed not in self._records:
            self._records[landed] = self._read_note(landed)
        return self._records[landed]

    def _read_note(self, landed: str) -> _Note | Unverified:
        from modelgate.errors import InputError, ModelgateError
        from modelgate.reporters import audit, audit_signature

        source = f"audit note on {landed[:12]}"
        try:
            [raw] = self.repo.blobs([self.notes[landed]], limit=audit.MAX_BYTES)
        except ModelgateError as exc:
            return Unverified(source, f"cannot be read: {exc}")
        try:
            intact, _message = audit.verify_bytes(raw, source)
        except InputError as exc:
            return Unverified(source, f"is not an audit record: {exc.problems[0].message}")
        if not intact:
            return Unverified(source, "its record was modified (record_sha256 does not match)")
        payload, signature = audit_signature.split(raw)
        if signature is None:
            return Unverified(source, "is not signed")
        if self.signers is None:
            return Unverified(
                source,
                "its signature was not checked: name the allowed signers (--signer FILE, or"
                " config audit.allowed_signers)",
            )
        signer = audit_signature.verify(payload, signature, self.signers)
        if isinstance(signer, str):
            return Unverified(source, f"the signature {signer} ({self.signers_label})")
        data = json.loads(payload.decode("utf-8"))
        head = data.get("git", {}).get("head") if isinstance(data.get("git"), dict) else None
        if head != landed:
            return Unverified(source, f"its record is about commit {str(head)[:12]}, not this one")
        return _Note(data, f"{signer.principal} ({signer.key})")


class _Note:
    """A verified audit note: its record, and who signed it."""

    def __init__(self, data: dict[str, Any], signer: str) -> None:
        self.data = data
        self.signer = signer

    def approvers(self, model: str, stage: str) -> list[Approver]:
        """The approvals the record counted for ``model`` moving to ``stage``."""
        found = []
        approvals = self.data.get("approvals")
        for entry in approvals if isinstance(approvals, list) else []:
            if not isinstance(entry, dict):
                continue
            who, evidence, provider = entry.get("who"), entry.get("evidence"), entry.get("provider")
            if (
                entry.get("model") in (None, model)
                and entry.get("stage") in (None, stage)
                and isinstance(who, str)
                and isinstance(evidence, str)
            ):
                found.append(Approver(who, "audit-note", f"record signed by {self.signer}; {provider}: {evidence}"))
        return found


def _notes(repo: GitRepo) -> dict[str, str]:
    """annotated commit -> note blob, under refs/notes/modelgate (empty without that ref)."""
    if not repo.run("rev-parse", "--verify", "--quiet", f"{NOTES_REF}^{{commit}}", check=False).strip():
        return {}
    found = {}
    for line in repo.run("notes", f"--ref={NOTES_REF}", "list").decode().splitlines():
        fields = line.split()
        if len(fields) == 2:
            found[fields[1]] = fields[0]
    return found
