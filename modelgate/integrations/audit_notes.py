"""The Action's audit trail: each merged change's audit record, signed, as a git note.

With ``audit-notes: true``, a run on a push to the repository's default branch (a merged
change) signs its audit record with the SSH key of the ``audit-key`` input (a secret) and
stores record and signature as a git note on the pushed commit under
``refs/notes/modelgate``, then pushes that ref to ``origin`` (the workflow needs
``contents: write``). Notes outlive CI: a run's artifacts expire, a note stays with the
commit, and ``modelgate history`` reads the approvers from it once its signature verifies.

Runs for other events, or pushes to other branches, store nothing. Once asked for, a note
that cannot be stored fails the step: an audit trail with silent gaps is not one.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping

from modelgate.errors import UsageError
from modelgate.registry.trail import NOTES_REF

# Who writes the note when the runner has no git identity (GitHub's own Actions bot).
_BOT = ("github-actions[bot]", "41898282+github-actions[bot]@users.noreply.github.com")
_TRIES = 3  # concurrent pushes race for the notes ref: fetch, add and push again


def wanted(env: Mapping[str, str]) -> bool:
    """Whether this run stores a note: asked for, and a push to the default branch.
    Raises ``UsageError`` for an input that is neither true nor false."""
    asked = env.get("INPUT_AUDIT_NOTES", "false").strip().lower()
    if asked not in ("true", "false"):
        raise UsageError(f"audit-notes must be 'true' or 'false', not {asked[:40]}")
    if asked == "false" or env.get("GITHUB_EVENT_NAME") != "push":
        return False
    from modelgate.pipeline.ci import read_event

    event = read_event(env)
    repository = event.get("repository")
    default = repository.get("default_branch") if isinstance(repository, dict) else None
    if not isinstance(default, str) or not default:
        raise UsageError(
            "audit-notes: the push event names no repository.default_branch; the note is stored only"
            " for the default branch"
        )
    return event.get("ref") == f"refs/heads/{default}"


def store(record_path: str, env: Mapping[str, str], folder: str) -> str:
    """Sign the audit record at ``record_path`` and store it as a note on HEAD, pushed to
    origin; returns the commit. ``folder``: where the key may be written for ssh-keygen."""
    from modelgate.reporters import audit, audit_signature

    key = env.get("INPUT_AUDIT_KEY", "")
    if not key.strip():
        raise UsageError(
            "audit-notes: no audit-key given; pass the SSH private key from a secret"
            " (audit-key: ${{ secrets.MODELGATE_AUDIT_KEY }})"
        )
    raw = audit.read(record_path)
    intact, message = audit.verify_bytes(raw, record_path)
    if not intact:
        raise UsageError(message)
    head = _git("rev-parse", "--verify", "HEAD^{commit}").strip()
    pushed = _pushed(env)
    if pushed is not None and pushed != head:
        raise UsageError(f"audit-notes: the checkout is {head[:12]}, not the pushed commit {pushed[:12]}")
    import json

    recorded = json.loads(raw).get("git", {}).get("head")
    if recorded != head:
        raise UsageError(f"audit-notes: the audit record is about {str(recorded)[:12]}, not the checkout {head[:12]}")
    key_path = os.path.join(folder, "audit-key")
    # 0600 from the start: ssh-keygen refuses a key others can read, and nobody else should.
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(key.strip() + "\n")  # a secret often loses the key's last line break
        signature = audit_signature.sign(raw, key_path)
    finally:
        os.unlink(key_path)
    note_path = os.path.join(folder, "audit-note")
    with open(note_path, "wb") as stream:
        stream.write(raw + signature)
    _publish(head, note_path, env)
    return head


def _pushed(env: Mapping[str, str]) -> str | None:
    from modelgate.pipeline.ci import COMMIT, read_event

    after = read_event(env).get("after")
    return after if isinstance(after, str) and COMMIT.fullmatch(after) else None


def _publish(commit: str, note_path: str, env: Mapping[str, str]) -> None:
    """Add the note and push the notes ref, fetching origin's first (another run may have
    pushed a note since)."""
    identity = {
        "GIT_AUTHOR_NAME": _BOT[0],
        "GIT_AUTHOR_EMAIL": _BOT[1],
        "GIT_COMMITTER_NAME": _BOT[0],
        "GIT_COMMITTER_EMAIL": _BOT[1],
    }
    git_env = {**identity, **{k: v for k, v in env.items() if k in identity}}
    problem = ""
    for _ in range(_TRIES):
        # Absent on origin until the first note: then there is nothing to fetch.
        _git("fetch", "--quiet", "--no-tags", "origin", f"+{NOTES_REF}:{NOTES_REF}", check=False)
        _git("notes", f"--ref={NOTES_REF}", "add", "--force", "--file", note_path, commit, extra_env=git_env)
        pushed = subprocess.run(
            ["git", "push", "--quiet", "origin", NOTES_REF],
            capture_output=True,
            text=True,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        if pushed.returncode == 0:
            return
        problem = (pushed.stderr.strip().splitlines() or ["no reason given"])[-1]
    raise UsageError(
        f"audit-notes: cannot push {NOTES_REF} to origin: {problem} (the workflow needs `permissions: contents: write`)"
    )


def _git(*args: str, check: bool = True, extra_env: Mapping[str, str] | None = None) -> str:
    proc = subprocess.run(
        ["git", *args],
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **(extra_env or {})},
    )
    if check and proc.returncode != 0:
        raise UsageError(f"audit-notes: git {args[0]} failed: {(proc.stderr.strip().splitlines() or ['?'])[-1]}")
    return proc.stdout
