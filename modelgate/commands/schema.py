"""``modelgate schema [manifest|policy]``: the JSON Schema of a manifest or a policy."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from modelgate.errors import ExitCode

if TYPE_CHECKING:
    import pluggy


def add_parser(sub: Any, pm: pluggy.PluginManager) -> None:
    schema = sub.add_parser("schema", help="print the JSON Schema of a manifest or a policy")
    schema.add_argument("kind", nargs="?", choices=["manifest", "policy"], default="manifest")


def run(pm: pluggy.PluginManager, options: argparse.Namespace) -> int:
    from importlib import resources

    schemas = resources.files("modelgate.datamodel.schemas")
    sys.stdout.write(schemas.joinpath(f"{options.kind}.json").read_text("utf-8"))
    return ExitCode.OK
