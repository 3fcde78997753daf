"""``modelgate version``: the installed version (``modelgate --version`` never gets here)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from modelgate import __version__
from modelgate.errors import ExitCode

if TYPE_CHECKING:
    import pluggy


def add_parser(sub: Any, pm: pluggy.PluginManager) -> None:
    sub.add_parser("version", help="print the version")


def run(pm: pluggy.PluginManager, options: argparse.Namespace) -> int:
    print(f"modelgate {__version__}")
    return ExitCode.OK
