"""Reporters turn a :class:`~modelgate.datamodel.results.Summary` into text on a stream."""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from modelgate.datamodel.records import record
from modelgate.datamodel.results import Summary
from modelgate.errors import ReportError


@record
class Reporter:
    """``write(summary, stream)``; ``path`` None means standard output."""

    name: str
    write: Callable[[Summary, TextIO], None]
    path: str | None = None


def write_atomically(path: str, render: Callable[[TextIO], None]) -> None:
    """Write a report next to its destination, then rename it into place.

    A reader never sees half a report, and a failure leaves no file behind.
    """
    from modelgate import atomicfile

    try:
        atomicfile.replace(path, render)
    except OSError as exc:
        raise ReportError(f"cannot write report {path}: {exc.strerror}") from None
