"""Sample checks for tests/test_checkapi_assertion.py, in a module pytest does not rewrite
(asserts here behave as in any plugin)."""

from __future__ import annotations

from typing import Any

calls: list[int] = []


def threshold_check(manifest: Any) -> None:
    threshold = 0.95
    assert manifest.metrics["auc"].value >= threshold


def expensive() -> int:
    calls.append(1)
    return 0


def multi_line_check(manifest: Any) -> None:
    assert "cost_center" in manifest.tags and expensive() > 1


def message_check(manifest: Any) -> None:
    assert manifest.stage == "staging", "only staging models here"
