"""``modelgate diff [REF] [NAME]``: what changed per model version, base vs head."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TYPE_CHECKING, Any

from modelgate.errors import ExitCode, UsageError

if TYPE_CHECKING:
    import pluggy


def add_parser(sub: Any, pm: pluggy.PluginManager) -> None:
    diff = sub.add_parser("diff", help="what changed per model version: base vs head")
    diff.add_argument("args", nargs="*", metavar="[REF] [NAME]",
                      help="the base (default: configured base, else HEAD) and a model name")
    diff.add_argument("--format", choices=["text", "markdown", "json"], default="text")


def run(pm: pluggy.PluginManager, options: argparse.Namespace) -> int:
    from modelgate.datamodel import config, manifest
    from modelgate.git.repo import GitRepo
    from modelgate.pipeline import discovery
    from modelgate.pipeline.base import Base, base_ref
    from modelgate.pipeline.ci import in_ci
    from modelgate.pipeline.workspace import config_folder, find_root, local_config
    from modelgate.registry.diff import diff, render_markdown, render_text

    root = find_root([])
    repo = GitRepo.at(root)
    if repo is None:
        raise UsageError("diff needs a git repository")
    if len(options.args) > 2:
        raise UsageError("diff takes at most a REF and a NAME")
    try:
        settings = local_config(root, os.environ)
        ref, name = _ref_and_name(repo, options.args)
        ref = ref or base_ref(None, os.environ, settings.base, ci=in_ci(None, os.environ)) or "HEAD"
        base = Base(repo, ref, root)
        # As `check` does: the base commit's globs select the manifests of both sides.
        base.globs = config.load(base.tree.read, os.environ, {}, config_folder(base.tree.read, root)).manifests
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
