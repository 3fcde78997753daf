"""The authoring and registry subcommands: init, hash, promote, diff, resolve, list, export.

``commands.py`` adds these parsers and dispatches to these handlers; the work is done in
authoring, rehashing, promotion, diffing, registry and export.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from modelgate.errors import ExitCode, UsageError

if TYPE_CHECKING:
    import pluggy

Handler = Callable[["pluggy.PluginManager", argparse.Namespace], int]


def add_parsers(sub: Any) -> None:
    """Add the subcommands to ``sub`` (the ``add_subparsers()`` of the main parser)."""
    init = sub.add_parser("init", help="write a manifest for trained model files (hashes computed)")
    init.add_argument("artifacts", nargs="+", metavar="ARTIFACT", help="model files, or folders of them")
    init.add_argument("--name", required=True, help="model name (lowercase, digits, . _ -)")
    init.add_argument("--version", required=True, dest="model_version", metavar="VERSION",
                      help="SemVer version, e.g. 1.0.0")
    init.add_argument("--stage", default="none", help="initial stage (default: none)")
    init.add_argument("--owner", action="append", default=[], dest="owners", metavar="OWNER",
                      help="@org/team, @user or email (repeatable; default: from CODEOWNERS)")
    init.add_argument("--license", help='SPDX license expression, "proprietary" or LicenseRef-<name>')
    init.add_argument("--description")
    init.add_argument("-o", "--output", metavar="PATH",
                      help="manifest file or folder (default: modelgate.yaml beside the artifacts)")
    init.add_argument("--force", action="store_true", help="overwrite an existing manifest")
    init.add_argument("--from-mlflow", metavar="PATH", help="an MLmodel file, model folder or mlruns run folder")
    init.add_argument("--from-dvc", metavar="DVC_LOCK", help="a dvc.lock: params, data deps and metrics")
    init.add_argument("--from-hf", metavar="README", help="a Hugging Face model card (README.md with model-index)")

    hashes = sub.add_parser("hash", help="recompute artifact, lockfile and data hashes of manifests")
    hashes.add_argument("manifests", nargs="*", metavar="MANIFEST", help="default: every manifest in the repository")
    hashes.add_argument("--update", action="store_true",
                        help="rewrite the values that changed (comments and formatting are kept)")

    promote = sub.add_parser("promote", help="set a manifest's stage and check it as CI will")
    promote.add_argument("manifest", metavar="MANIFEST")
    promote.add_argument("--to", required=True, metavar="STAGE", help="the target stage, e.g. production")
    promote.add_argument("--dry-run", action="store_true", help="check the promotion without editing the file")
    promote.add_argument("--base", metavar="REF",
                         help="compare with REF (default: the pull request's or configured base, else main)")

    diff = sub.add_parser("diff", help="what changed per model version: base vs head")
    diff.add_argument("args", nargs="*", metavar="[REF] [NAME]",
                      help="the base (default: configured base, else HEAD) and a model name")
    diff.add_argument("--format", choices=["text", "markdown", "json"], default="text")

    resolve = sub.add_parser("resolve", help="the manifest and artifact paths of NAME@STAGE|VERSION|ALIAS")
    resolve.add_argument("selector", metavar="NAME[@STAGE|@VERSION|@ALIAS]")
    resolve.add_argument("--ref", help="read the manifests at this commit, branch or tag")
    resolve.add_argument("--verify", action="store_true", help="re-hash the artifacts on disk")
    resolve.add_argument("--json", action="store_true", help="print JSON")

    listing = sub.add_parser("list", help="the registry view: model, version, stage, aliases, manifest")
    listing.add_argument("name", nargs="?", metavar="NAME")
    listing.add_argument("--stage", metavar="STAGE")
    listing.add_argument("--ref", help="read the manifests at this commit, branch or tag")
    listing.add_argument("--json", action="store_true", help="print JSON")

    export = sub.add_parser("export", help="export model versions as a CycloneDX 1.6 ML-BOM")
    export.add_argument("selectors", nargs="*", metavar="NAME[@STAGE|@VERSION|@ALIAS]",
                        help="default: every model version")
    export.add_argument("--format", choices=["cyclonedx"], default="cyclonedx")
    export.add_argument("--stage", metavar="STAGE", help="only versions at this stage")
    export.add_argument("--ref", help="read the manifests at this commit, branch or tag")
    export.add_argument("-o", "--output", metavar="FILE", help="write to FILE (default: standard output)")


def _root(paths: list[str] | None = None) -> str:
    from modelgate.pipeline.discovery import find_root

    return find_root(paths or [])


def _cmd_init(pm: pluggy.PluginManager, options: argparse.Namespace) -> int:
    from modelgate.authoring.scaffold import InitRequest, init
    from modelgate.escaping import terminal as esc

    request = InitRequest(
        artifacts=options.artifacts, name=options.name, version=options.model_version, stage=options.stage,
        owners=options.owners, license=options.license, description=options.description, output=options.output,
        force=options.force, mlflow=options.from_mlflow, dvc=options.from_dvc, hf=options.from_hf,
    )
    written = init(request, _root(list(options.artifacts)))
    model = written.model
    size = sum(a.size for a in model.artifacts)
    print(esc(f"wrote {written.path}: {model.ref}, stage {model.stage}, {len(model.artifacts)} artifact"
              f"{'s' if len(model.artifacts) != 1 else ''} ({size} bytes)"))
    for source in written.sources:
        print(esc(f"  imported from {source}"))
    print(esc(f"next: review it, then `modelgate check {written.path}`"))
    return ExitCode.OK


def _cmd_hash(pm: pluggy.PluginManager, options: argparse.Namespace) -> int:
    from modelgate.authoring.rehash import inspect, update
    from modelgate.escaping import terminal as esc
    from modelgate.hashing.digest import Hasher
    from modelgate.pipeline import discovery

    root = _root(options.manifests)
    found = discovery.discover(root, list(options.manifests))
    if found.others:
        raise UsageError(f"{found.others[0]}: not a manifest (modelgate.yaml or <name>.modelgate.yaml)")
    if not found.manifests:
        print("no manifests found")
        return ExitCode.NO_MANIFESTS
    hasher = Hasher()
    stale = problems = files = 0
    for path in found.manifests:
        outcome = inspect(root, path, discovery.relpath(root, path), hasher)
        files += outcome.hashed
        for problem in outcome.problems:
            print(esc(f"{outcome.path}: {problem}"))
        problems += len(outcome.problems)
        if not outcome.stale:
            continue
        stale += len(outcome.stale)
        changed = options.update and update(root, path, outcome)
        print(esc(f"{outcome.path}: {'updated' if changed else 'stale'}"))
        for item in outcome.stale:
            print(esc(f"  {item.describe()}"))
    verb = "updated" if options.update else "stale"
    print(f"{len(found.manifests)} manifest{'s' if len(found.manifests) != 1 else ''}, {files} files hashed:"
          f" {stale} value{'s' if stale != 1 else ''} {verb}, {problems} not hashable")
    if stale and not options.update:
        print("run `modelgate hash --update` to write the new values")
    return ExitCode.FAILED if problems or (stale and not options.update) else ExitCode.OK


def _cmd_promote(pm: pluggy.PluginManager, options: argparse.Namespace) -> int:
    from modelgate.authoring.promote import promote, render

    disabled = {name.removeprefix("no:") for name in getattr(options, "plugins_disabled", [])}
    result = promote(pm, options.manifest, options.to, dry_run=options.dry_run, base=options.base,
                     env=dict(os.environ), disabled=disabled)
    sys.stdout.write(render(result, options.dry_run))
    return result.exit_code


def _cmd_diff(pm: pluggy.PluginManager, options: argparse.Namespace) -> int:
    from modelgate.datamodel import config, manifest
    from modelgate.git.repo import GitRepo
    from modelgate.git.trees import WorkTree
    from modelgate.pipeline import discovery
    from modelgate.pipeline.base import Base, base_ref
    from modelgate.pipeline.ci import in_ci
    from modelgate.registry.diff import diff, render_markdown, render_text

    root = _root()
    if not os.path.exists(os.path.join(root, ".git")):
        raise UsageError("diff needs a git repository")
    if len(options.args) > 2:
        raise UsageError("diff takes at most a REF and a NAME")
    repo = GitRepo(root)
    try:
        settings = config.load(WorkTree(root).read, os.environ, {})
        ref, name = _ref_and_name(repo, options.args)
        ref = ref or base_ref(None, os.environ, settings.base, ci=in_ci(None, os.environ)) or "HEAD"
        base = Base(repo, ref, root)
        # As `check` does: the base commit's globs select the manifests of both sides.
        base.globs = config.load(base.tree.read, os.environ, {}).manifests
        found = discovery.discover(root, [], base.globs)
        head = [manifest.load(p, discovery.relpath(root, p), root=root) for p in found.manifests]
        diffs = diff(base.manifests(), head, name)
    finally:
        repo.close()
    if options.format == "json":
        print(json.dumps({"base": ref, "merge_base": base.merge_base, "models": [d.to_json() for d in diffs]},
                         indent=2))
    elif options.format == "markdown":
        sys.stdout.write(render_markdown(diffs, ref))
    else:
        sys.stdout.write(render_text(diffs, ref))
    return ExitCode.OK


def _ref_and_name(repo: object, args: list[str]) -> tuple[str | None, str | None]:
    """``diff REF NAME``, ``diff REF`` or ``diff NAME``: one word is a ref when git knows it."""
    from modelgate.git.repo import GitRepo

    assert isinstance(repo, GitRepo)
    if len(args) == 2:
        return args[0], args[1]
    if len(args) == 1:
        known = repo.run("rev-parse", "--verify", "--quiet", "--end-of-options", f"{args[0]}^{{commit}}",
                         check=False).strip()
        return (args[0], None) if known else (None, args[0])
    return None, None


def _cmd_resolve(pm: pluggy.PluginManager, options: argparse.Namespace) -> int:
    from modelgate.escaping import terminal as esc
    from modelgate.registry.resolve import Registry, verify_artifacts

    root = _root()
    entry = Registry(root, options.ref, os.environ).select(options.selector)
    if options.verify:
        entry = verify_artifacts(entry, root)
    if options.json:
        print(json.dumps(entry.to_json(), indent=2))
        return ExitCode.OK
    at = f" at {entry.commit[:12]}" if entry.commit else ""
    print(esc(f"{entry.name}@{entry.version} {entry.stage}{at}"
              + (f" aliases: {', '.join(entry.aliases)}" if entry.aliases else "")))
    print(esc(f"manifest: {entry.manifest_relpath}"))
    for artifact in entry.artifacts:
        mark = "verified" if entry.verified else "not verified"
        print(esc(f"artifact: {artifact.relpath} sha256:{artifact.sha256} {artifact.size} bytes ({mark})"))
    return ExitCode.OK


def _cmd_list(pm: pluggy.PluginManager, options: argparse.Namespace) -> int:
    from modelgate.escaping import terminal as esc
    from modelgate.registry.resolve import Registry

    registry = Registry(_root(), options.ref, os.environ)
    entries = registry.entries(options.name, options.stage)
    invalid = registry.invalid()
    if options.json:
        print(json.dumps({"commit": registry.commit, "models": [e.to_json() for e in entries],
                          "invalid": [d.path for d in invalid]}, indent=2))
        return ExitCode.OK
    rows = [("MODEL", "VERSION", "STAGE", "ALIASES", "MANIFEST")]
    rows += [(e.name, e.version, e.stage, ",".join(e.aliases) or "-", e.manifest_relpath) for e in entries]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for row in rows:
        print(esc("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[4]))
    for doc in invalid:
        print(esc(f"invalid manifest (not listed): {doc.path}; see `modelgate check {doc.path}`"))
    return ExitCode.OK


def _cmd_export(pm: pluggy.PluginManager, options: argparse.Namespace) -> int:
    from modelgate.escaping import terminal as esc
    from modelgate.export.cyclonedx import render
    from modelgate.registry.resolve import Registry

    registry = Registry(_root(), options.ref, os.environ)
    if options.selectors:
        entries = [registry.select(s) for s in options.selectors]
        entries = [e for e in entries if options.stage in (None, e.stage)]
    else:
        entries = registry.entries(stage=options.stage)
        for doc in registry.invalid():
            print(f"modelgate: warning: {esc(doc.path)} is not a valid manifest; not exported", file=sys.stderr)
    text = render(entries)
    if options.output:
        from modelgate.authoring.yamledit import write_text

        write_text(options.output, text)
    else:
        sys.stdout.write(text)
    return ExitCode.OK


HANDLERS: dict[str, Handler] = {
    "init": _cmd_init,
    "hash": _cmd_hash,
    "promote": _cmd_promote,
    "diff": _cmd_diff,
    "resolve": _cmd_resolve,
    "list": _cmd_list,
    "export": _cmd_export,
}
