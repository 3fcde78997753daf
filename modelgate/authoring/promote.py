"""``modelgate promote``: move a manifest to a stage, and say what still stands in the way.

The stage is edited in place (only that value changes, see ``editing``), then the gate
runs the way CI will run it on the pull request: against the base branch, with policies
from the base. Everything that fails is listed, and so is what only CI can verify
(approvals), and what the stage after the new one will still ask (readiness: to add before
the promotion, while the version may still change). ``--dry-run`` checks the promoted
manifest without writing it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from modelgate.authoring.yamledit import Edit, apply, read_text, write_text
from modelgate.datamodel import manifest
from modelgate.datamodel.records import record
from modelgate.datamodel.results import Readiness, Result, Summary
from modelgate.errors import InputError, UsageError
from modelgate.escaping import terminal as esc
from modelgate.pipeline import discovery

if TYPE_CHECKING:
    import pluggy

# Where a pull request would most likely merge, when nothing is configured.
DEFAULT_BASES = ("origin/HEAD", "origin/main", "origin/master", "main", "master")


@record
class Promotion:
    path: str  # repo-relative manifest
    model: str  # name@version
    before: str
    after: str
    written: bool
    base: str | None
    summary: Summary

    @property
    def missing(self) -> list[Result]:
        return [r for r in self.summary.results if r.fails or (self.summary.strict and r.is_warning)]

    @property
    def ahead(self) -> list[Readiness]:
        """What the stages after the promoted one will still ask of this version (notices)."""
        return [entry for entry in self.summary.readiness if entry.manifest == self.path and entry.needs]

    @property
    def in_ci(self) -> list[Result]:
        return [r for r in self.summary.results if r.outcome == "skipped" and r.reason == "verified-in-ci"]

    @property
    def exit_code(self) -> int:
        return self.summary.exit_code


def default_base(root: str, env: Mapping[str, str], configured: str | None) -> str | None:
    """The base a check uses (MODELGATE_BASE, config; in CI the event's), else the usual main branch."""
    from modelgate.git.repo import GitRepo
    from modelgate.pipeline.base import base_ref
    from modelgate.pipeline.ci import in_ci

    ref = base_ref(None, env, configured, ci=in_ci(None, env))
    repo = GitRepo.at(root)
    if ref is not None or repo is None:
        return ref
    if repo.head() is None:
        return None
    for candidate in DEFAULT_BASES:
        if repo.run("rev-parse", "--verify", "--quiet", "--end-of-options", f"{candidate}^{{commit}}", check=False):
            return candidate
    return None


def promote(pm: pluggy.PluginManager, path: str, to: str, *, dry_run: bool, base: str | None,
            env: Mapping[str, str], disabled: set[str]) -> Promotion:
    from modelgate.pipeline.session import open_session
    from modelgate.pipeline.workspace import Options, find_root, local_config
    from modelgate.registry.resolve import Registry

    abspath = os.path.abspath(path)
    if not os.path.isfile(abspath) or not discovery.is_manifest_name(os.path.basename(abspath)):
        raise UsageError(f"{path}: not a manifest file (modelgate.yaml or <name>.modelgate.yaml)")
    root = find_root([abspath])
    display = discovery.relpath(root, abspath)
    doc = manifest.load(abspath, display, root=root)
    if doc.model is None:
        raise InputError(list(doc.problems))
    if doc.model.stage == to:
        raise UsageError(f"{doc.model.ref} is already at stage {to!r}")
    text, bom = read_text(abspath, display, root=root)
    promoted = apply(text, [Edit(("stage",), to)], display)
    ref = base or default_base(root, env, local_config(root, env, [abspath]).base)
    others = [e.manifest for e in Registry(root, env=env).entries(doc.model.name)]
    options = Options(paths=tuple(dict.fromkeys([abspath, *others])), base=ref, env=dict(env),
                      overlay={abspath: (("\ufeff" if bom else "") + promoted).encode("utf-8")})
    with open_session(options, pm, disabled, root) as session:
        summary = session.run()
        policy = session.policy_for(doc.model.name)
    written = not dry_run and policy is not None and to in policy.stages
    if written:
        write_text(abspath, promoted, bom)
    return Promotion(display, doc.model.ref, doc.model.stage, to, written, ref, summary)


def render(promotion: Promotion, dry_run: bool) -> str:
    p = promotion
    lines = [esc(f"promote {p.model}: {p.before} -> {p.after} ({p.path})")]
    if p.base is None:
        lines.append("no base branch found: transition and change rules were not checked"
                     " (pass --base, or set `base` in .modelgate.yaml)")
    else:
        merge_base = p.summary.git.merge_base
        lines.append(esc(f"checked as CI will: against {p.base}"
                         + (f" (merge-base {merge_base[:12]})" if merge_base else "")))
    lines += [esc(f"note: {n}") for n in p.summary.notices]
    if p.missing:
        lines.append("still missing before this promotion can merge:")
        for r in p.missing:
            lines.append(esc(f"  - {r.check} {r.name}: {r.message} ({r.location.path}:{r.location.line})"))
            if r.hint:
                lines.append(esc(f"      hint: {r.hint}"))
    if p.in_ci:
        lines.append("verified in CI on the pull request (cannot be checked here):")
        lines += [esc(f"  - {r.check} {r.name}: {r.message}") for r in p.in_ci]
    for entry in p.ahead:
        lines.append(esc(f"once at {entry.stage}, to reach {entry.target} this version still needs (a notice: add it"
                         f" before this promotion, or while at {entry.stage}):"))
        for r in entry.needs:
            lines.append(esc(f"  - {r.check} {r.name}: {r.message} ({r.location.path}:{r.location.line})"))
            if r.hint:
                lines.append(esc(f"      hint: {r.hint}"))
        if entry.in_ci:
            lines.append(esc(f"  verified in CI at {entry.target}: " + ", ".join(f"{c} {n}" for c, n in entry.in_ci)))
        lines.append(esc(f"  {entry.advice}"))
    counts = p.summary.counts
    if not p.missing:
        lines.append("nothing else missing" + (" once CI verifies the above" if p.in_ci else "")
                     + f": {counts['passed']} checks passed")
    if p.written:
        lines.append(esc(f"{p.path}: stage set to {p.after}; commit it and open a pull request"))
    elif dry_run:
        lines.append(esc(f"dry run: {p.path} was not changed"))
    else:
        lines.append(esc(f"{p.path} was not changed: {p.after!r} is not a stage of its policy"))
    return "\n".join(lines) + "\n"
