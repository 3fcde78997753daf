"""``modelgate diff [REF] [NAME]``: what changed per model version, base vs head;
``modelgate diff [REF:]NAME@A [REF:]NAME@B``: any two versions, at any refs, field by field."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from typing import TYPE_CHECKING, Any

from modelgate.errors import ExitCode, RegistryError, UsageError

if TYPE_CHECKING:
    import pluggy

    from modelgate.git.repo import GitRepo
    from modelgate.registry.resolve import Registry

# [REF:]NAME@WHICH: a model name never holds ":" and a git ref never does, so the last ":"
# ends the ref; WHICH is a version, stage, alias or `latest` (never "{", so `main@{1}` is a ref).
SIDE = re.compile(r"(?:(?P<ref>.+):)?(?P<name>[a-z0-9][a-z0-9._-]{0,127})@(?P<which>[A-Za-z0-9._+-]+)")


def add_parser(sub: Any, pm: pluggy.PluginManager) -> None:
    diff = sub.add_parser("diff", help="what changed per model version: base vs head, or any two versions")
    diff.add_argument(
        "args",
        nargs="*",
        metavar="[REF] [NAME] | [REF:]NAME@A [REF:]NAME@B",
        help="the base (default: configured base, else HEAD) and a model name; or two versions,"
        " each NAME@VERSION|STAGE|ALIAS|latest, read at REF (default: the work tree)",
    )
    diff.add_argument("--format", choices=["text", "markdown", "json"], default="text")


def run(pm: pluggy.PluginManager, options: argparse.Namespace) -> int:
    from modelgate.pipeline.workspace import find_root

    root = find_root([])
    sides = [SIDE.fullmatch(arg) for arg in options.args]
    if any(sides):
        if len(sides) != 2 or not all(sides):
            raise UsageError(
                "diff NAME@A NAME@B compares two versions: give both, e.g."
                " `modelgate diff fraud-detector@1.3.0 main:fraud-detector@production`"
            )
        return _two_versions(root, [m for m in sides if m is not None], options.format)
    return _against_base(root, options.args, options.format)


def _two_versions(root: str, sides: list[re.Match[str]], form: str) -> int:
    from modelgate.registry.diff import pair, render_pair_markdown, render_pair_text
    from modelgate.registry.resolve import Registry

    registries: dict[str | None, Registry] = {}
    found = []
    for side in sides:
        ref = side.group("ref")
        if ref not in registries:
            registries[ref] = Registry(root, ref, os.environ)
        found.append(registries[ref].select(f"{side.group('name')}@{side.group('which')}"))
    result = pair(found[0], sides[0].group("ref"), found[1], sides[1].group("ref"))
    if form == "json":
        print(json.dumps(result.to_json(), indent=2))
    elif form == "markdown":
        sys.stdout.write(render_pair_markdown(result))
    else:
        sys.stdout.write(render_pair_text(result))
    return ExitCode.OK


def _against_base(root: str, args: list[str], form: str) -> int:
    from modelgate.datamodel import config, manifest
    from modelgate.git.repo import GitRepo
    from modelgate.pipeline import discovery
    from modelgate.pipeline.base import Base, base_ref
    from modelgate.pipeline.ci import in_ci
    from modelgate.pipeline.workspace import config_folder, local_config
    from modelgate.registry.diff import diff, render_markdown, render_text
    from modelgate.registry.suggest import verify_ref

    repo = GitRepo.at(root)
    if repo is None:
        raise UsageError("diff needs a git repository")
    if len(args) > 2:
        raise UsageError("diff takes at most a REF and a NAME, or two versions NAME@A NAME@B")
    try:
        settings = local_config(root, os.environ)
        ref, name = _ref_and_name(repo, args)
        ref = ref or base_ref(None, os.environ, settings.base, ci=in_ci(None, os.environ)) or "HEAD"
        verify_ref(repo, ref, "base")  # a mistyped ref is an error with a did-you-mean, never "no changes"
        base = Base(repo, ref, root)
        # As `check` does: the base commit's globs select the manifests of both sides.
        base.globs = config.load(base.tree.read, os.environ, {}, config_folder(base.tree.read, root)).manifests
        found = discovery.discover(root, [], base.globs)
        head = [manifest.load(p, discovery.relpath(root, p), root=root) for p in found.manifests]
        olds = base.manifests()
        if name is not None:
            _known_name(repo, name, ref, [d.model.name for d in (*olds, *head) if d.model is not None], len(args))
        diffs = diff(olds, head, name)
    finally:
        repo.close()
    if form == "json":
        print(
            json.dumps({"base": ref, "merge_base": base.merge_base, "models": [d.to_json() for d in diffs]}, indent=2)
        )
    elif form == "markdown":
        sys.stdout.write(render_markdown(diffs, ref))
    else:
        sys.stdout.write(render_text(diffs, ref))
    return ExitCode.OK


def _ref_and_name(repo: GitRepo, args: list[str]) -> tuple[str | None, str | None]:
    """``diff REF NAME``, ``diff REF`` or ``diff NAME``: one word is a ref when git knows it."""
    if len(args) == 2:
        return args[0], args[1]
    if len(args) == 1:
        known = repo.run(
            "rev-parse", "--verify", "--quiet", "--end-of-options", f"{args[0]}^{{commit}}", check=False
        ).strip()
        return (args[0], None) if known else (None, args[0])
    return None, None


def _known_name(repo: GitRepo, name: str, ref: str, names: list[str], words: int) -> None:
    """A NAME no manifest on either side has is a typo (of a model, or of a ref when it was
    the only word), never a diff with no changes."""
    from modelgate.registry.suggest import did_you_mean, ref_names

    if name in names:
        return
    models = sorted(set(names))
    if words == 1:
        raise UsageError(
            f"{name!r} is neither a commit nor a model at {ref} or in the work tree"
            f"{did_you_mean(name, [*ref_names(repo), *models])}; models: {', '.join(models) or 'none'}"
        )
    raise RegistryError(
        f"no model named {name!r} at {ref} or in the work tree{did_you_mean(name, models)};"
        f" models: {', '.join(models) or 'none'}"
    )
