"""The subcommands of ``modelgate``: the parser, and one function per command.

Commands return an exit code for normal outcomes and raise ``ModelgateError`` for
everything else; ``cli.py`` turns those into messages and exit codes.
"""

from __future__ import annotations

import argparse
import functools
import os
import re
import sys
from typing import TYPE_CHECKING, NoReturn

from modelgate import __version__
from modelgate.errors import ExitCode, UsageError

if TYPE_CHECKING:
    import pluggy


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def _disabled_plugins(args: list[str]) -> list[str]:
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
    from modelgate.commands import authoring as authoring_commands
    from modelgate.plugins import make_plugin_manager

    pm = make_plugin_manager(_disabled_plugins(args))
    parser = _build_parser(pm)
    options = parser.parse_args(args)
    if options.command is None:
        parser.print_help()
        return ExitCode.USAGE_ERROR
    handler = {
        "check": _cmd_check,
        "list-checks": _cmd_list_checks,
        "explain": _cmd_explain,
        "schema": _cmd_schema,
        "plugins": _cmd_plugins,
        "history": _cmd_history,
        "audit": _cmd_audit,
        "version": _cmd_version,
        **authoring_commands.HANDLERS,
    }[options.command]
    return int(handler(pm, options))


def _build_parser(pm: pluggy.PluginManager) -> argparse.ArgumentParser:
    parser = _Parser(prog="modelgate", description="Model governance as code: the gate for model promotions.")
    parser.add_argument("--version", action="version", version=f"modelgate {__version__}")
    parser.add_argument("-p", dest="plugins_disabled", action="append", default=[], metavar="no:NAME",
                        help="disable a plugin by name")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    check = sub.add_parser("check", help="check manifests against the policy")
    check.add_argument("paths", nargs="*", metavar="PATH",
                       help="manifests, folders, or changed files (an artifact selects its manifests)")
    check.add_argument("--select", action="append", default=[], metavar="IDS",
                       help="only these checks (ids, names or id prefixes such as MG3; comma-separated)")
    check.add_argument("--ignore", action="append", default=[], metavar="IDS",
                       help="skip these checks (same syntax as --select)")
    check.add_argument("--policy", action="append", default=None, metavar="REF",
                       help="policy file, folder or builtin:NAME (repeatable; overrides config)")
    check.add_argument("--base", metavar="REF",
                       help="compare with REF (through its merge-base with HEAD); --base none: no base, check"
                            " as it stands. Default: MODELGATE_BASE, else config `base`, else none; in CI"
                            " (CI, GITHUB_ACTIONS, --ci) MODELGATE_BASE, else the base the event payload"
                            " names (GITHUB_EVENT_PATH), never config: without an event the base must be"
                            " named")
    check.add_argument("--changed", action="store_true",
                       help="only manifests the change affects (their file, artifacts, lockfile, data, policy,"
                            " config...) vs the base (or vs HEAD); named files count as changed")
    check.add_argument("--strict", action="store_true", help="warnings fail too")
    check.add_argument("--cache", action=argparse.BooleanOptionalAction, default=None,
                       help="use the per-clone hash cache (default: yes; never in CI)")
    check.add_argument("--deep", action="store_true",
                       help="for Git LFS pointers, hash the content (from the local LFS store) too")
    check.add_argument("--ci", action=argparse.BooleanOptionalAction, default=None,
                       help="judge as CI does: unverifiable approvals fail, no hash cache, the base from the event"
                            " or named (default: when CI or GITHUB_ACTIONS is set)")
    check.add_argument("--shard", metavar="K/N", type=_shard,
                       help="check only the K-th of N deterministic parts of the manifests (CI matrices)")
    check.add_argument("--traceback", action="store_true", help="show tracebacks of crashes")
    check.add_argument("-p", dest="plugins_disabled", action="append", default=[], metavar="no:NAME",
                       help="disable a plugin by name")
    pm.hook.modelgate_addoption(parser=check)

    sub.add_parser("list-checks", help="list every check the installed plugins provide")
    explain = sub.add_parser("explain", help="explain a check")
    explain.add_argument("check_id", metavar="ID", help="a check id (MG301) or name (metric-threshold)")
    schema = sub.add_parser("schema", help="print the JSON Schema of a manifest or a policy")
    schema.add_argument("kind", nargs="?", choices=["manifest", "policy"], default="manifest")
    sub.add_parser("plugins", help="list plugins with their versions, checks and hooks")
    history = sub.add_parser("history", help="a model's version and stage timeline from git history")
    history.add_argument("name", metavar="NAME", help="the model name")
    history.add_argument("--ref", default="HEAD", help="whose history (default: HEAD)")
    history.add_argument("--at", metavar="YYYY-MM-DD", help="also say which version was in which stage that day")
    history.add_argument("--json", action="store_true", help="print JSON")
    sub.add_parser("version", help="print the version")
    from modelgate.commands.authoring import add_parsers

    add_parsers(sub)
    audit = sub.add_parser("audit", help="work with audit records")
    audit_sub = audit.add_subparsers(dest="audit_command", metavar="ACTION", parser_class=_Parser, required=True)
    verify = audit_sub.add_parser("verify", help="recompute record_sha256 of an audit record; exit 1 if modified")
    verify.add_argument("file", metavar="FILE")
    return parser


