"""The command line, and the only place errors become messages and exit codes.

Exit codes follow pytest: 0 passed, 1 failed, 2 interrupted, 3 internal error,
4 usage or configuration error, 5 no manifests found.
"""

from __future__ import annotations

# Only what `modelgate --version` needs is imported here; everything else where it is used.
import sys

from modelgate import __version__

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs ~5 ms here
if TYPE_CHECKING:
    from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args in (["--version"], ["version"]):
        print(f"modelgate {__version__}")
        return 0
    return _funnel(args)


def _funnel(args: list[str]) -> int:
    """Run a command; the one place exceptions become messages and exit codes."""
    from modelgate.errors import ExitCode, ModelgateError

    # Messages quote what the change controls (file names, config values, refs): every line
    # is escaped for the terminal, so none can carry ANSI, bidi or a workflow command.
    try:
        from modelgate.commands import run

        return run(args)
    except ModelgateError as exc:
        from modelgate.escaping import error_lines

        for line in error_lines(exc):
            print(f"modelgate: error: {line}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("modelgate: interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED
    except SystemExit as exc:  # argparse --help
        return exc.code if isinstance(exc.code, int) else ExitCode.OK
    except (MemoryError, RecursionError) as exc:
        print(f"modelgate: error: input too large or too deeply nested ({type(exc).__name__})",
              file=sys.stderr)
        return ExitCode.USAGE_ERROR
    except Exception as exc:
        import platform  # here, not above: ~8 ms that only a crash needs
        import traceback

        from modelgate.escaping import terminal

        if "--traceback" in args:
            traceback.print_exc()
        print(f"modelgate: internal error: {type(exc).__name__}: {terminal(str(exc))}", file=sys.stderr)
        print(f"modelgate: please report this at https://github.com/modelgate/modelgate/issues with"
              f" modelgate {__version__}, Python {platform.python_version()}, {platform.platform()}"
              " (run with --traceback for details)", file=sys.stderr)
        return ExitCode.INTERNAL_ERROR
