"""``modelgate list-checks``: every check the installed plugins provide, one per line."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from modelgate.commands import load_configured
from modelgate.errors import ExitCode

if TYPE_CHECKING:
    import pluggy


def add_parser(sub: Any, pm: pluggy.PluginManager) -> None:
    sub.add_parser("list-checks", help="list every check the installed plugins provide")


def run(pm: pluggy.PluginManager, options: argparse.Namespace) -> int:
    from modelgate.plugins import collect_checks

    load_configured(pm, options)
    for check in sorted(collect_checks(pm).values(), key=lambda c: c.id):
        stages = ",".join(check.stages) if check.stages else "all"
        scope = "by rule" if check.needs_rule else stages
        print(f"{check.id:<8} {check.name:<22} {check.severity:<8} {scope:<18} {check.summary}")
    return ExitCode.OK
