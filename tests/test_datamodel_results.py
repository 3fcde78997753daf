"""Summary: verdict and exit code are derived from results, monotonically."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from modelgate.datamodel.results import OUTCOMES, Location, ManifestInfo, Result, Summary

INFO = (ManifestInfo("m", "m", "1.0.0", "none", None, "0" * 64),)


def result(outcome: str, severity: str = "error") -> Result:
    return Result("MG001", "manifest-valid", outcome, severity, "m", "m@1", "x", Location("m", 1, 1))  # type: ignore[arg-type]


RESULTS = st.lists(st.builds(result, st.sampled_from(OUTCOMES), st.sampled_from(["error", "warning"])), max_size=20)


@given(RESULTS, st.booleans())
def test_adding_a_failing_finding_never_turns_fail_into_pass(results: list[Result], strict: bool) -> None:
    before = Summary("0", tuple(results), INFO, (), strict=strict)
    after = Summary("0", (*results, result("failed")), INFO, (), strict=strict)
    assert after.exit_code == 1 and after.verdict == "fail"
    if before.verdict == "fail":
        assert after.verdict == "fail"


@given(RESULTS)
def test_strict_is_never_more_lenient(results: list[Result]) -> None:
    lenient = Summary("0", tuple(results), INFO, ())
    strict = Summary("0", tuple(results), INFO, (), strict=True)
    assert strict.exit_code >= lenient.exit_code


def test_no_manifests_is_five_unless_selection_may_be_empty() -> None:
    assert Summary("0", (), (), ()).exit_code == 5
    assert Summary("0", (), (), (), selection_may_be_empty=True).exit_code == 0


def test_counts_cover_every_outcome() -> None:
    summary = Summary("0", tuple(result(o) for o in OUTCOMES), INFO, ())
    assert summary.counts == dict.fromkeys(OUTCOMES, 1)


def test_tell_apart_names_each_result_of_a_check_differently() -> None:
    from modelgate.datamodel.results import tell_apart

    def r(check: str, rule: str = "", line: int = 1, manifest: str = "m.yaml") -> Result:
        return Result(check, "x", "failed", "error", manifest, "m@1", "no", Location(manifest, line, 1), rule=rule)

    results = [
        r("MG001"),
        r("MG301", "auc"),
        r("MG301", "f1"),
        r("MG102", line=3),
        r("MG102", line=4),
        r("MG201", "prod", 2),
        r("MG201", "prod", 2),
        r("MG201", "", 2),
        r("MG102", manifest="n.yaml"),
    ]
    assert tell_apart(results) == [
        "",
        "auc",
        "f1",
        "line 3",
        "line 4",
        "prod · line 2 · #1",
        "prod · line 2 · #2",
        "",
        "",
    ]
