"""The suite keeps the promises its names make: a test that says it runs the installed
command, end to end or in GitHub Actions never calls ``main()`` in-process instead."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PROMISE = re.compile(r"installed command|end[ _-]to[ _-]end|in[ _]github[ _]actions|^test_installed_", re.I)
IN_PROCESS = {"main", "check_in_process"}
TESTS = Path(__file__).resolve().parent


def promising_tests() -> list[tuple[str, ast.FunctionDef]]:
    found = []
    for path in sorted(TESTS.glob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        module_doc = ast.get_docstring(tree) or ""
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                said = (node.name, ast.get_docstring(node) or "", module_doc)
                if any(PROMISE.search(text) for text in said):
                    found.append((f"{path.name}::{node.name}", node))
    return found


def test_tests_that_promise_the_installed_command_do_not_run_it_in_process() -> None:
    tests = promising_tests()
    assert len(tests) > 40  # test_cli, test_checks_changes, test_hostile... are all found
    offenders = []
    for name, node in tests:
        called = {
            call.func.id for call in ast.walk(node) if isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
        }
        if called & IN_PROCESS:
            offenders.append(f"{name} calls {', '.join(sorted(called & IN_PROCESS))}")
    assert offenders == []
