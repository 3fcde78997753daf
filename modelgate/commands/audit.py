"""``modelgate audit verify FILE``: whether an audit record is as modelgate wrote it."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from modelgate.commands import Parser
from modelgate.errors import ExitCode

if TYPE_CHECKING:
    import pluggy


def add_parser(sub: Any, pm: pluggy.PluginManager) -> None:
    audit = sub.add_parser("audit", help="work with audit records")
    actions = audit.add_subparsers(dest="audit_command", metavar="ACTION", parser_class=Parser, required=True)
    verify = actions.add_parser("verify", help="recompute record_sha256 of an audit record; exit 1 if modified")
    verify.add_argument("file", metavar="FILE")


def run(pm: pluggy.PluginManager, options: argparse.Namespace) -> int:
    from modelgate.escaping import terminal as esc
    from modelgate.reporters.audit import verify

    intact, message = verify(options.file)
    print(esc(message))
    return ExitCode.OK if intact else ExitCode.FAILED