def _shard(value: str) -> tuple[int, int]:
    match = re.fullmatch(r"([1-9][0-9]*)/([1-9][0-9]*)", value)
    if match is None or int(match.group(1)) > int(match.group(2)):
        raise argparse.ArgumentTypeError(f"{value!r}: use K/N with 1 <= K <= N, e.g. 2/4")
    return int(match.group(1)), int(match.group(2))


def _split(values: list[str]) -> tuple[str, ...]:
    return tuple(item.strip() for value in values for item in value.split(",") if item.strip())


def _cmd_check(pm: pluggy.PluginManager, options: argparse.Namespace) -> int:
    from modelgate.pipeline.discovery import find_root
    from modelgate.pipeline.session import Session
    from modelgate.pipeline.workspace import Options, prepare
    from modelgate.plugins import collect_checks, load_configured
    from modelgate.reporters import Reporter, write_atomically

    session_options = Options(
        paths=tuple(options.paths),
        select=_split(options.select),
        ignore=_split(options.ignore),
        strict=options.strict,
        traceback=options.traceback,
        policies=tuple(options.policy) if options.policy else None,
        base=options.base,
        changed=options.changed,
        cache=options.cache,
        deep=options.deep,
        shard=options.shard,
        ci=options.ci,
        env=dict(os.environ),
    )
    setup = prepare(session_options, find_root(options.paths))
    try:
        load_configured(pm, setup.config.plugins, setup.tree, set(_split_disabled(options)))
        summary = Session(session_options, collect_checks(pm), setup, pm.hook).run()
    finally:
        setup.close()
    reporters: list[Reporter] = [r for found in pm.hook.modelgate_reporters(options=options) for r in found or ()]
    for reporter in reporters:
        if reporter.path is None:
            reporter.write(summary, sys.stdout)
    sys.stdout.flush()
    for reporter in reporters:
        if reporter.path is not None:
            write_atomically(reporter.path, functools.partial(reporter.write, summary))
    return summary.exit_code


def _load_configured(pm: pluggy.PluginManager, options: argparse.Namespace) -> None:
    """The plugins config ``plugins:`` names, read as ``check`` reads them (the base commit
    when a base is configured), so the listing commands show local checks too."""
    from modelgate.pipeline.discovery import find_root
    from modelgate.pipeline.workspace import Options, prepare
    from modelgate.plugins import load_configured

    setup = prepare(Options(env=dict(os.environ)), find_root([]))
    try:
        load_configured(pm, setup.config.plugins, setup.tree, set(_split_disabled(options)))
    finally:
        setup.close()


def _split_disabled(options: argparse.Namespace) -> list[str]:
    return [name.removeprefix("no:") for name in options.plugins_disabled]


