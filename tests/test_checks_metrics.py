"""MG301 metric-threshold and MG302 required-metrics, configured by policy rules."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Repo, check_in_process, extending_default, staging_fields


def _policy(repo: Repo, with_: str) -> None:
    repo.write("policy.yaml", extending_default(f"{{check: metric-threshold, stages: [staging], with: {with_}}}"))
    repo.write(".modelgate.yaml", "policies: [policy.yaml]\n")


@pytest.mark.parametrize(
    ("with_", "metrics", "messages"),
    [
        ("{metric: auc, min: 0.9}", {"auc": 0.93}, []),
        ("{metric: auc, min: 0.95}", {"auc": 0.93}, ["auc = 0.93 is below the minimum 0.95"]),
        ("{metric: lat, max: 10}", {"lat": 12.5}, ["lat = 12.5 is above the maximum 10"]),
        (
            "{metric: auc, threshold: 0.95}",
            {"auc": {"value": 0.93, "goal": "maximize"}},
            ["auc = 0.93 is below the minimum 0.95"],
        ),
        ("{metric: lat, threshold: 20}", {"lat": {"value": 12.5, "goal": "minimize"}}, []),
        (
            "{metric: lat, threshold: 10}",
            {"lat": {"value": 12.5, "goal": "minimize"}},
            ["lat = 12.5 is above the maximum 10"],
        ),
        ("{metric: lat, threshold: 10}", {"lat": 12.5}, ["metric 'lat' has no goal (maximize|minimize) for threshold"]),
        ("{metric: f1, min: 0.5}", {"auc": 0.93}, ["metric 'f1' is required at stage 'staging' but missing"]),
    ],
)
def test_metric_threshold(
    repo: Repo, capsys: pytest.CaptureFixture[str], with_: str, metrics: dict[str, object], messages: list[str]
) -> None:
    _policy(repo, with_)
    repo.manifest("m", **staging_fields(metrics=metrics))
    report = check_in_process(repo, capsys=capsys)
    assert report.messages("MG301") == messages
    assert report.code == (1 if messages else 0), report.out


def test_threshold_failure_points_at_the_metric_line(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    _policy(repo, "{metric: auc, min: 0.95}")
    repo.manifest("m", **staging_fields())
    result = check_in_process(repo, capsys=capsys).result("MG301")
    text = (repo.root / "m" / "modelgate.yaml").read_text().splitlines()
    assert text[result["location"]["line"] - 1].strip().startswith('"auc"')


def test_bad_rule_parameters_are_a_configuration_error(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    _policy(repo, "{metric: auc}")
    repo.manifest("m", **staging_fields())
    report = check_in_process(repo, capsys=capsys)
    assert report.code == 4
    assert report.data == {}


def test_required_metrics(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.manifest("m", **staging_fields(metrics={}))
    assert check_in_process(repo, capsys=capsys).messages("MG302") == [
        "at least 1 metric(s) required at stage 'staging', found 0"
    ]
    repo.manifest("m", **staging_fields())
    assert check_in_process(repo, capsys=capsys).outcomes("MG302") == ["passed"]


def test_compare_metrics_lists_each_comparison_on_the_rivals_terms() -> None:
    """One function says what the rule compared (for reports to show), goal included."""
    from modelgate.checks.metrics import MetricComparison, compare_metrics
    from modelgate.datamodel.manifest import Manifest
    from modelgate.datamodel.validation import load

    def model(metrics: dict[str, Any]) -> Manifest:
        return load(
            Manifest,
            {
                "apiVersion": "modelgate/v1",
                "kind": "Model",
                "name": "m",
                "version": "1.0.0",
                "stage": "production",
                "owners": ["@a"],
                "metrics": metrics,
                "artifacts": [{"path": "m.bin", "sha256": "0" * 64, "size": 1}],
            },
        )

    rival = model({"auc": {"value": 0.9, "goal": "maximize"}, "lat": {"value": 10, "goal": "minimize"}, "f1": 0.5})
    mine = model({"auc": {"value": 0.95, "goal": "minimize"}, "f1": {"value": 0.1, "goal": "maximize"}})
    assert compare_metrics(mine, rival, "v1") == [
        MetricComparison(
            "auc",
            "v1",
            "maximize",
            0.95,
            0.9,
            0.0,
            "auc: its goal is minimize here but maximize in v1, and the version compared with sets the terms",
        ),
        MetricComparison(
            "lat", "v1", "minimize", None, 10.0, 0.0, "metric 'lat' is missing, so it cannot be compared with v1"
        ),
    ]
