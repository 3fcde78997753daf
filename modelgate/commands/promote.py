"""``modelgate promote``: set a manifest's stage and check it as CI will."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, Any

from modelgate.commands import disabled

if TYPE_CHECKING:
    import pluggy


def add_parser(sub: Any, pm: pluggy.PluginManager) -> None:
    promote = sub.add_parser(
        "promote",
        help="set a manifest's stage and check it as CI will; into an exclusive"
        " stage, the version there now moves to archived in the same change",
    )
    promote.add_argument(
        "manifest",
        metavar="MANIFEST|NAME@VERSION",
        help="the manifest file, or the model version (fraud-detector@1.4.0)",
    )
    promote.add_argument("--to", required=True, metavar="STAGE", help="the target stage, e.g. production")
    promote.add_argument("--dry-run", action="store_true", help="check the promotion without editing the file")
    promote.add_argument(
        "--base", metavar="REF", help="compare with REF (default: the pull request's or configured base, else main)"
    )


def run(pm: pluggy.PluginManager, options: argparse.Namespace) -> int:
    from modelgate.authoring.promote import promote, render

    result = promote(
        pm,
        options.manifest,
        options.to,
        dry_run=options.dry_run,
        base=options.base,
        env=dict(os.environ),
        disabled=disabled(options),
    )
    sys.stdout.write(render(result, options.dry_run))
    return result.exit_code
