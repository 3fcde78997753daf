"""``modelgate export``: model versions as a CycloneDX 1.6 ML-BOM."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, Any

from modelgate.errors import ExitCode

if TYPE_CHECKING:
    import pluggy


def add_parser(sub: Any, pm: pluggy.PluginManager) -> None:
    export = sub.add_parser("export", help="export model versions as a CycloneDX 1.6 ML-BOM")
    export.add_argument(
        "selectors", nargs="*", metavar="NAME[@STAGE|@VERSION|@ALIAS]", help="default: every model version"
    )
    export.add_argument("--format", choices=["cyclonedx"], default="cyclonedx")
    export.add_argument("--stage", metavar="STAGE", help="only versions at this stage")
    export.add_argument("--ref", help="read the manifests at this commit, branch or tag")
    export.add_argument("-o", "--output", metavar="FILE", help="write to FILE (default, or `-`: standard output)")


def run(pm: pluggy.PluginManager, options: argparse.Namespace) -> int:
    from modelgate.escaping import terminal as esc
    from modelgate.export.cyclonedx import render
    from modelgate.pipeline.workspace import find_root
    from modelgate.registry.resolve import Registry

    registry = Registry(find_root([]), options.ref, os.environ)
    if options.selectors:
        entries = [registry.select(s) for s in options.selectors]
        entries = [e for e in entries if options.stage in (None, e.stage)]
    else:
        entries = registry.entries(stage=options.stage)
        for doc in registry.invalid():
            print(f"modelgate: warning: {esc(doc.path)} is not a valid manifest; not exported", file=sys.stderr)
    text = render(entries)
    if options.output and options.output != "-":
        from modelgate.authoring.yamledit import write_text

        write_text(options.output, text)
    else:
        sys.stdout.write(text)
    return ExitCode.OK