def _cmd_list_checks(pm: pluggy.PluginManager, options: argparse.Namespace) -> int:
    from modelgate.plugins import collect_checks

    _load_configured(pm, options)
    checks = collect_checks(pm)
    for check in sorted(checks.values(), key=lambda c: c.id):
        stages = ",".join(check.stages) if check.stages else "all"
        scope = "by rule" if check.needs_rule else stages
        print(f"{check.id:<8} {check.name:<22} {check.severity:<8} {scope:<18} {check.summary}")
    return ExitCode.OK


def _cmd_explain(pm: pluggy.PluginManager, options: argparse.Namespace) -> int:
    from modelgate.plugins import collect_checks

    _load_configured(pm, options)
    checks = collect_checks(pm)
    wanted = options.check_id
    found = checks.get(wanted.upper()) or next((c for c in checks.values() if c.name == wanted), None)
    if found is None:
        raise UsageError(f"no check {wanted!r}; see `modelgate list-checks`")
    stages = ", ".join(found.stages) if found.stages else "every stage"
    print(f"{found.id} {found.name} ({found.severity}; plugin {found.plugin})")
    print(f"runs: {'where a policy rule names it' if found.needs_rule else stages}"
          f"{'; always, cannot be deselected' if found.required else ''}"
          f"{'; cannot be waived' if not found.waivable else ''}")
    print()
    print(found.explain)
    if found.hint:
        print(f"\nhint: {found.hint}")
    return ExitCode.OK


def _cmd_schema(pm: pluggy.PluginManager, options: argparse.Namespace) -> int:
    from importlib import resources

    sys.stdout.write(resources.files("modelgate.datamodel.schemas").joinpath(f"{options.kind}.json").read_text("utf-8"))
    return ExitCode.OK


def _cmd_plugins(pm: pluggy.PluginManager, options: argparse.Namespace) -> int:
    from modelgate.plugins import collect_checks, plugin_version

    _load_configured(pm, options)
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


def _cmd_history(pm: pluggy.PluginManager, options: argparse.Namespace) -> int:
    import json

    from modelgate.datamodel import config as configuration
    from modelgate.escaping import terminal as esc
    from modelgate.git.repo import GitRepo
    from modelgate.git.trees import WorkTree
    from modelgate.pipeline.base import read_history
    from modelgate.pipeline.discovery import find_root
    from modelgate.registry.history import state_on, steps

    root = find_root([])
    repo = GitRepo.find(root)
    if repo is None:
        raise UsageError("history needs a git repository")
    if options.at is not None and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", options.at):
        raise UsageError(f"--at {options.at!r}: use YYYY-MM-DD")
    settings = configuration.load(WorkTree(repo.root).read, os.environ, {})
    try:
        found = steps(read_history(repo, repo.verify(options.ref, "ref"), repo.root, settings.manifests),
                      options.name)
    finally:
        repo.close()
    on = state_on(found, options.at) if options.at else None
    if options.json:
        print(json.dumps({"model": options.name, "steps": [s.to_json() for s in found],
                          **({"at": {"date": options.at, "stages": on}} if on is not None else {})}, indent=2))
        return ExitCode.OK
    if not found:
        print(f"no history for model {esc(options.name)!r} in {esc(options.ref)}")
        return ExitCode.OK
    for s in found:
        print(esc(f"{s.date[:19].replace('T', ' ')}  {s.commit[:12]}  {s.version:<12} {s.from_stage:>11} -> "
                  f"{s.to_stage:<11} {s.author}"))
    if on is not None:
        print(esc(f"on {options.at}: " + (", ".join(f"{v} {st}" for v, st in sorted(on.items())) or "no versions")))
    return ExitCode.OK


def _cmd_audit(pm: pluggy.PluginManager, options: argparse.Namespace) -> int:
    from modelgate.escaping import terminal as esc
    from modelgate.reporters.audit import verify

    intact, message = verify(options.file)
    print(esc(message))
    return ExitCode.OK if intact else ExitCode.FAILED


def _cmd_version(pm: pluggy.PluginManager, options: argparse.Namespace) -> int:
    print(f"modelgate {__version__}")
    return ExitCode.OK
