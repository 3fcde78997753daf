"""Reporters turn a :class:`~modelgate.datamodel.results.Summary` into text on a stream."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import field
from typing import Any, TextIO

from modelgate.datamodel.records import record
from modelgate.datamodel.results import Summary
from modelgate.errors import ReportError


@record
class Reporter:
    """``write(summary, stream)``. ``path`` None: the console (standard output, or standard
    error while a report goes to standard output); ``"-"``: standard output, alone."""

    name: str
    write: Callable[[Summary, TextIO], None]
    path: str | None = None


@record
class ReportRequest:
    """What ``modelgate_reporters`` is asked with: the command line's values by option name
    (``--json FILE`` is ``option("json_report")``; options plugins added are there too) and
    the environment of the run."""

    options: Mapping[str, Any] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)

    def option(self, name: str, default: Any = None) -> Any:
        """The value of the option whose ``dest`` is ``name``, or ``default``."""
        value = self.options.get(name)
        return default if value is None else value


def write_atomically(path: str, render: Callable[[TextIO], None]) -> None:
    """Write a report next to its destination, then rename it into place.

    A reader never sees half a report, and a failure leaves no file behind.
    """
    from modelgate import atomicfile

    try:
        atomicfile.replace(path, render)
    except OSError as exc:
        raise ReportError(f"cannot write report {path}: {exc.strerror}") from None
