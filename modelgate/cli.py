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
    from typing import Any, TextIO


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    # A closed pipe (`modelgate list-checks | head -1`) ends the output, not the command: the
    # rest goes to /dev/null, reports to files are still written and the exit code is the
    # command's own (a failed gate stays 1 under `set -o pipefail`). Both streams are
    # wrapped, and put back after, so an in-process caller keeps its own.
    stdout, stderr = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _quiet(stdout), _quiet(stderr)
    try:
        if args in (["--version"], ["version"]):
            print(f"modelgate {__version__}")
            return 0
        return _funnel(args)
    finally:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()  # here, through the wrapper: the interpreter's last flush would not be quiet
        sys.stdout, sys.stderr = stdout, stderr


def console() -> int:
    """``modelgate`` as a program (the console script, ``python -m modelgate``): :func:`main`,
    after which the process ends. What the run made is frozen first, so that the
    interpreter's collections on the way out do not walk it all: 30-40 ms of a 100-model
    ``check`` (benchmarks/monorepo.py), for objects the exit frees anyway. :func:`main`
    itself leaves the collector as it found it, for callers that go on."""
    code = main()
    import gc

    gc.freeze()
    return code


class _ClosedPipeToNull:
    """A text stream whose writes, once its reader has gone (EPIPE), go to /dev/null.

    As Python's documentation advises for SIGPIPE: the file descriptor is pointed at
    /dev/null, so nothing later (a flush at exit included) fails or prints a traceback.
    Only this stream is covered: a BrokenPipeError from a pipe to a child process (git)
    is still an error.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._to_null()
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._to_null()
            self._stream.flush()  # the buffer's rest, now into /dev/null

    def _to_null(self) -> None:
        import os

        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, self._stream.fileno())
        finally:
            os.close(null)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _quiet(stream: TextIO) -> Any:  # a TextIO in all but name
    try:
        stream.fileno()
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is an OSError and a ValueError
        return stream  # not a file descriptor (a test's capture): no pipe to close
    return _ClosedPipeToNull(stream)


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
        print(f"modelgate: error: input too large or too deeply nested ({type(exc).__name__})", file=sys.stderr)
        return ExitCode.USAGE_ERROR
    except Exception as exc:
        import platform  # here, not above: ~8 ms that only a crash needs
        import traceback

        from modelgate.escaping import terminal

        if "--traceback" in args:
            traceback.print_exc()
        print(f"modelgate: internal error: {type(exc).__name__}: {terminal(str(exc))}", file=sys.stderr)
        print(
            f"modelgate: please report this at https://github.com/modelgate/modelgate/issues with"
            f" modelgate {__version__}, Python {platform.python_version()}, {platform.platform()}"
            " (run with --traceback for details)",
            file=sys.stderr,
        )
        return ExitCode.INTERNAL_ERROR
