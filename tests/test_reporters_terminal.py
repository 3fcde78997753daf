"""The terminal reporter, from a summary built by hand, compared exactly."""

from __future__ import annotations

import io

from modelgate.datamodel.results import (
    AppliedWaiver,
    Location,
    ManifestInfo,
    MetricRow,
    PolicyInfo,
    Readiness,
    Result,
    Summary,
)
from modelgate.reporters.terminal import TerminalReporter
from tests.conftest import Repo, extending_default, production_fields

M = "models/fraud/modelgate.yaml"


def result(
    check: str,
    name: str,
    outcome: str,
    message: str = "ok",
    severity: str = "error",
    line: int = 1,
    hint: str | None = None,
    waiver: AppliedWaiver | None = None,
) -> Result:
    return Result(
        check,
        name,
        outcome,
        severity,
        M,
        "fraud-detector@1.4.0",
        message,  # type: ignore[arg-type]
        Location(M, line, 3),
        waiver,
        hint,
    )


# What the next stage still needs: one manifest ready, one lacking a field (both report tests use it).
READINESS = (
    Readiness(M, "fraud-detector@1.4.0", "production", "archived", ()),
    Readiness(
        "models/churn/modelgate.yaml",
        "churn@2.0.0",
        "staging",
        "production",
        (
            Result(
                "MG201",
                "required-fields",
                "failed",
                "error",
                "models/churn/modelgate.yaml",
                "churn@2.0.0",
                "lineage.environment.lockfile is required at stage 'production'",
                Location("models/churn/modelgate.yaml", 18, 3),
                hint="add lineage.environment.lockfile",
            ),
        ),
        (("MG603", "approvals"),),
        "make these changes in a pull request of their own, then promote",
    ),
)


SUMMARY = Summary(
    tool_version="0.1.0",
    results=(
        result("MG001", "manifest-valid", "passed"),
        result("MG102", "artifact-hash", "failed", "model.onnx: sha256 mismatch", line=12, hint="update sha256"),
        result("MG203", "lockfile-hash", "skipped", "no lockfile declared"),
        result(
            "MG301",
            "metric-threshold",
            "waived",
            "auc = 0.89 is below the minimum 0.9",
            waiver=AppliedWaiver(
                "MG301", "fraud-detector", None, "RISK-118", "2026-12-31", "ana@acme.io", "policy.yaml:9:5"
            ),
        ),
        result("MG601", "owners", "failed", "owner 'x' is not @user", severity="warning"),
    ),
    manifests=(
        ManifestInfo(
            M,
            "fraud-detector",
            "1.4.0",
            "production",
            "staging",
            "ab" * 32,
            (
                MetricRow(
                    "auc",
                    0.925,
                    0.931,
                    "maximize",
                    "fraud-detector@1.3.0 in production",
                    0.005,
                    "failed",
                    "auc regressed: 0.925 vs 0.931",
                    "MG303",
                ),
                MetricRow("f1", 0.88, None, None, "fraud-detector@1.3.0 in production"),  # not judged: not shown
                MetricRow(
                    "latency_p95_ms", 12.5, 31.0, "minimize", "fraud-detector@1.3.0 in production", 0.0, "passed"
                ),
            ),
        ),
        ManifestInfo("models/churn/modelgate.yaml", "churn", "2.0.0", "staging", None, "ef" * 32, (), "churn@1.0.0"),
    ),
    policies=(PolicyInfo("builtin:default", "cd" * 32, "builtin"),),
    duration=0.123,
    readiness=READINESS,
)

EXPECTED = """\
=============================== modelgate check ================================
modelgate 0.1.0 · 2 manifests · policy builtin:default · base none
models/fraud/modelgate.yaml .Fsxw  [fraud-detector@1.4.0 staging -> production]
models/churn/modelgate.yaml   [churn@2.0.0 staging, edited in place of churn@1.0.0]
=================================== FAILURES ===================================
MG102 artifact-hash (failed) · fraud-detector@1.4.0
  models/fraud/modelgate.yaml:12:3
  model.onnx: sha256 mismatch
  hint: update sha256
MG601 owners (warning) · fraud-detector@1.4.0
  models/fraud/modelgate.yaml:1:3
  owner 'x' is not @user
==================================== WAIVED ====================================
MG301 metric-threshold fraud-detector@1.4.0: auc = 0.89 is below the minimum 0.9
  waived until 2026-12-31 by ana@acme.io: RISK-118
=================================== METRICS ====================================
fraud-detector@1.4.0 against fraud-detector@1.3.0 in production:
  auc             0.931 -> 0.925  -0.006  maximize  tolerance 0.005  FAILED (MG303)
  latency_p95_ms  31 -> 12.5      -18.5   minimize  tolerance 0      passed
================================== READINESS ===================================
churn@2.0.0 at staging: to reach production this version still needs:
  - MG201 required-fields: lineage.environment.lockfile is required at stage 'production' \
(models/churn/modelgate.yaml:18:3)
      hint: add lineage.environment.lockfile
  verified in CI at production: MG603 approvals
  make these changes in a pull request of their own, then promote
========= 1 passed, 1 failed, 1 waived, 1 skipped, 1 warning in 0.12s ==========
"""


def render(summary: Summary, verbosity: int = 0) -> str:
    stream = io.StringIO()
    TerminalReporter(verbosity, "never").write(summary, stream)
    return stream.getvalue()


