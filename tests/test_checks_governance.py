"""MG601 owners, MG602 waiver-expired, and waivers applied by the session."""

from __future__ import annotations

import pytest

from tests.conftest import Repo, check_in_process, staging_fields


@pytest.mark.parametrize("owner", ["@acme/fraud", "@ana", "ana@acme.io"])
def test_owner_forms_pass(repo: Repo, capsys: pytest.CaptureFixture[str], owner: str) -> None:
    repo.manifest("m", owners=[owner])
    assert check_in_process(repo, capsys=capsys).outcomes("MG601") == ["passed"]


def test_unreachable_owner_fails(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.manifest("m", owners=["the fraud team"])
    assert check_in_process(repo, capsys=capsys).messages("MG601") == [
        "owner 'the fraud team' is not @user, @org/team or an email"
    ]


def test_empty_owners_is_invalid(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.manifest("m", owners=[])
    assert check_in_process(repo, capsys=capsys).messages("MG001") == [
        "owners: List should have at least 1 item after validation, not 0"
    ]


def _waiver_policy(repo: Repo, expires: str) -> None:
    repo.write("policy.yaml", f"""\
        apiVersion: modelgate/v1
        kind: Policy
        name: acme
        extends: [builtin:default]
        rules:
          - {{check: metric-threshold, stages: [staging], with: {{metric: auc, min: 0.95}}}}
        waivers:
          - check: metric-threshold
            model: fraud-detector
            version: 1.0.0
            reason: "accepted for 3x lower latency (RISK-118)"
            expires: {expires}
            owner: ana@acme.io
        """)
    repo.write(".modelgate.yaml", "policies: [policy.yaml]\n")


def test_valid_waiver_turns_failure_into_waived(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    _waiver_policy(repo, "2099-12-31")
    repo.manifest("m", **staging_fields())
    report = check_in_process(repo, capsys=capsys)
    assert report.code == 0, report.out
    result = report.result("MG301")
    assert result["outcome"] == "waived"
    assert result["waiver"] == {
        "check": "metric-threshold", "model": "fraud-detector", "version": "1.0.0",
        "reason": "accepted for 3x lower latency (RISK-118)", "expires": "2099-12-31",
        "owner": "ana@acme.io", "policy": "policy.yaml:8:5",
    }
    assert "waived until 2099-12-31 by ana@acme.io" in report.out
    assert report.outcomes("MG602") == ["passed"]


def test_expired_waiver_fails_and_waives_nothing(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    _waiver_policy(repo, "2020-01-31")
    repo.manifest("m", **staging_fields())
    report = check_in_process(repo, capsys=capsys)
    assert report.code == 1
    assert report.outcomes("MG301") == ["failed"]
    assert report.messages("MG602") == [
        "waiver for metric-threshold on fraud-detector expired on 2020-01-31"
        " (policy.yaml:8:5, owner ana@acme.io)"
    ]


def test_non_waivable_check_is_not_waived(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write("policy.yaml", """\
        apiVersion: modelgate/v1
        kind: Policy
        name: acme
        extends: [builtin:default]
        waivers:
          - {check: artifact-hash, model: fraud-detector, reason: "trust me", expires: 2099-01-01, owner: "@x"}
        """)
    repo.write(".modelgate.yaml", "policies: [policy.yaml]\n")
    repo.manifest("m")
    (repo.root / "m" / "model.bin").write_bytes(b"other")
    report = check_in_process(repo, capsys=capsys)
    assert report.code == 1
    assert report.outcomes("MG102") == ["failed"]


def test_stale_waiver_is_a_warning(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    _waiver_policy(repo, "2099-12-31")
    repo.manifest("m", **staging_fields(metrics={"auc": 0.99}))  # passes: nothing to waive
    report = check_in_process(repo, capsys=capsys)
    assert report.code == 0
    stale = report.result("MG604")
    assert (stale["outcome"], stale["severity"]) == ("failed", "warning")
    assert stale["message"] == "waiver for metric-threshold on fraud-detector@1.0.0 (policy.yaml:8:5) waived nothing"
    assert check_in_process(repo, "--strict", capsys=capsys).code == 1


def test_used_waiver_is_not_stale(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    _waiver_policy(repo, "2099-12-31")
    repo.manifest("m", **staging_fields())
    assert check_in_process(repo, capsys=capsys).outcomes("MG604") == ["passed"]


def test_policy_may_opt_in_to_waive_a_non_waivable_check(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write("policy.yaml", """\
        apiVersion: modelgate/v1
        kind: Policy
        name: acme
        extends: [builtin:default]
        waivable: [artifact-hash]
        waivers:
          - {check: artifact-hash, model: fraud-detector, reason: "re-export pending (OPS-7)",
             expires: 2099-01-01, owner: "@ops"}
        """)
    repo.write(".modelgate.yaml", "policies: [policy.yaml]\n")
    repo.manifest("m")
    (repo.root / "m" / "model.bin").write_bytes(b"other")
    report = check_in_process(repo, capsys=capsys)
    assert report.code == 0, report.out
    assert report.result("MG102")["waiver"]["reason"] == "re-export pending (OPS-7)"
