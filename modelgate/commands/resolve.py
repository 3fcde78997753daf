"""``modelgate resolve NAME@STAGE|VERSION|ALIAS|latest``: the manifest and artifacts of one version."""

from __future__ import annotations

import argparse
import json
import os
from typing import TYPE_CHECKING, Any

from modelgate.errors import ExitCode

if TYPE_CHECKING:
    import pluggy


def add_parser(sub: Any, pm: pluggy.PluginManager) -> None:
    resolve = sub.add_parser("resolve", help="the manifest and artifact paths of NAME@STAGE|VERSION|ALIAS|latest")
    resolve.add_argument(
        "selector",
        metavar="NAME[@STAGE|@VERSION|@ALIAS|@latest]",
        help="latest: the highest SemVer version that is not archived or rejected",
    )
    resolve.add_argument("--ref", help="read the manifests at this commit, branch or tag")
    resolve.add_argument("--verify", action="store_true", help="re-hash the artifacts on disk")
    resolve.add_argument("--json", action="store_true", help="print JSON")


def run(pm: pluggy.PluginManager, options: argparse.Namespace) -> int:
    from modelgate.escaping import terminal as esc
    from modelgate.pipeline.workspace import find_root
    from modelgate.registry.resolve import Registry, verify_artifacts

    root = find_root([])
    entry = Registry(root, options.ref, os.environ).select(options.selector)
    if options.verify:
        entry = verify_artifacts(entry, root)
    if options.json:
        print(json.dumps(entry.to_json(), indent=2))
        return ExitCode.OK
    at = f" at {entry.commit[:12]}" if entry.commit else ""
    print(
        esc(
            f"{entry.name}@{entry.version} {entry.stage}{at}"
            + (f" aliases: {', '.join(entry.aliases)}" if entry.aliases else "")
        )
    )
    print(esc(f"manifest: {entry.manifest_relpath}"))
    for artifact in entry.artifacts:
        mark = "verified" if entry.verified else "not verified"
        print(esc(f"artifact: {artifact.relpath} sha256:{artifact.sha256} {artifact.size} bytes ({mark})"))
    return ExitCode.OK
