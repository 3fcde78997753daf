"""MG601 owners, MG602 waiver-expired, and waivers applied by the session."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from xml.etree import ElementTree

import pytest

from modelgate.reporters.audit import render_markdown
from tests.conftest import Repo, check_in_process, extending_default, production_fields, staging_fields


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
    repo.write(
        "policy.yaml",
        f"""\
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
        """,
    )
    repo.write(".modelgate.yaml", "policies: [policy.yaml]\n")


def test_valid_waiver_turns_failure_into_waived(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    _waiver_policy(repo, "2099-12-31")
    repo.manifest("m", **staging_fields())
    report = check_in_process(repo, capsys=capsys)
    assert report.code == 0, report.out
    result = report.result("MG301")
    assert result["outcome"] == "waived"
    assert result["waiver"] == {
        "check": "metric-threshold",
        "model": "fraud-detector",
        "version": "1.0.0",
        "reason": "accepted for 3x lower latency (RISK-118)",
        "expires": "2099-12-31",
        "owner": "ana@acme.io",
        "policy": "policy.yaml:8:5",
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
        "waiver for metric-threshold on fraud-detector expired on 2020-01-31 (policy.yaml:8:5, owner ana@acme.io)"
    ]


def test_non_waivable_check_is_not_waived(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write(
        "policy.yaml",
        """\
        apiVersion: modelgate/v1
        kind: Policy
        name: acme
        extends: [builtin:default]
        waivers:
          - {check: artifact-hash, model: fraud-detector, reason: "trust me", expires: 2099-01-01, owner: "@x"}
        """,
    )
    repo.write(".modelgate.yaml", "policies: [policy.yaml]\n")
    repo.manifest("m")
    (repo.root / "m" / "model.bin").write_bytes(b"other")
    report = check_in_process(repo, capsys=capsys)
    assert report.code == 1
    assert report.outcomes("MG102") == ["failed"]


def test_a_waiver_for_a_live_version_is_not_stale_even_when_it_waives_nothing_here(
    repo: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    """The waiver documents 1.0.0's accepted failure while 1.0.0 is live: a run where the
    failure does not show (the version compared with itself after merge) raises nothing."""
    _waiver_policy(repo, "2099-12-31")
    repo.manifest("m", **staging_fields(metrics={"auc": 0.99}))  # passes: nothing to waive here
    report = check_in_process(repo, capsys=capsys)
    assert report.code == 0
    assert report.outcomes("MG604") == ["passed"]
    assert check_in_process(repo, "--strict", capsys=capsys).code == 0


@pytest.mark.parametrize("stage", ["archived", "rejected"])
def test_a_waiver_for_a_retired_version_is_stale(repo: Repo, capsys: pytest.CaptureFixture[str], stage: str) -> None:
    _waiver_policy(repo, "2099-12-31")
    repo.manifest("m", **staging_fields(stage=stage))
    report = check_in_process(repo, capsys=capsys)
    assert report.code == 0
    stale = report.result("MG604")
    assert (stale["outcome"], stale["severity"]) == ("failed", "warning")
    assert stale["message"] == (
        f"waiver for metric-threshold on fraud-detector@1.0.0 (policy.yaml:8:5) can no"
        f" longer apply: fraud-detector@1.0.0 is {stage}"
    )
    assert check_in_process(repo, "--strict", capsys=capsys).code == 1


def test_a_waiver_naming_no_version_is_stale_where_it_waived_nothing(
    repo: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    _waiver_policy(repo, "2099-12-31")
    policy = repo.root / "policy.yaml"
    policy.write_text(policy.read_text().replace("    version: 1.0.0\n", ""))
    repo.manifest("a", **staging_fields())  # fails the threshold: waived
    repo.manifest("b", **staging_fields(version="1.1.0", metrics={"auc": 0.99}))  # passes: waived nothing
    repo.manifest("c", **staging_fields(version="0.9.0", stage="archived"))  # retired: not asked
    report = check_in_process(repo, capsys=capsys)
    assert report.code == 0
    assert [
        (r["model"], r["message"]) for r in report.data["results"] if r["check"] == "MG604" and r["outcome"] == "failed"
    ] == [
        (
            "fraud-detector@1.1.0",
            "waiver for metric-threshold on fraud-detector (policy.yaml:8:5) names no version"
            " and waived nothing on fraud-detector@1.1.0",
        )
    ]


def test_used_waiver_is_not_stale(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    _waiver_policy(repo, "2099-12-31")
    repo.manifest("m", **staging_fields())
    assert check_in_process(repo, capsys=capsys).outcomes("MG604") == ["passed"]


def test_policy_may_opt_in_to_waive_a_non_waivable_check(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write(
        "policy.yaml",
        """\
        apiVersion: modelgate/v1
        kind: Policy
        name: acme
        extends: [builtin:default]
        waivable: [artifact-hash]
        waivers:
          - {check: artifact-hash, model: fraud-detector, reason: "re-export pending (OPS-7)",
             expires: 2099-01-01, owner: "@ops"}
        """,
    )
    repo.write(".modelgate.yaml", "policies: [policy.yaml]\n")
    repo.manifest("m")
    (repo.root / "m" / "model.bin").write_bytes(b"other")
    report = check_in_process(repo, capsys=capsys)
    assert report.code == 0, report.out
    assert report.result("MG102")["waiver"]["reason"] == "re-export pending (OPS-7)"


def test_waived_result_shows_as_waived_with_reason_and_owner_in_every_report(repo: Repo) -> None:
    """The installed command, every format at once (GitHub annotations as in Actions)."""
    _waiver_policy(repo, "2099-12-31")
    repo.manifest("m", **staging_fields())
    repo.commit("staging")
    files = {fmt: repo.root.parent / f"r.{fmt}" for fmt in ("json", "junit", "sarif", "markdown", "audit")}
    args = [a for fmt, path in files.items() for a in (f"--{'junit-xml' if fmt == 'junit' else fmt}", str(path))]
    proc = repo.run("check", "--base", "none", *args, env={"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": ""})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    reason, owner = "accepted for 3x lower latency (RISK-118)", "ana@acme.io"
    # Terminal (the annotations share stdout in Actions).
    assert f"waived until 2099-12-31 by {owner}: {reason}" in proc.stdout
    assert "1 waived" in proc.stdout
    # GitHub annotation: a notice titled waived.
    [notice] = [line for line in proc.stdout.splitlines() if line.startswith("::notice ") and "MG301" in line]
    assert "waived::" in notice and owner in notice and reason in notice
    # JSON.
    [result] = [r for r in json.loads(files["json"].read_text())["results"] if r["check"] == "MG301"]
    assert (result["outcome"], result["waiver"]["reason"], result["waiver"]["owner"]) == ("waived", reason, owner)
    # JUnit: a skipped test case of type waived.
    junit = ElementTree.parse(files["junit"]).getroot()
    [skipped] = [c.find("skipped") for c in junit.iter("testcase") if "MG301" in c.get("name", "")]
    assert skipped is not None and skipped.get("type") == "waived"
    assert owner in skipped.get("message", "") and reason in skipped.get("message", "")
    # SARIF: outcome waived, suppressed with the waiver's reason and owner.
    [sarif] = [r for r in json.loads(files["sarif"].read_text())["runs"][0]["results"] if r["ruleId"] == "MG301"]
    assert sarif["properties"]["outcome"] == "waived"
    assert reason in sarif["suppressions"][0]["justification"] and owner in sarif["suppressions"][0]["justification"]
    # Markdown (escaped for GitHub: the owner's address in a code span, where it mentions nobody).
    markdown = files["markdown"].read_text()
    assert "### Waived" in markdown and "RISK\\-118" in markdown and "`ana@acme.io`" in markdown
    # Audit record: the waiver applied, and the result waived; the record verifies.
    record = json.loads(files["audit"].read_text())
    [waiver] = record["waivers"]
    assert (waiver["check"], waiver["model"], waiver["reason"], waiver["owner"], waiver["expires"]) == (
        "MG301",
        "fraud-detector@1.0.0",
        reason,
        owner,
        "2099-12-31",
    )
    assert [r["outcome"] for r in record["results"] if r["check"] == "MG301"] == ["waived"]
    assert "waived MG301 for `fraud-detector@1.0.0` until 2099\\-12\\-31 by `ana@acme.io`" in render_markdown(record)
    assert repo.run("audit", "verify", str(files["audit"])).returncode == 0


@pytest.mark.parametrize("missing", ["reason", "expires", "owner"])
def test_a_waiver_without_reason_expiry_or_owner_is_refused(repo: Repo, missing: str) -> None:
    fields = {
        "check": "metric-threshold",
        "model": "fraud-detector",
        "reason": "RISK-118",
        "expires": "2099-01-01",
        "owner": "ana@acme.io",
    }
    del fields[missing]
    repo.write(
        "policy.yaml",
        "apiVersion: modelgate/v1\nkind: Policy\nname: acme\nextends: [builtin:default]\n"
        f"waivers:\n  - {json.dumps(fields)}\n",
    )
    repo.write(".modelgate.yaml", "policies: [policy.yaml]\n")
    repo.manifest("m", **staging_fields())
    proc = repo.run("check")
    assert proc.returncode == 4, proc.stdout  # a broken policy is no verdict
    assert f"policy.yaml:6:5: missing required key 'waivers[0].{missing}'" in proc.stderr


def test_manifest_valid_is_not_waived(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write(
        "policy.yaml",
        """\
        apiVersion: modelgate/v1
        kind: Policy
        name: acme
        extends: [builtin:default]
        waivers:
          - {check: manifest-valid, model: fraud-detector, reason: "trust me", expires: 2099-01-01, owner: "@x"}
        """,
    )
    repo.write(".modelgate.yaml", "policies: [policy.yaml]\n")
    repo.manifest("m", owners=[])
    report = check_in_process(repo, capsys=capsys)
    assert report.code == 1
    assert report.outcomes("MG001") == ["failed"]


def test_a_waiver_the_change_adds_waives_nothing_until_merged(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    """Waivers are policy: read from the base commit, never from the change under review."""
    _waiver_policy(repo, "2099-12-31")
    policy = (repo.root / "policy.yaml").read_text()
    (repo.root / "policy.yaml").write_text(policy.split("waivers:")[0])  # the base: no waiver
    repo.manifest("m", **staging_fields(metrics={"auc": {"value": 0.96, "goal": "maximize"}}))
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")
    (repo.root / "policy.yaml").write_text(policy.replace("version: 1.0.0", "version: 1.0.1"))  # its own waiver
    repo.manifest("m", **staging_fields(version="1.0.1"))
    repo.commit("worse model, and a waiver for it")
    proc = repo.run("check", "--base", "main", "--json", "../r.json")
    assert proc.returncode == 1, proc.stdout
    [result] = [r for r in json.loads((repo.root.parent / "r.json").read_text())["results"] if r["check"] == "MG301"]
    assert (result["outcome"], result["waiver"]) == ("failed", None)
    assert "policy.yaml" in proc.stdout and "after merge" in proc.stdout
    # Once merged (no base to distrust), the same waiver applies.
    assert repo.run("check", "--json", "../r.json").returncode == 0


@pytest.mark.parametrize(
    ("model", "version", "message"),
    [
        (
            "fraud-detectr",
            "",
            "waiver for metric-threshold on fraud-detectr (policy.yaml:6:5) matches no manifest:"
            " no model 'fraud-detectr' in the repository",
        ),
        (
            "fraud-detector",
            "0.9.0",
            "waiver for metric-threshold on fraud-detector@0.9.0 (policy.yaml:6:5) matches no"
            " manifest: no version 0.9.0 of 'fraud-detector' in the repository (it has 1.0.0)",
        ),
    ],
)
def test_a_waiver_that_matches_no_manifest_is_stale(
    repo: Repo, capsys: pytest.CaptureFixture[str], model: str, version: str, message: str
) -> None:
    pinned = f", version: {version}" if version else ""
    repo.write(
        "policy.yaml",
        f"""\
        apiVersion: modelgate/v1
        kind: Policy
        name: acme
        extends: [builtin:default]
        waivers:
          - {{check: metric-threshold, model: {model}{pinned}, reason: RISK-1, expires: 2099-01-01, owner: "@x"}}
        """,
    )
    repo.write(".modelgate.yaml", "policies: [policy.yaml]\n")
    repo.manifest("a", **staging_fields())
    repo.manifest("b", **staging_fields(name="churn"))
    report = check_in_process(repo, capsys=capsys)
    assert report.code == 0
    stale = [r for r in report.data["results"] if r["check"] == "MG604" and r["outcome"] == "failed"]
    assert [(r["severity"], r["message"]) for r in stale] == [("warning", message)]  # once, not per manifest
    assert check_in_process(repo, "--strict", capsys=capsys).code == 1


def _run_json(repo: Repo, *args: str) -> tuple[int, dict[str, Any], str]:
    """The installed command with a JSON report."""
    proc = repo.run("check", "--json", "../revalidation.json", *args)
    return proc.returncode, json.loads((repo.root.parent / "revalidation.json").read_text()), proc.stdout


def _results(report: dict[str, Any], name: str) -> list[tuple[str, str, str]]:
    return [(r["outcome"], r["severity"], r["message"]) for r in report["results"] if r["name"] == name]


def test_revalidation_warns_within_30_days_and_fails_after_review_by(repo: Repo) -> None:
    """Periodic review: a production version's review_by date warns 30 days ahead and fails once passed;
    only production versions are revalidated."""
    today = dt.datetime.now(dt.UTC).date()
    soon, overdue, later = today + dt.timedelta(days=10), today - dt.timedelta(days=1), today + dt.timedelta(days=100)
    repo.manifest("m", **production_fields(review_by=soon.isoformat()))
    code, report, out = _run_json(repo)
    assert code == 0, out
    assert _results(report, "revalidation") == [
        ("failed", "warning", f"fraud-detector@1.0.0 is due for revalidation on {soon}, in 10 day(s)")
    ]
    assert "w" in out.splitlines()[2]  # a warning mark on the manifest's line
    assert _run_json(repo, "--strict")[0] == 1
    repo.manifest("m", **production_fields(review_by=overdue.isoformat()))
    code, report, out = _run_json(repo)
    assert code == 1, out
    [result] = [r for r in report["results"] if r["name"] == "revalidation"]
    assert (result["check"], result["outcome"], result["severity"]) == ("MG605", "failed", "error")
    assert result["message"] == f"fraud-detector@1.0.0 was due for revalidation on {overdue} (1 day(s) ago)"
    assert (
        result["location"]["line"]
        == repo.root.joinpath("m/modelgate.yaml").read_text().splitlines().index(f'  "review_by": "{overdue}"') + 1
    )
    repo.manifest("m", **production_fields(review_by=later.isoformat()))
    code, report, _ = _run_json(repo)
    assert (code, _results(report, "revalidation")) == (0, [("passed", "error", f"next review by {later} (100 days)")])
    # Not in production: not revalidated, whatever the date.
    repo.manifest("m", **staging_fields(review_by=overdue.isoformat()))
    code, report, _ = _run_json(repo)
    assert (code, _results(report, "revalidation")) == (0, [])


def test_revalidation_window_and_waiver_come_from_the_policy(repo: Repo) -> None:
    today = dt.datetime.now(dt.UTC).date()
    due = today + dt.timedelta(days=45)
    repo.write(".modelgate.yaml", "policies: [policy.yaml]\n")
    repo.write("policy.yaml", extending_default("{check: revalidation, stages: [production], with: {warn_days: 60}}"))
    repo.manifest("m", **production_fields(review_by=due.isoformat()))
    code, report, _ = _run_json(repo)
    assert (code, [o for o, _, _ in _results(report, "revalidation")]) == (0, ["failed"])
    overdue = today - dt.timedelta(days=1)
    repo.manifest("m", **production_fields(review_by=overdue.isoformat()))
    repo.write(
        "policy.yaml",
        extending_default("{check: owners}")
        + (
            'waivers:\n  - {check: revalidation, model: fraud-detector, reason: "review booked (RISK-7)",'
            " expires: 2099-01-01, owner: ana@acme.io}\n"
        ),
    )
    code, report, out = _run_json(repo)
    assert code == 0, out
    assert [o for o, _, _ in _results(report, "revalidation")] == ["waived"]


def test_review_by_must_be_a_date(repo: Repo) -> None:
    repo.manifest("m", **production_fields(review_by="next spring"))
    code, report, _ = _run_json(repo)
    assert code == 1
    assert [m for o, _, m in _results(report, "manifest-valid") if o == "failed"] == [
        "review_by: Input should be a valid date in the format YYYY-MM-DD, invalid character in year"
    ]
