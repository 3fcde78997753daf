"""``modelgate plugins``: each registered plugin with its version, checks and hooks."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from modelgate.commands import load_configured
from modelgate.errors import ExitCode

if TYPE_CHECKING:
    import pluggy


def add_parser(sub: Any, pm: pluggy.PluginManager) -> None:
    sub.add_parser("plugins", help="list plugins with their versions, checks and hooks")


def run(pm: pluggy.PluginManager, options: argparse.Namespace) -> int:
    from modelgate.plugins import collect_checks, plugin_version

    load_configured(pm, options)
    checks = collect_checks(pm)
    for name, plugin in pm.list_name_plugin():
        if plugin is None:
            continue
        hooks = sorted(caller.name for caller in pm.get_hookcallers(plugin) or ())
        provided = sorted(c.id for c in checks.values() if c.plugin == name)
        print(f"{name} {plugin_version(plugin)}")
        print(f"  checks: {', '.join(provided) or '-'}")
        print(f"  hooks:  {', '.join(hooks) or '-'}")
    return ExitCode.OK
