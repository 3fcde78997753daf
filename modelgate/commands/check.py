"""``modelgate check``: the gate. Manifests in, a verdict and reports out."""

from __future__ import annotations

import argparse
import functools
import os
import re
import sys
from typing import TYPE_CHECKING, Any

from modelgate.commands import disabled, split_ids
from modelgate.errors import UsageError

if TYPE_CHECKING:
    import pluggy

    from modelgate.pipeline.workspace import EarlySetup, Options


def early(args: list[str]) -> EarlySetup | None:
    """Begin preparing the workspace for ``modelgate check args`` before the plugins load,
    from the options modelgate itself defines (a plugin's are not known yet); None where
    they do not parse as they stand. :func:`run` takes the setup only if the whole command
    line gives the same options."""
    from modelgate.commands import build_parser

    if {"-h", "--help", "--version"} & set(args):
        return None  # argparse would print and exit: the whole command line does that, once
    try:
        options, _ = build_parser(None, only="check").parse_known_args(args)
    except (UsageError, SystemExit):
        return None
    if options.command != "check":
        return None
    from modelgate.pipeline.ci import NONE, named_base

    ahead = None
    named = named_base(options.base, os.environ)
    if named is not None and named != NONE and not options.paths and not options.changed:
        # A base named on the command line (the GitHub Action names it) is the base a run
        # compares with: its history's log is begun before the workspace is imported, at
        # about 34 ms rather than 110-128. The setup adopts it if it chooses that commit,
        # else stops it.
        # Only for a run that reads the history (the whole registry, or a shard of it):
        # --changed may select nothing, and a log begun this early then cost such a run
        # a quarter of its time, in git's work on the other core (2 cores).
        from modelgate.git.repo import GitRepo

        ahead = GitRepo(os.getcwd())
        ahead.begin_history(named)
    from modelgate.pipeline.workspace import EarlySetup

    return EarlySetup(session_options(options), ahead)


def add_parser(sub: Any, pm: pluggy.PluginManager | None) -> None:
    check = sub.add_parser("check", help="check manifests against the policy")
    check.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="manifests, folders, or changed files (an artifact selects its manifests)",
    )
    check.add_argument(
        "--select",
        action="append",
        default=[],
        metavar="IDS",
        help="only these checks (ids, names or id prefixes such as MG3; comma-separated)",
    )
    check.add_argument(
        "--ignore", action="append", default=[], metavar="IDS", help="skip these checks (same syntax as --select)"
    )
    check.add_argument(
        "--policy",
        action="append",
        default=None,
        metavar="REF",
        help="policy file, folder or builtin:NAME (repeatable; overrides config)",
    )
    check.add_argument(
        "--base",
        metavar="REF",
        help="compare with REF (through its merge-base with HEAD); --base none: no base, check"
        " as it stands. Default: MODELGATE_BASE, else config `base`, else none; in CI"
        " (CI, GITHUB_ACTIONS, --ci) MODELGATE_BASE, else the base the event payload"
        " names (GITHUB_EVENT_PATH), never config: without an event the base must be"
        " named",
    )
    check.add_argument(
        "--changed",
        action="store_true",
        help="only manifests the change affects (their file, artifacts, lockfile, data, policy,"
        " config...) vs the base (or vs HEAD); named files count as changed",
    )
    check.add_argument("--strict", action="store_true", help="warnings fail too")
    check.add_argument(
        "--cache",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="use the per-clone hash cache (default: yes; never in CI)",
    )
    check.add_argument(
        "--deep", action="store_true", help="for Git LFS pointers, hash the content (from the local LFS store) too"
    )
    check.add_argument(
        "--ci",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="judge as CI does: unverifiable approvals fail, no hash cache, the base from the event"
        " or named (default: when CI or GITHUB_ACTIONS is set)",
    )
    check.add_argument(
        "--shard",
        metavar="K/N",
        type=_shard,
        help="check only the K-th of N deterministic parts of the manifests (CI matrices)",
    )
    check.add_argument("--traceback", action="store_true", help="show tracebacks of crashes")
    check.add_argument(
        "-p", dest="plugins_disabled", action="append", default=[], metavar="no:NAME", help="disable a plugin by name"
    )
    if pm is not None:
        pm.hook.modelgate_addoption(parser=check)


def _shard(value: str) -> tuple[int, int]:
    match = re.fullmatch(r"([1-9][0-9]*)/([1-9][0-9]*)", value)
    if match is None or int(match.group(1)) > int(match.group(2)):
        raise argparse.ArgumentTypeError(f"{value!r}: use K/N with 1 <= K <= N, e.g. 2/4")
    return int(match.group(1)), int(match.group(2))


def session_options(options: argparse.Namespace) -> Options:
    """What the session is asked to do, from the parsed command line."""
    from modelgate.pipeline.workspace import Options

    return Options(
        paths=tuple(options.paths),
        select=split_ids(options.select),
        ignore=split_ids(options.ignore),
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


def run(pm: pluggy.PluginManager, options: argparse.Namespace, begun: EarlySetup | None = None) -> int:
    from modelgate.pipeline.session import open_session
    from modelgate.reporters import Reporter, ReportRequest, write_atomically

    asked = session_options(options)
    setup = begun.take(asked) if begun is not None else None
    with open_session(asked, pm, disabled(options), setup=setup) as session:
        summary = session.run()
    request = ReportRequest(vars(options), asked.env)
    reporters: list[Reporter] = [r for found in pm.hook.modelgate_reporters(request=request) for r in found or ()]
    to_stdout = [r for r in reporters if r.path == "-"]
    if len(to_stdout) > 1:
        names = " and ".join(r.name for r in to_stdout)
        raise UsageError(f"only one report can go to standard output (`-`); the {names} reports both ask for it")
    # `-` is standard output (DESIGN: every report flag takes it): it carries that report
    # alone, so it parses; what would have gone there (the terminal report, annotations)
    # goes to standard error.
    console = sys.stderr if to_stdout else sys.stdout
    for reporter in reporters:
        if reporter.path is None:
            reporter.write(summary, console)
    console.flush()
    for reporter in to_stdout:
        reporter.write(summary, sys.stdout)
    sys.stdout.flush()
    for reporter in reporters:
        if reporter.path not in (None, "-"):
            write_atomically(reporter.path, functools.partial(reporter.write, summary))
    return summary.exit_code
