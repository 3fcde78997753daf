"""The subcommands of ``modelgate``: one module per command, as pre-commit has them.

Each module here has ``add_parser(sub, pm)``, its part of the command line, and
``run(pm, args) -> int``, the command. Commands return an exit code for normal outcomes
and raise ``ModelgateError`` for everything else; ``cli.py`` turns those into messages and
exit codes.
"""

from __future__ import annotations

import argparse
import importlib
from typing import TYPE_CHECKING, Any, NoReturn

from modelgate import __version__
from modelgate.errors import ExitCode, UsageError

if TYPE_CHECKING:
    import pluggy

# subcommand -> its module, in the order `modelgate --help` lists them.
COMMANDS = {
    "check": "check",
    "list-checks": "list_checks",
    "explain": "explain",
    "schema": "schema",
    "plugins": "plugins",
    "history": "history",
    "init": "init",
    "hash": "hash",
    "promote": "promote",
    "diff": "diff",
    "compare": "compare",
    "resolve": "resolve",
    "list": "list",
    "export": "export",
    "audit": "audit",
    "completion": "completion",
    "version": "version",
}


class Parser(argparse.ArgumentParser):
    """Usage errors go through the error funnel (exit 4), not argparse's exit 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def disabled_plugins(args: list[str]) -> list[str]:
    """``-p no:NAME`` must be known before the plugins that add options are loaded."""
    names = []
    for index, arg in enumerate(args):
        value = None
        if arg == "-p" and index + 1 < len(args):
            value = args[index + 1]
        elif arg.startswith("-p") and len(arg) > 2:
            value = arg[2:].lstrip("=")
        if value is not None:
            if not value.startswith("no:"):
                raise UsageError(f"-p {value}: only -p no:NAME (disable a plugin) is supported")
            names.append(value[3:])
    return names


def run(args: list[str]) -> int:
    """Parse ``args`` and run the command; errors propagate to the funnel in cli.py."""
    named = command_named(args)
    # A command may begin its slow part (git's answers) now, while the plugins load.
    begin = getattr(_module(named), "early", None) if named is not None else None
    begun = begin(args) if begin is not None else None
    try:
        from modelgate.plugins import make_plugin_manager

        pm = make_plugin_manager(disabled_plugins(args))
        parser = build_parser(pm, only=named)
        options = parser.parse_args(args)
        if options.command is None:
            parser.print_help()
            return ExitCode.USAGE_ERROR
        if begun is not None and options.command == named:
            return int(_module(options.command).run(pm, options, begun))
        return int(_module(options.command).run(pm, options))
    finally:
        if begun is not None:
            begun.close()


def command_named(args: list[str]) -> str | None:
    """The subcommand ``args`` name, if it is one: the first argument that is neither an
    option nor the value of ``-p`` (None: the whole command line is built, so that help
    and errors list every command)."""
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "-p":
            index += 2
            continue
        if arg == "--" or not arg.startswith("-"):
            return arg if arg in COMMANDS else None
        index += 1
    return None


def build_parser(pm: pluggy.PluginManager | None, only: str | None = None) -> argparse.ArgumentParser:
    """The command line; with ``only``, of that one subcommand (the others' modules are
    not imported: 20 ms of every run). Without, every subcommand's, for ``--help``, an
    unknown command's error and completion scripts. Without ``pm``, modelgate's own
    options alone (what ``check`` reads before the plugins load)."""
    parser = Parser(prog="modelgate", description="Model governance as code: the gate for model promotions.")
    parser.add_argument("--version", action="version", version=f"modelgate {__version__}")
    parser.add_argument(
        "-p", dest="plugins_disabled", action="append", default=[], metavar="no:NAME", help="disable a plugin by name"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for name in COMMANDS if only is None else [only]:
        _module(name).add_parser(sub, pm)
    return parser


def _module(command: str) -> Any:
    return importlib.import_module(f"modelgate.commands.{COMMANDS[command]}")


def split_ids(values: list[str]) -> tuple[str, ...]:
    """``--select a,b --select c`` -> ``("a", "b", "c")``."""
    return tuple(item.strip() for value in values for item in value.split(",") if item.strip())


def disabled(options: argparse.Namespace) -> set[str]:
    """The plugin names ``-p no:NAME`` disabled, from the parsed options."""
    return {name.removeprefix("no:") for name in getattr(options, "plugins_disabled", [])}


def load_configured(pm: pluggy.PluginManager, options: argparse.Namespace) -> None:
    """The plugins config ``plugins:`` names, read as ``check`` reads them (the base commit
    when a base is configured), so the listing commands show local checks too."""
    import os

    from modelgate.pipeline.workspace import Options, find_root, prepare
    from modelgate.plugins import load_configured as load

    setup = prepare(Options(env=dict(os.environ)), find_root([]))
    try:
        load(pm, setup.config.plugins, setup.tree, disabled(options))
    finally:
        setup.close()
