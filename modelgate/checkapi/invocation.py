"""Calling one check function and turning whatever it did into findings.

A check may return a string (how it passed), yield or raise ``Fail``, raise ``Skip``, or
``assert``; a check that crashes is an error finding, never a pass.
"""

from __future__ import annotations

import sys
from typing import Any

from modelgate.checkapi.decorator import Check, Fail, Severity, Skip
from modelgate.datamodel.records import record
from modelgate.datamodel.results import Outcome
from modelgate.errors import ModelgateError


@record
class Finding:
    """What one call of a check found, before it becomes a located Result."""

    outcome: Outcome
    message: str
    at: str | tuple[str | int, ...] | None = None
    hint: str | None = None
    position: tuple[int, int] | None = None
    reason: str | None = None  # why a skip: a Skip's machine-readable reason
    severity: Severity | None = None  # "warning": this finding is a warning whatever the rule says

    @staticmethod
    def of(item: Fail | str) -> Finding:
        if isinstance(item, Fail):
            return Finding("failed", item.message, item.at, item.hint, item.position, severity=item.severity)
        return Finding("failed", str(item))


PASSED = Finding("passed", "ok")  # shared: frozen, and most calls of most checks end here


def invoke(check: Check, kwargs: dict[str, Any], traceback: bool = False) -> list[Finding]:
    """Call ``check`` with ``kwargs``; ``traceback`` prints a crashing check's traceback."""
    findings: list[Finding] = []
    note = None
    try:
        returned = check.func(**kwargs)
        if isinstance(returned, str):
            note = returned
        elif returned is not None and hasattr(returned, "__next__"):
            while True:
                try:
                    findings.append(Finding.of(next(returned)))
                except StopIteration as stop:
                    note = stop.value if isinstance(stop.value, str) else None
                    break
    except Fail as exc:
        findings.append(Finding.of(exc))
    except Skip as exc:
        # A skip after a yielded failure does not take the failure back (fail closed).
        return findings or [Finding("skipped", str(exc) or "skipped", reason=exc.reason)]
    except AssertionError as exc:
        from modelgate.checkapi import assertion  # reads source and parses it: only for a failed assert

        message, at = assertion.explain(exc, check.func)
        findings.append(Finding("failed", message, at))
    except ModelgateError:
        raise  # a configuration problem found while checking (a broken schema file): exit 4
    except Exception as exc:  # a crashing plugin is an error result, never a pass
        if traceback:
            import traceback as tb

            tb.print_exc(file=sys.stderr)
        where = f"plugin {check.plugin!r}" if check.plugin else "its plugin"
        return [
            Finding(
                "error",
                f"check crashed in {where}: {type(exc).__name__}: {exc}",
                hint="report this to the plugin's authors; run with --traceback for details",
            )
        ]
    return findings or [Finding("passed", note) if note else PASSED]
