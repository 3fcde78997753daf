"""The JSON report: the contract's shape, exactly."""

from __future__ import annotations

import io
import json

from modelgate.datamodel.results import (
    GitInfo,
    Location,
    ManifestInfo,
    MetricRow,
    PolicyInfo,
    Readiness,
    Result,
    Summary,
)
from modelgate.reporters.json import write

NEED = Result(
    "MG201",
    "required-fields",
    "failed",
    "error",
    "m/modelgate.yaml",
    "fraud@1.0.0",
    "lineage.environment.lockfile is required at stage 'production'",
    Location("m/modelgate.yaml", 18, 3),
    hint="add lineage.environment.lockfile",
)
READY = Readiness(
    "m/modelgate.yaml",
    "fraud@1.0.0",
    "staging",
    "production",
    (NEED,),
    (("MG603", "approvals"),),
    "make these changes in a pull request of their own while the version is still at staging"
    " (a promotion may change only stage, aliases and tags), then promote",
)


def test_exact_contract_shape() -> None:
    summary = Summary(
        tool_version="0.1.0",
        results=(
            Result(
                "MG102",
                "artifact-hash",
                "failed",
                "error",
                "m/modelgate.yaml",
                "fraud@1.0.0",
                "bad",
                Location("m/modelgate.yaml", 12, 5),
            ),
        ),
        manifests=(
            ManifestInfo(
                "m/modelgate.yaml",
                "fraud",
                "1.0.0",
                "staging",
                None,
                "ab" * 32,
                (
                    MetricRow(
                        "auc",
                        0.92,
                        0.93,
                        "maximize",
                        "fraud@0.9.0 in production",
                        0.0,
                        "failed",
                        "auc regressed",
                        "MG303",
                    ),
                    MetricRow("f1", 0.8, None, None, "fraud@0.9.0 in production"),
                ),
                "fraud@0.9.0",
            ),
        ),
        policies=(PolicyInfo("builtin:default", "cd" * 32, "builtin"),),
        git=GitInfo(head="1" * 40),
        readiness=(READY,),
    )
    stream = io.StringIO()
    write(summary, stream)
    assert json.loads(stream.getvalue()) == {
        "tool": {"name": "modelgate", "version": "0.1.0"},
        "verdict": "fail",
        "exit_code": 1,
        "summary": {"passed": 0, "failed": 1, "waived": 0, "skipped": 0, "error": 0},
        "git": {"head": "1" * 40, "base": None, "merge_base": None},
        "policies": [{"path": "builtin:default", "sha256": "cd" * 32, "source": "builtin"}],
        "manifests": [
            {
                "path": "m/modelgate.yaml",
                "name": "fraud",
                "version": "1.0.0",
                "stage": "staging",
                "base_stage": None,
                "sha256": "ab" * 32,
                "replaces": "fraud@0.9.0",
                "metrics": [
                    {
                        "name": "auc",
                        "rival": "fraud@0.9.0 in production",
                        "rival_value": 0.93,
                        "value": 0.92,
                        "goal": "maximize",
                        "tolerance": 0.0,
                        "outcome": "failed",
                        "problem": "auc regressed",
                        "check": "MG303",
                    },
                    {
                        "name": "f1",
                        "rival": "fraud@0.9.0 in production",
                        "rival_value": None,
                        "value": 0.8,
                        "goal": None,
                        "tolerance": None,
                        "outcome": None,
                        "problem": None,
                        "check": None,
                    },
                ],
            }
        ],
        "results": [
            {
                "check": "MG102",
                "name": "artifact-hash",
                "outcome": "failed",
                "severity": "error",
                "manifest": "m/modelgate.yaml",
                "model": "fraud@1.0.0",
                "message": "bad",
                "location": {"path": "m/modelgate.yaml", "line": 12, "column": 5},
                "waiver": None,
            }
        ],
        "readiness": [
            {
                "manifest": "m/modelgate.yaml",
                "model": "fraud@1.0.0",
                "stage": "staging",
                "next_stage": "production",
                "needs": [
                    {
                        "check": "MG201",
                        "name": "required-fields",
                        "severity": "error",
                        "message": "lineage.environment.lockfile is required at stage 'production'",
                        "location": {"path": "m/modelgate.yaml", "line": 18, "column": 3},
                        "hint": "add lineage.environment.lockfile",
                    }
                ],
                "verified_in_ci": [{"check": "MG603", "name": "approvals"}],
                "advice": READY.advice,
            }
        ],
    }
    assert stream.getvalue().endswith("}\n")


def test_strings_are_ascii_escaped() -> None:
    summary = Summary(
        "0.1.0",
        (Result("MG001", "manifest-valid", "failed", "error", "m", "m", "caf\u00e9 \u202e", Location("m", 1, 1)),),
        (),
        (),
    )
    stream = io.StringIO()
    write(summary, stream)
    assert stream.getvalue().isascii()
    assert json.loads(stream.getvalue())["results"][0]["message"] == "caf\u00e9 \u202e"


def test_readiness_never_counts() -> None:
    """A readiness notice is no result: the verdict, exit code and summary ignore it, with
    or without --strict."""
    for strict in (False, True):
        summary = Summary(
            "0.1.0",
            (),
            (ManifestInfo("m/modelgate.yaml", "fraud", "1.0.0", "staging", None, "ab"),),
            (),
            strict=strict,
            readiness=(READY,),
        )
        data = summary.to_json()
        assert (summary.exit_code, data["verdict"], data["summary"]["failed"]) == (0, "pass", 0)