def test_exact_output() -> None:
    assert render(SUMMARY) == EXPECTED


def test_quiet_output() -> None:
    lines = render(SUMMARY, -1).splitlines()
    assert lines[0] == "=================================== FAILURES ==================================="
    assert lines[-1] == EXPECTED.splitlines()[-1]
    assert not {"WAIVED", "METRICS", "READINESS"} & set("".join(lines).replace("=", " ").split())


def test_metrics_where_nothing_moved_and_nothing_failed_are_left_out() -> None:
    at_base = "fraud-detector@1.4.0 at the base"
    unchanged = ManifestInfo(
        "models/other/modelgate.yaml",
        "fraud-detector",
        "1.4.0",
        "production",
        "production",
        "ab" * 32,
        (MetricRow("auc", 0.93, 0.93, "maximize", at_base, 0.0, "passed"),),
    )
    moved = ManifestInfo(
        M,
        "churn",
        "2.0.0",
        "production",
        "production",
        "cd" * 32,
        (MetricRow("auc", 0.95, 0.93, "maximize", "churn@2.0.0 at the base", 0.0, "passed"),),
    )
    section = render(Summary("0.1.0", (), (unchanged, moved), ())).split("= METRICS =")[1].splitlines()[1:-1]
    assert section == [
        "churn@2.0.0 against churn@2.0.0 at the base:",
        "  auc  0.93 -> 0.95  +0.02  maximize  tolerance 0  passed",
    ]
    assert "METRICS" not in render(Summary("0.1.0", (), (unchanged,), ()))


def test_manifest_text_in_metrics_and_readiness_is_escaped() -> None:
    evil = "x\x1b[2J\n::warning::y"
    row = MetricRow(evil, 1.0, 2.0, "maximize", evil, 0.0, "failed", evil, "MG303")
    need = Result("MG201", "required-fields", "failed", "error", M, evil, evil, Location(M, 1, 1), hint=evil)
    summary = Summary(
        "0.1.0",
        (),
        (ManifestInfo(M, evil, evil, "staging", None, "ab", (row,)),),
        (),
        readiness=(Readiness(M, evil, evil, evil, (need,), (), evil),),
    )
    text = render(summary)
    assert "\x1b" not in text
    assert not any(line.lstrip().startswith("::") for line in text.splitlines())


def test_untrusted_text_cannot_inject_escapes_or_commands() -> None:
    evil = result("MG001", "manifest-valid", "failed", "x\x1b[2J\n::add-mask::secret ##[stop-commands] \u202e")
    text = render(Summary("0.1.0", (evil,), SUMMARY.manifests, ()))
    assert "\x1b" not in text and "\u202e" not in text
    assert not any(line.lstrip().startswith("::") for line in text.splitlines())
    assert "##[" not in text
    assert "x\\x1b[2J\\x0a:\u200b:add-mask:\u200b:secret #\u200b#[stop-commands] \\u202e" in text


def test_no_manifests_line() -> None:
    empty = Summary("0.1.0", (), (), (), duration=0.01)
    assert render(empty).splitlines()[-1] == "=" * 25 + " no manifests found in 0.01s " + "=" * 26


def test_verbose_lines_naming_one_check_twice_say_what_tells_them_apart(repo: Repo) -> None:
    """A real run: MG301 under two rules (auc, f1; the f1 one a warning), MG102 failing for
    two artifacts of one rule, and MG201 under the default rule and a production one."""
    fields = production_fields(metrics={"auc": {"value": 0.93, "goal": "maximize"}, "f1": 0.5})
    repo.manifest("m", artifacts=[repo.artifact("m/a.bin", b"a"), repo.artifact("m/b.bin", b"b")], **fields)
    (repo.root / "m" / "a.bin").write_bytes(b"changed")
    (repo.root / "m" / "b.bin").write_bytes(b"changed too")
    repo.write(".modelgate.yaml", "policies: [policy.yaml]\n")
    repo.write(
        "policy.yaml",
        extending_default(
            "{check: metric-threshold, with: {metric: auc, min: 0.9}}",
            "{check: metric-threshold, severity: warning, with: {metric: f1, min: 0.9}}",
            "{check: required-fields, stages: [production], with: {fields: [description]}}",
        ),
    )
    lines = repo.run("check", "-v").stdout.splitlines()
    shown = [line.split("::", 1)[1] for line in lines if "::MG301 " in line or "::MG102 " in line or "::MG201 " in line]
    lines_of = [
        i + 1
        for i, text in enumerate((repo.root / "m" / "modelgate.yaml").read_text().splitlines())
        if '"sha256"' in text
    ]
    assert shown == [
        f"MG102 artifact-hash [line {lines_of[0]}] FAILED",
        f"MG102 artifact-hash [line {lines_of[1]}] FAILED",
        "MG201 required-fields [staging,production,archived] PASSED",  # builtin:default's rule
        "MG201 required-fields [production] FAILED",
        "MG301 metric-threshold [auc] PASSED",
        "MG301 metric-threshold [f1] WARNING",
    ]
    assert len(set(shown)) == len(shown)
    single = [line for line in lines if "::MG001 " in line]
    assert single == ["m/modelgate.yaml::MG001 manifest-valid PASSED"]  # alone: nothing added
