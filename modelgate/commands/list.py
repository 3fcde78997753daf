"""``modelgate list``: the registry view, one model version per line."""

from __future__ import annotations

import argparse
import json
import os
from typing import TYPE_CHECKING, Any

from modelgate.errors import ExitCode

if TYPE_CHECKING:
    import pluggy


def add_parser(sub: Any, pm: pluggy.PluginManager) -> None:
    listing = sub.add_parser("list", help="the registry view: model, version, stage, aliases, manifest")
    listing.add_argument("name", nargs="?", metavar="NAME")
    listing.add_argument("--stage", metavar="STAGE")
    listing.add_argument("--ref", help="read the manifests at this commit, branch or tag")
    listing.add_argument("--json", action="store_true", help="print JSON")


def run(pm: pluggy.PluginManager, options: argparse.Namespace) -> int:
    from modelgate.escaping import terminal as esc
    from modelgate.pipeline.workspace import find_root
    from modelgate.registry.resolve import Registry

    registry = Registry(find_root([]), options.ref, os.environ)
    entries = registry.entries(options.name, options.stage)
    invalid = registry.invalid()
    if options.json:
        print(
            json.dumps(
                {
                    "commit": registry.commit,
                    "models": [e.to_json() for e in entries],
                    "invalid": [d.path for d in invalid],
                },
                indent=2,
            )
        )
        return ExitCode.OK
    rows = [("MODEL", "VERSION", "STAGE", "ALIASES", "MANIFEST")]
    rows += [(e.name, e.version, e.stage, ",".join(e.aliases) or "-", e.manifest_relpath) for e in entries]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for row in rows:
        print(esc("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[4]))
    for doc in invalid:
        print(esc(f"invalid manifest (not listed): {doc.path}; see `modelgate check {doc.path}`"))
    return ExitCode.OK
