"""``modelgate history NAME``: a model's versions and stages over the git history."""

from __future__ import annotations

import argparse
import json
import os
import re
from typing import TYPE_CHECKING, Any

from modelgate.errors import ExitCode, UsageError

if TYPE_CHECKING:
    import pluggy

    from modelgate.git.repo import GitRepo


def add_parser(sub: Any, pm: pluggy.PluginManager) -> None:
    history = sub.add_parser("history", help="a model's version and stage timeline from git history")
    history.add_argument("name", metavar="NAME", help="the model name")
    history.add_argument(
        "--ref", default="HEAD", help="whose history (default: HEAD): the states of its first-parent line"
    )
    history.add_argument("--at", metavar="YYYY-MM-DD", help="also say which version was in which stage that day")
    history.add_argument("--json", action="store_true", help="print JSON")
    history.add_argument(
        "--signer",
        metavar="ALLOWED_SIGNERS",
        help="an allowed-signers file (git's format) naming the keys that sign audit notes"
        " (default: config audit.allowed_signers, read from --ref)",
    )


def run(pm: pluggy.PluginManager, options: argparse.Namespace) -> int:
    from modelgate.escaping import terminal as esc
    from modelgate.git.repo import GitRepo
    from modelgate.pipeline.base import read_history
    from modelgate.pipeline.workspace import find_root, local_config
    from modelgate.registry.history import names, state_on, steps, with_approvers
    from modelgate.registry.trail import Trail

    repo = GitRepo.at(find_root([]))
    if repo is None:
        raise UsageError("history needs a git repository")
    if options.at is not None and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", options.at):
        raise UsageError(f"--at {options.at!r}: use YYYY-MM-DD")
    settings = local_config(repo.root, os.environ)
    try:
        rev = repo.verify(options.ref, "ref")
        history = read_history(repo, rev, repo.root, settings.manifests)
        found = steps(history, options.name)
        if found:
            signers, label = _audit_signers(repo, rev, options.signer)
            trail = Trail(repo, rev, pm.hook.modelgate_collect_approvals, signers, label)
            found = with_approvers(found, trail, options.name)
    finally:
        repo.close()
    if not found:
        # An empty timeline would read as "this model never moved": a typo must not pass as that.
        known = names(history)
        have = (
            f"; models there: {', '.join(known[:10])}{' ...' if len(known) > 10 else ''}"
            if known
            else "; no manifest was ever committed there"
        )
        raise UsageError(f"history: no model {options.name!r} in the history of {options.ref}{have}")
    on = state_on(found, options.at) if options.at else None
    if options.json:
        print(
            json.dumps(
                {
                    "model": options.name,
                    "steps": [s.to_json() for s in found],
                    **({"at": {"date": options.at, "stages": on}} if on is not None else {}),
                },
                indent=2,
            )
        )
        return ExitCode.OK
    for s in found:
        print(
            esc(
                f"{s.date[:19].replace('T', ' ')}  {s.commit[:12]}  {s.version:<12} {s.from_stage:>11} -> "
                f"{s.to_stage:<11} {s.author}"
            )
        )
        for approver in s.approvers:
            print(esc(f"    approved by {approver.who} ({approver.via}: {approver.evidence})"))
        for doubt in s.unverified:
            print(esc(f"    unverified, not counted: {doubt.source} {doubt.reason}"))
    if on is not None:
        print(esc(f"on {options.at}: " + (", ".join(f"{v} {st}" for v, st in sorted(on.items())) or "no versions")))
    return ExitCode.OK


def _audit_signers(repo: GitRepo, rev: str, flag: str | None) -> tuple[bytes | None, str]:
    """The allowed signers of audit notes: ``--signer FILE``, else config
    ``audit.allowed_signers``, both read from the commit whose history is shown (not the
    work tree: an uncommitted edit does not decide whose notes count)."""
    if flag is not None:
        try:
            with open(flag, "rb") as stream:
                return stream.read(1024 * 1024), flag
        except OSError as exc:
            raise UsageError(f"--signer {flag}: {exc.strerror}; give an allowed-signers file (git's format)") from None
    from modelgate.datamodel import config
    from modelgate.git.trees import CommitTree

    tree = CommitTree(repo, rev)
    path = config.load(tree.read, {}, {}).audit.get("allowed_signers")
    if not isinstance(path, str):
        return None, ""
    try:
        return tree.read(path), f"{path} at {rev[:12]}"
    except FileNotFoundError:
        raise UsageError(f"config audit.allowed_signers: no {path} in {rev[:12]}") from None
