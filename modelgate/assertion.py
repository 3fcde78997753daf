"""Explaining a failed ``assert`` in a check, pytest-style."""

from __future__ import annotations

import linecache
from collections.abc import Callable
from typing import Any


def explain(exc: AssertionError, func: Callable[..., Any]) -> str:
    """The assertion's own message, else its source line and the local values it names."""
    if exc.args and str(exc):
        return str(exc)
    tb = exc.__traceback__
    frame_tb = None
    while tb is not None:
        if tb.tb_frame.f_code is getattr(func, "__code__", None):
            frame_tb = tb
        tb = tb.tb_next
    if frame_tb is None:
        return "assertion failed"
    code = frame_tb.tb_frame.f_code
    source = linecache.getline(code.co_filename, frame_tb.tb_lineno).strip()
    expression = source.removeprefix("assert").strip()
    names = [n for n in frame_tb.tb_frame.f_locals if n in expression]
    values = ", ".join(f"{n} = {frame_tb.tb_frame.f_locals[n]!r}" for n in names)
    return source + (f"  (where {values})" if values else "")
