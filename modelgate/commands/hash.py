"""``modelgate hash [--update]``: recompute the hashes manifests record, and rewrite them."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, Any

from modelgate.errors import ExitCode, UsageError

if TYPE_CHECKING:
    import pluggy


def add_parser(sub: Any, pm: pluggy.PluginManager) -> None:
    hashes = sub.add_parser("hash", help="recompute artifact, lockfile and data hashes of manifests")
    hashes.add_argument("manifests", nargs="*", metavar="MANIFEST", help="default: every manifest in the repository")
    hashes.add_argument(
        "--update", action="store_true", help="rewrite the values that changed (comments and formatting are kept)"
    )


def run(pm: pluggy.PluginManager, options: argparse.Namespace) -> int:
    from modelgate.authoring.rehash import inspect, update
    from modelgate.escaping import terminal as esc
    from modelgate.hashing.cache import for_clone
    from modelgate.hashing.digest import Hasher
    from modelgate.pipeline import discovery
    from modelgate.pipeline.workspace import find_root

    root = find_root(options.manifests)
    found = discovery.discover(root, list(options.manifests))
    if found.others:
        raise UsageError(f"{found.others[0]}: not a manifest (modelgate.yaml or <name>.modelgate.yaml)")
    if not found.manifests:
        print("no manifests found")
        return ExitCode.NO_MANIFESTS
    # The clone's cache, as `check` opens it outside CI: the check that follows finds every
    # digest taken here, and hashes nothing again.
    hasher = Hasher(for_clone(root, os.environ))
    stale = problems = notes = files = 0
    try:
        for path in found.manifests:
            outcome = inspect(root, path, discovery.relpath(root, path), hasher)
            files += outcome.hashed
            for problem in outcome.problems:
                print(esc(f"{outcome.path}: {problem}"))
            for note in outcome.notes:
                print(esc(f"{outcome.path}: {note}"))
            problems += len(outcome.problems)
            notes += len(outcome.notes)
            if not outcome.stale:
                continue
            stale += len(outcome.stale)
            changed = options.update and update(root, path, outcome)
            print(esc(f"{outcome.path}: {'updated' if changed else 'stale'}"))
            for item in outcome.stale:
                print(esc(f"  {item.describe()}"))
    finally:
        if hasher.cache is not None:
            hasher.cache.close()
    verb = "updated" if options.update else "stale"
    skipped = f", {notes} not hashed (said above)" if notes else ""
    print(
        f"{len(found.manifests)} manifest{'s' if len(found.manifests) != 1 else ''}, {files} files hashed:"
        f" {stale} value{'s' if stale != 1 else ''} {verb}, {problems} not hashable{skipped}"
    )
    if stale and not options.update:
        print("run `modelgate hash --update` to write the new values")
    return ExitCode.FAILED if problems or (stale and not options.update) else ExitCode.OK
