"""Readiness: what the next stage will ask of a manifest, said as a notice while the
version can still change; and the hint a promotion's failure gives. Real repositories,
the installed command."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import Repo, extending_default, production_fields, staging_fields

LOCKFILE_HINT = (
    "add lineage.environment.lockfile in a pull request of its own while the version is still at"
    " staging (a promotion may change only stage, aliases and tags), then promote"
)
ADVICE = (
    "make these changes in a pull request of their own while the version is still at staging (a promotion"
    " may change only stage, aliases and tags), then promote"
)


def staging_without_lockfile(repo: Repo, folder: str = "m", **extra: Any) -> None:
    repo.manifest(folder, **staging_fields(**extra))


def report(repo: Repo, *args: str) -> tuple[int, dict[str, Any], str]:
    proc = repo.run("check", "--json", "../r.json", *args)
    assert "Traceback" not in proc.stderr, proc.stderr
    data = json.loads((repo.root.parent / "r.json").read_text())
    return proc.returncode, data, proc.stdout


def test_a_staging_manifest_is_told_what_production_still_needs(repo: Repo) -> None:
    staging_without_lockfile(repo)
    code, data, out = report(repo, "--markdown", "../r.md")
    assert code == 0, out
    assert data["readiness"] == [
        {
            "manifest": "m/modelgate.yaml",
            "model": "fraud-detector@1.0.0",
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
            "advice": ADVICE,
        },
        {
            "manifest": "m/modelgate.yaml",
            "model": "fraud-detector@1.0.0",
            "stage": "staging",
            "next_stage": "rejected",
            "needs": [],
            "verified_in_ci": [],
            "advice": ADVICE,
        },
    ]
    section = out[out.index("= READINESS =") :].splitlines()[1:-1]
    assert section == [
        "fraud-detector@1.0.0 at staging: to reach production this version still needs:",
        "  - MG201 required-fields: lineage.environment.lockfile is required at stage 'production'"
        " (m/modelgate.yaml:18:3)",
        "      hint: add lineage.environment.lockfile",
        "  verified in CI at production: MG603 approvals",
        f"  {ADVICE}",
    ]
    markdown = (repo.root.parent / "r.md").read_text()
    assert "### Readiness" in markdown
    assert (
        "- **`fraud-detector@1.0.0`** at staging: to reach **production** this version still needs:"
        in markdown.splitlines()
    )


def test_readiness_never_fails_the_run_nor_strict(repo: Repo) -> None:
    staging_without_lockfile(repo)
    for args in ((), ("--strict",)):
        code, data, out = report(repo, *args)
        assert (code, data["verdict"], data["exit_code"], data["summary"]["failed"]) == (0, "pass", 0, 0), out
        assert [r for r in data["results"] if r["outcome"] == "failed"] == []
        assert data["readiness"][0]["needs"] != []
        assert "0 failed" in out.splitlines()[-1]


def test_from_none_only_the_next_stage_is_previewed(repo: Repo) -> None:
    repo.manifest("m", license="Apache-2.0")
    code, data, out = report(repo)
    assert code == 0, out
    entry = data["readiness"][0]
    assert (entry["stage"], entry["next_stage"]) == ("none", "staging")
    assert [n["message"] for n in entry["needs"]] == [
        "lineage.code.commit is required at stage 'staging'",
        "lineage.data is required at stage 'staging'",
        "lineage.params is required at stage 'staging'",
        "at least 1 metric(s) required at stage 'staging', found 0",
    ]
    assert entry["verified_in_ci"] == []
    assert "lockfile" not in json.dumps(data["readiness"])  # production is two steps away


def test_a_ready_version_has_nothing_listed(repo: Repo) -> None:
    repo.manifest("m", **production_fields(stage="staging"))
    code, data, out = report(repo)
    assert code == 0, out
    assert [(e["next_stage"], e["needs"]) for e in data["readiness"]] == [("production", []), ("rejected", [])]
    assert "READINESS" not in out


def test_change_rules_and_approvals_are_never_readiness_needs(repo: Repo) -> None:
    """At production, v2 would regress on v1: the regression rule compares a promotion with
    the version it replaces, so it waits for the promotion (the table shows it then);
    approvals are verified in CI."""
    lower = {"auc": {"value": 0.90, "goal": "maximize"}}
    repo.manifest("v1", **production_fields())
    staging_without_lockfile(repo, "v2", version="2.0.0", artifact_bytes=b"v2", metrics=lower)
    repo.commit("v1 in production, v2 in staging")
    repo.git("checkout", "-q", "-b", "feature")
    repo.manifest("v2", version="2.0.0", artifact_bytes=b"v2", **staging_fields(description="next", metrics=lower))
    code, data, out = report(repo, "--base", "main")
    assert code == 0, out
    v2 = next(e for e in data["readiness"] if e["manifest"] == "v2/modelgate.yaml" and e["next_stage"] == "production")
    assert [n["check"] for n in v2["needs"]] == ["MG201"]
    assert v2["verified_in_ci"] == [{"check": "MG603", "name": "approvals"}]


def test_a_later_stages_threshold_is_previewed_and_a_waiver_excuses_it(repo: Repo) -> None:
    repo.write(".modelgate.yaml", "policies: [policy.yaml]\n")
    repo.write(
        "policy.yaml",
        extending_default("{check: metric-threshold, stages: [production], with: {metric: auc, min: 0.95}}"),
    )
    repo.manifest("m", **production_fields(stage="staging"))
    code, data, out = report(repo)
    assert code == 0, out
    assert [n["message"] for n in data["readiness"][0]["needs"]] == ["auc = 0.93 is below the minimum 0.95"]
    repo.write(
        "policy.yaml",
        extending_default("{check: metric-threshold, stages: [production], with: {metric: auc, min: 0.95}}")
        + "waivers:\n  - {check: metric-threshold, model: fraud-detector, reason: r, expires: 2099-01-01,"
        " owner: ana@acme.io}\n",
    )
    code, data, out = report(repo)
    assert data["readiness"][0]["needs"] == [], out


def test_a_promotion_missing_a_field_says_which_change_to_make_first(repo: Repo) -> None:
    staging_without_lockfile(repo)
    repo.commit("1.0.0 in staging")
    promoted = repo.run("promote", "m/modelgate.yaml", "--to", "production", "--dry-run", "--base", "main")
    assert promoted.returncode == 1
    lines = promoted.stdout.splitlines()
    at = lines.index(
        "  - MG201 required-fields: lineage.environment.lockfile is required at stage 'production'"
        " (m/modelgate.yaml:18)"
    )
    assert lines[at + 1] == f"      hint: {LOCKFILE_HINT}"
    # the pull request itself fails the same way, with the same hint
    repo.git("checkout", "-q", "-b", "promote")
    repo.manifest("m", **staging_fields(stage="production"))
    code, _, out = report(repo, "--base", "main")
    assert code == 1
    assert f"  hint: {LOCKFILE_HINT}" in out.splitlines()


def test_no_catch_22_the_lockfile_goes_in_first_then_the_promotion(repo: Repo) -> None:
    staging_without_lockfile(repo)
    repo.commit("1.0.0 in staging")
    repo.git("checkout", "-q", "-b", "lockfile")
    repo.manifest("m", **production_fields(stage="staging"))  # the same version, at staging: may change
    repo.commit("add the lockfile")
    code, data, out = report(repo, "--base", "main")
    assert code == 0, out
    assert data["readiness"][0]["needs"] == []
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--ff-only", "lockfile")
    repo.git("checkout", "-q", "-b", "promote")
    promoted = repo.run("promote", "m/modelgate.yaml", "--to", "production", "--base", "main")
    assert promoted.returncode == 0, promoted.stdout
    repo.commit("promote")
    code, data, out = report(repo, "--base", "main")
    assert code == 0, out


def test_promote_dry_run_shows_what_the_stage_after_the_new_one_needs(repo: Repo) -> None:
    repo.manifest("m", **staging_fields(stage="none"))
    repo.commit("1.0.0 registered")
    promoted = repo.run("promote", "m/modelgate.yaml", "--to", "staging", "--dry-run", "--base", "main")
    assert promoted.returncode == 0, promoted.stdout
    lines = promoted.stdout.splitlines()
    at = lines.index(
        "once at staging, to reach production this version still needs (a notice: add it before this"
        " promotion, or while at staging):"
    )
    assert lines[at + 1 : at + 5] == [
        "  - MG201 required-fields: lineage.environment.lockfile is required at stage 'production'"
        " (m/modelgate.yaml:18)",
        "      hint: add lineage.environment.lockfile",
        "  verified in CI at production: MG603 approvals",
        f"  {ADVICE}",
    ]
