"""``modelgate promote``: move a manifest to a stage, and say what still stands in the way.

The stage is edited in place (only that value changes, see ``editing``), then the gate
runs the way CI will run it on the pull request: against the base branch, with policies
from the base. Everything that fails is listed, and so is what only CI can verify
(approvals), and what the stage after the new one will still ask (readiness: to add before
the promotion, while the version may still change). ``--dry-run`` checks the promoted
manifest without writing it.

Promoting into an exclusive stage (``production`` in ``builtin:default``) moves the version
standing there now, the incumbent, to ``archived`` in the same change: one version stands
in an exclusive stage, so the two edits are one promotion, checked and written together.
"""

from __future__ import annotations

import os
import re
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
# Where the incumbent of an exclusive stage goes (builtin:default's lifecycle: production -> archived).
RETIRED = "archived"
_REF = re.compile(r"([a-z0-9][a-z0-9._-]{0,127})@([^@\s]+)")


@record
class Move:
    """Another manifest the promotion edits: the incumbent leaving the exclusive stage."""

    path: str  # repo-relative manifest
    model: str  # name@version
    before: str
    after: str


@record
class Promotion:
    path: str  # repo-relative manifest
    model: str  # name@version
    before: str
    after: str
    written: bool
    base: str | None
    summary: Summary
    moved: tuple[Move, ...] = ()  # incumbents moved out of an exclusive stage, in the same change

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


def manifest_path(target: str, env: Mapping[str, str]) -> str:
    """The absolute path of the manifest ``target`` names: a manifest file, or NAME@VERSION
    looked up in the work tree's registry."""
    from modelgate.pipeline.workspace import find_root
    from modelgate.registry.resolve import Registry

    abspath = os.path.abspath(target)
    if os.path.lexists(abspath) or not _REF.fullmatch(target):
        if not os.path.isfile(abspath) or not discovery.is_manifest_name(os.path.basename(abspath)):
            raise UsageError(
                f"{target}: not a manifest file (modelgate.yaml or <name>.modelgate.yaml) nor NAME@VERSION"
            )
        return abspath
    name, version = target.split("@", 1)
    entries = Registry(find_root([]), env=env).entries(name)
    for entry in entries:
        if entry.version == version:
            return entry.manifest
    have = f"; it has {', '.join(e.version for e in entries)}" if entries else f"; no model {name!r} here"
    raise UsageError(f"{target}: no manifest of {name} version {version} in the work tree{have}")


def promote(
    pm: pluggy.PluginManager,
    target: str,
    to: str,
    *,
    dry_run: bool,
    base: str | None,
    env: Mapping[str, str],
    disabled: set[str],
) -> Promotion:
    from modelgate.pipeline.session import open_session
    from modelgate.pipeline.workspace import Options, find_root, local_config
    from modelgate.registry.resolve import Registry

    abspath = manifest_path(target, env)
    root = find_root([abspath])
    display = discovery.relpath(root, abspath)
    doc = manifest.load(abspath, display, root=root)
    if doc.model is None:
        raise InputError(list(doc.problems))
    if doc.model.stage == to:
        raise UsageError(f"{doc.model.ref} is already at stage {to!r}")
    edits = {abspath: _Edit(display, to, root)}
    ref = base or default_base(root, env, local_config(root, env, [abspath]).base)
    versions = Registry(root, env=env).entries(doc.model.name)
    paths = tuple(dict.fromkeys([abspath, *(e.manifest for e in versions)]))

    def options() -> Options:
        return Options(paths=paths, base=ref, env=dict(env), overlay={p: e.raw for p, e in edits.items()})

    with open_session(options(), pm, disabled, root) as session:
        policy = session.policy_for(doc.model.name)
        moved: list[Move] = []
        if policy is not None and to in policy.exclusive:
            for entry in versions:
                if entry.manifest != abspath and entry.stage == to:
                    if RETIRED not in policy.stages:
                        raise UsageError(
                            f"{entry.name}@{entry.version} stands in exclusive stage {to!r} and its"
                            f" policy ({policy.path}) has no stage {RETIRED!r} to move it to: move it"
                            " out by hand in the same change"
                        )
                    edits[entry.manifest] = _Edit(entry.manifest_relpath, RETIRED, root)
                    moved.append(Move(entry.manifest_relpath, f"{entry.name}@{entry.version}", to, RETIRED))
        summary = None if moved else session.run()
    if summary is None:
        # The incumbents' edits are part of the change checked: open it again with them.
        with open_session(options(), pm, disabled, root) as session:
            summary = session.run()
    written = not dry_run and policy is not None and to in policy.stages
    if written:
        for path, edit in edits.items():
            write_text(path, edit.text, edit.bom)
    return Promotion(display, doc.model.ref, doc.model.stage, to, written, ref, summary, tuple(moved))


class _Edit:
    """One manifest's stage edited in place (text as it will be written, and as checked)."""

    def __init__(self, display: str, stage: str, root: str) -> None:
        path = os.path.join(root, display)
        text, self.bom = read_text(path, display, root=root)
        self.text = apply(text, [Edit(("stage",), stage)], display)

    @property
    def raw(self) -> bytes:
        return (("\ufeff" if self.bom else "") + self.text).encode("utf-8")


def render(promotion: Promotion, dry_run: bool) -> str:
    p = promotion
    lines = [esc(f"promote {p.model}: {p.before} -> {p.after} ({p.path})")]
    lines += [
        esc(f"  and {m.model}: {m.before} -> {m.after} ({m.path}): {m.before!r} holds one version") for m in p.moved
    ]
    if p.base is None:
        lines.append(
            "no base branch found: transition and change rules were not checked"
            " (pass --base, or set `base` in .modelgate.yaml)"
        )
    else:
        merge_base = p.summary.git.merge_base
        lines.append(
            esc(f"checked as CI will: against {p.base}" + (f" (merge-base {merge_base[:12]})" if merge_base else ""))
        )
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
        lines.append(
            esc(
                f"once at {entry.stage}, to reach {entry.target} this version still needs (a notice: add it"
                f" before this promotion, or while at {entry.stage}):"
            )
        )
        for r in entry.needs:
            lines.append(esc(f"  - {r.check} {r.name}: {r.message} ({r.location.path}:{r.location.line})"))
            if r.hint:
                lines.append(esc(f"      hint: {r.hint}"))
        if entry.in_ci:
            lines.append(esc(f"  verified in CI at {entry.target}: " + ", ".join(f"{c} {n}" for c, n in entry.in_ci)))
        lines.append(esc(f"  {entry.advice}"))
    counts = p.summary.counts
    if not p.missing:
        lines.append(
            "nothing else missing"
            + (" once CI verifies the above" if p.in_ci else "")
            + f": {counts['passed']} checks passed"
        )
    if p.written:
        lines += [esc(f"{m.path}: stage set to {m.after}") for m in p.moved]
        lines.append(
            esc(
                f"{p.path}: stage set to {p.after}; commit "
                + ("them" if p.moved else "it")
                + " and open a pull request"
            )
        )
    elif dry_run:
        lines.append(
            esc(
                f"dry run: {' and '.join([p.path, *(m.path for m in p.moved)])}"
                f" {'were' if p.moved else 'was'} not changed"
            )
        )
    else:
        lines.append(esc(f"{p.path} was not changed: {p.after!r} is not a stage of its policy"))
    return "\n".join(lines) + "\n"
