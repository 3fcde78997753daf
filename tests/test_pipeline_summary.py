"""The metric table of the reports shows what the gate judged: the candidate next to the
version the regression rule compared it with, by that rule's numbers, goals and tolerance,
the failed comparison marked as the reason. Real repositories, the installed command."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import Repo, extending_default, production_fields, staging_fields


def metrics(auc: float, latency: float | None = 10.0, **more: Any) -> dict[str, Any]:
    found: dict[str, Any] = {"auc": {"value": auc, "goal": "maximize"}, **more}
    if latency is not None:
        found["latency_ms"] = {"value": latency, "goal": "minimize"}
    return found


def promote_v2(repo: Repo, v2: dict[str, Any]) -> tuple[int, dict[str, Any], str, str]:
    """main: v1 in production, v2 in staging; the branch promotes v2 over v1."""
    repo.manifest("v1", **production_fields(metrics=metrics(0.93)))
    repo.manifest("v2", version="2.0.0", artifact_bytes=b"v2", **production_fields(stage="staging", metrics=v2))
    repo.commit("v1 in production, v2 in staging")
    repo.git("checkout", "-q", "-b", "promote")
    repo.manifest("v1", **production_fields(stage="archived", metrics=metrics(0.93)))
    repo.manifest("v2", version="2.0.0", artifact_bytes=b"v2", **production_fields(metrics=v2))
    repo.commit("promote v2")
    proc = repo.run("check", "--base", "main", "--json", "../r.json", "--markdown", "../r.md")
    assert "Traceback" not in proc.stderr
    data = json.loads((repo.root.parent / "r.json").read_text())
    return proc.returncode, data, proc.stdout, (repo.root.parent / "r.md").read_text()


def table(data: dict[str, Any], path: str) -> list[dict[str, Any]]:
    return next(m["metrics"] for m in data["manifests"] if m["path"] == path)


REGRESSED = "auc regressed: 0.92 vs 0.93 in fraud-detector@1.0.0, in production on the base (maximize, tolerance 0)"


def test_the_regression_that_blocks_a_promotion_is_in_the_table_as_the_reason(repo: Repo) -> None:
    code, data, out, markdown = promote_v2(repo, metrics(0.92, 8.0, f1=0.8))
    assert code == 1, out
    rival = "fraud-detector@1.0.0 in production"
    assert table(data, "v2/modelgate.yaml") == [
        {
            "name": "auc",
            "rival": rival,
            "rival_value": 0.93,
            "value": 0.92,
            "goal": "maximize",
            "tolerance": 0.0,
            "outcome": "failed",
            "problem": REGRESSED,
            "check": "MG303",
        },
        {
            "name": "f1",
            "rival": rival,
            "rival_value": None,
            "value": 0.8,
            "goal": None,
            "tolerance": None,
            "outcome": None,
            "problem": None,
            "check": None,
        },
        {
            "name": "latency_ms",
            "rival": rival,
            "rival_value": 10.0,
            "value": 8.0,
            "goal": "minimize",
            "tolerance": 0.0,
            "outcome": "passed",
            "problem": None,
            "check": None,
        },
    ]
    assert [r["message"] for r in data["results"] if r["outcome"] == "failed"] == [REGRESSED]
    section = out[out.index("= METRICS =") :].splitlines()[1:4]
    assert section == [
        "fraud-detector@2.0.0 against fraud-detector@1.0.0 in production:",
        "  auc         0.93 -> 0.92  -0.01  maximize  tolerance 0  FAILED (MG303)",
        "  latency_ms  10 -> 8       -2     minimize  tolerance 0  passed",
    ]
    assert (
        "| `fraud-detector@2.0.0` | auc | `fraud-detector@1.0.0` in production | 0.93 | 0.92 |"
        " -0.01 ↓ | maximize | 0 | ❌ **fails MG303**: auc regressed: 0\\.92 vs 0\\.93 in"
        " `fraud-detector@1.0.0`, in production on the base \\(maximize, tolerance 0\\) |"
    ) in markdown.splitlines()


def test_the_table_shows_the_policys_tolerance_and_a_waived_regression(repo: Repo) -> None:
    repo.write(".modelgate.yaml", "policies: [policy.yaml]\n")
    repo.write(
        "policy.yaml",
        extending_default("{check: no-metric-regression, stages: [production], with: {metric: auc, tolerance: 0.005}}")
        + "waivers:\n  - {check: no-metric-regression, model: fraud-detector, version: 2.0.0, reason: RISK-1,"
        " expires: 2099-01-01, owner: ana@acme.io}\n",
    )
    code, data, out, _ = promote_v2(repo, metrics(0.92))
    assert code == 0, out
    auc = table(data, "v2/modelgate.yaml")[0]
    assert (auc["tolerance"], auc["outcome"], auc["check"]) == (0.005, "waived", "MG303")
    assert "  auc  0.93 -> 0.92  -0.01  maximize  tolerance 0.005  waived (MG303)" in out.splitlines()


def test_a_change_without_a_promotion_is_compared_with_the_same_manifest_at_the_base(repo: Repo) -> None:
    repo.manifest("m", **staging_fields(metrics=metrics(0.90)))
    repo.commit("staging")
    repo.git("checkout", "-q", "-b", "feature")
    repo.manifest("m", **staging_fields(metrics=metrics(0.91)))
    proc = repo.run("check", "--base", "main", "--json", "../r.json")
    assert proc.returncode == 0, proc.stdout
    data = json.loads((repo.root.parent / "r.json").read_text())
    assert [
        (r["name"], r["rival"], r["rival_value"], r["value"], r["outcome"]) for r in table(data, "m/modelgate.yaml")
    ] == [
        ("auc", "fraud-detector@1.0.0 at the base", 0.90, 0.91, None),
        ("latency_ms", "fraud-detector@1.0.0 at the base", 10.0, 10.0, None),
    ]
    assert "METRICS" not in proc.stdout  # no rule judged them


def test_without_a_base_the_table_lists_the_metrics_alone(repo: Repo) -> None:
    repo.manifest("m", **staging_fields(metrics=metrics(0.90, None)))
    proc = repo.run("check", "--json", "../r.json")
    data = json.loads((repo.root.parent / "r.json").read_text())
    assert table(data, "m/modelgate.yaml") == [
        {
            "name": "auc",
            "rival": None,
            "rival_value": None,
            "value": 0.9,
            "goal": "maximize",
            "tolerance": None,
            "outcome": None,
            "problem": None,
            "check": None,
        }
    ]
    assert proc.returncode == 0
