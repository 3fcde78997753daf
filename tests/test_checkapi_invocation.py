"""Calling a check: every way a check can end becomes findings, a crash never a pass."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from modelgate import Fail, Skip, check
from modelgate.checkapi.invocation import Finding, invoke
from modelgate.errors import UsageError


@check("TST001", name="returns-a-note")
def returns_a_note() -> str:
    return "looked fine"


@check("TST002", name="yields-two")
def yields_two() -> Iterator[Fail]:
    yield Fail("first", at="artifacts[0].sha256")
    yield Fail("second")


@check("TST003", name="raises-skip")
def raises_skip() -> None:
    raise Skip("verified in CI")


@check("TST004", name="asserts")
def asserts() -> None:
    size = 3
    assert size == 4


@check("TST005", name="crashes")
def crashes() -> None:
    raise ZeroDivisionError("boom")


@check("TST006", name="passes")
def passes() -> None:
    return None


@check("TST008", name="fails-then-skips")
def fails_then_skips() -> Iterator[Fail]:
    yield Fail("this file cannot be read")
    raise Skip("nothing else to compare")


@check("TST007", name="config-problem")
def config_problem() -> None:
    raise UsageError("schema file is broken")


def test_a_returned_string_says_how_it_passed() -> None:
    assert invoke(returns_a_note, {}) == [Finding("passed", "looked fine")]


def test_nothing_returned_is_a_plain_pass() -> None:
    assert invoke(passes, {}) == [Finding("passed", "ok")]


def test_every_yielded_fail_is_a_finding() -> None:
    assert invoke(yields_two, {}) == [Finding("failed", "first", "artifacts[0].sha256"), Finding("failed", "second")]


def test_skip() -> None:
    assert invoke(raises_skip, {}) == [Finding("skipped", "verified in CI")]


def test_a_skip_after_a_failure_does_not_take_the_failure_back() -> None:
    assert invoke(fails_then_skips, {}) == [Finding("failed", "this file cannot be read")]


def test_a_failed_assert_shows_the_values() -> None:
    (finding,) = invoke(asserts, {})
    assert finding.outcome == "failed"
    assert "3 == 4" in finding.message


def test_a_crash_is_an_error_never_a_pass(capsys: pytest.CaptureFixture[str]) -> None:
    (finding,) = invoke(crashes, {})
    assert finding.outcome == "error"
    assert finding.message == "check crashed in its plugin: ZeroDivisionError: boom"
    assert capsys.readouterr().err == ""
    invoke(crashes, {}, traceback=True)
    assert "ZeroDivisionError: boom" in capsys.readouterr().err


def test_a_configuration_problem_goes_to_the_error_funnel() -> None:
    with pytest.raises(UsageError):
        invoke(config_problem, {})
