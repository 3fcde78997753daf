"""``modelgate explain ID``: what a check checks, where it runs, and how to fix a failure."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from modelgate.commands import load_configured
from modelgate.errors import ExitCode, UsageError

if TYPE_CHECKING:
    import pluggy


def add_parser(sub: Any, pm: pluggy.PluginManager) -> None:
    explain = sub.add_parser("explain", help="explain a check")
    explain.add_argument("check_id", metavar="ID", help="a check id (MG301) or name (metric-threshold)")


def run(pm: pluggy.PluginManager, options: argparse.Namespace) -> int:
    from modelgate.plugins import collect_checks

    load_configured(pm, options)
    checks = collect_checks(pm)
    wanted = options.check_id
    found = checks.get(wanted.upper()) or next((c for c in checks.values() if c.name == wanted), None)
    if found is None:
        raise UsageError(f"no check {wanted!r}; see `modelgate list-checks`")
    stages = ", ".join(found.stages) if found.stages else "every stage"
    print(f"{found.id} {found.name} ({found.severity}; plugin {found.plugin})")
    print(
        f"runs: {'where a policy rule names it' if found.needs_rule else stages}"
        f"{'; always, cannot be deselected' if found.required else ''}"
        f"{'; cannot be waived' if not found.waivable else ''}"
    )
    print()
    print(found.explain)
    if found.hint:
        print(f"\nhint: {found.hint}")
    return ExitCode.OK
