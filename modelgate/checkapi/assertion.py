"""Explaining a failed ``assert`` in a check, pytest-style.

The assertion's own message when it has one; otherwise the failing ``assert`` statement
(found with ``ast`` in the check's source, so multi-line asserts work) and the values of
the names, attribute chains and constant subscripts it reads (``manifest.tags``,
``manifest.metrics['auc'].value``). Function calls are never evaluated: explaining a
failure must not run the plugin's code a second time. The first ``manifest.…`` chain the
assertion reads says where in the YAML the failure is.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any

MAX_VALUE = 200


def explain(exc: AssertionError, func: Callable[..., Any]) -> tuple[str, tuple[str | int, ...] | None]:
    """(message, key path in the manifest or None) for a failed assert in ``func``."""
    frame_tb = _frame_of(exc.__traceback__, func)
    found = _assert_at(func, frame_tb.tb_lineno) if frame_tb is not None else None
    statement, text = found if found is not None else (None, "")
    at = _keypath(statement.test) if statement is not None else None
    if exc.args and str(exc):
        return str(exc), at
    if frame_tb is None or statement is None:
        return "assertion failed", at
    # The statement as written (one line), not as ast.unparse would re-spell it.
    source = " ".join((ast.get_source_segment(text, statement) or ast.unparse(statement)).split())
    source = source.replace("( ", "(").replace(" )", ")")
    values = _values(statement.test, frame_tb.tb_frame, text)
    return source + (f"  (where {', '.join(values)})" if values else ""), at


def _keypath(test: ast.expr) -> tuple[str | int, ...] | None:
    for start in ast.walk(test):
        node: ast.AST = start
        path: list[str | int] = []
        while isinstance(node, ast.Attribute | ast.Subscript):
            if isinstance(node, ast.Attribute):
                path.append("apiVersion" if node.attr == "api_version" else node.attr)
            elif isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str | int):
                path.append(node.slice.value)
            else:
                path = []
            node = node.value
        if isinstance(node, ast.Name) and node.id == "manifest" and path:
            return tuple(reversed(path))
    return None


def _frame_of(tb: TracebackType | None, func: Callable[..., Any]) -> TracebackType | None:
    found = None
    code = getattr(func, "__code__", None)
    while tb is not None:
        if tb.tb_frame.f_code is code:
            found = tb
        tb = tb.tb_next
    return found


def _assert_at(func: Callable[..., Any], lineno: int) -> tuple[ast.Assert, str] | None:
    """The ``assert`` statement at ``lineno`` in ``func``, with the source it was parsed from."""
    try:
        lines, start = inspect.getsourcelines(func)
    except (OSError, TypeError):
        return None
    text = textwrap.dedent("".join(lines))
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Assert):
            first, last = node.lineno + start - 1, (node.end_lineno or node.lineno) + start - 1
            if first <= lineno <= last:
                return node, text
    return None


def _values(test: ast.expr, frame: FrameType, source: str) -> list[str]:
    shown: dict[str, str] = {}
    for node in ast.walk(test):
        if not isinstance(node, ast.expr) or not _readable(node) or isinstance(node, ast.Constant):
            continue
        text = " ".join((ast.get_source_segment(source, node) or ast.unparse(node)).split())
        if text in shown:
            continue
        try:
            value = eval(compile(ast.Expression(node), "<assert>", "eval"), frame.f_globals, frame.f_locals)
        except Exception:
            continue
        if callable(value) or inspect.ismodule(value):
            continue
        rendered = repr(value)
        shown[text] = rendered if len(rendered) <= MAX_VALUE else rendered[: MAX_VALUE - 3] + "..."
    # Longest chains first are the most specific; drop a bare name when a chain on it is shown.
    return [f"{k} = {v}" for k, v in shown.items() if not any(other.startswith((k + ".", k + "[")) for other in shown)]


def _readable(node: ast.AST) -> bool:
    """Names, attribute chains and subscripts by constants: reading them calls nothing."""
    if isinstance(node, ast.Name | ast.Constant):
        return True
    if isinstance(node, ast.Attribute):
        return _readable(node.value)
    if isinstance(node, ast.Subscript):
        return _readable(node.value) and isinstance(node.slice, ast.Constant)
    return False
