"""Change rules against a base, in real repositories: main holds the base, a feature
branch the change, and the installed command judges it."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from tests.conftest import Repo, production_fields, staging_fields


def feature(repo: Repo) -> None:
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")


def check(repo: Repo, *args: str, env: dict[str, str] | None = None) -> tuple[int, dict[str, Any], str]:
    proc = repo.run("check", "--json", "../r.json", *args, env=env)
    assert "Traceback" not in proc.stderr
    path = repo.root.parent / "r.json"
    report = json.loads(path.read_text()) if path.exists() and proc.returncode in (0, 1) else {}
    if path.exists():
        path.unlink()
    return proc.returncode, report, proc.stdout + proc.stderr


def messages(report: dict[str, Any], name: str) -> list[str]:
    return [r["message"] for r in report["results"] if r["name"] == name and r["outcome"] == "failed"]


def test_promotion_along_transitions_passes(repo: Repo) -> None:
    repo.manifest("m", **production_fields(stage="staging"))
    feature(repo)
    repo.manifest("m", **production_fields())
    repo.commit("promote")
    code, report, out = check(repo, "--base", "main")
    assert code == 0, out
    assert report["manifests"][0]["base_stage"] == "staging"
    assert report["git"]["base"] == repo.git("rev-parse", "main")
    assert report["git"]["merge_base"] == repo.git("rev-parse", "main")
    assert report["git"]["head"] == repo.git("rev-parse", "HEAD")
    assert "staging -> production" in out


def test_skipped_stage_fails(repo: Repo) -> None:
    repo.manifest("m")
    feature(repo)
    repo.manifest("m", **production_fields())
    code, report, _ = check(repo, "--base", "main")
    assert code == 1
    assert messages(report, "stage-transition") == [
        "stage 'none' -> 'production' is not allowed; from 'none' a model may move to 'staging',"
        " 'rejected' (policy default)"
    ]


def test_new_manifest_cannot_enter_at_production(repo: Repo) -> None:
    repo.write("README.md", "x")
    feature(repo)
    repo.manifest("m", **production_fields())
    code, report, _ = check(repo, "--base", "main")
    assert code == 1
    assert messages(report, "stage-transition") == [
        "a new manifest cannot enter at 'production'; it enters at 'none' or 'staging' or 'rejected' (policy default)"
    ]


def test_promotion_that_swaps_the_artifact_fails(repo: Repo) -> None:
    repo.manifest("m", **production_fields(stage="staging"))
    feature(repo)
    repo.manifest("m", artifact_bytes=b"other weights", **production_fields())
    code, report, _ = check(repo, "--base", "main")
    assert code == 1
    assert messages(report, "promotion-immutable") == [
        "artifacts changed in a promotion 'staging' -> 'production'; only stage, aliases and tags may change"
    ]
    assert messages(report, "version-bump") == ["artifacts changed but the version stayed 1.0.0; bump it above 1.0.0"]


def test_changed_artifact_needs_a_version_bump(repo: Repo) -> None:
    repo.manifest("m", **staging_fields())
    feature(repo)
    repo.manifest("m", artifact_bytes=b"retrained", **staging_fields())
    code, report, _ = check(repo, "--base", "main")
    assert code == 1
    assert messages(report, "version-bump") == ["artifacts changed but the version stayed 1.0.0; bump it above 1.0.0"]
    repo.manifest("m", artifact_bytes=b"retrained", **staging_fields(version="1.1.0"))
    code, report, out = check(repo, "--base", "main")
    assert code == 0, out


def test_version_never_decreases_and_signature_break_needs_major(repo: Repo) -> None:
    sig = {"inputs": [{"name": "amount", "type": "float64"}], "outputs": [{"name": "score", "type": "float64"}]}
    repo.manifest("m", version="2.0.0", signature=sig)
    feature(repo)
    repo.manifest("m", version="1.9.0", signature=sig)
    assert messages(check(repo, "--base", "main")[1], "version-bump") == ["version decreased from 2.0.0 to 1.9.0"]
    retyped = {**sig, "inputs": [{"name": "amount", "type": "string"}]}
    repo.manifest("m", version="2.1.0", artifact_bytes=b"new", signature=retyped)
    assert messages(check(repo, "--base", "main")[1], "version-bump") == [
        "incompatible signature change (input 'amount' retyped float64 -> string) needs a major version above 2"
    ]
    repo.manifest("m", version="3.0.0", artifact_bytes=b"new", signature=retyped)
    assert check(repo, "--base", "main")[0] == 0


def test_reused_version_with_new_bytes_fails(repo: Repo) -> None:
    repo.manifest("m", version="1.0.0", artifact_bytes=b"first")
    repo.commit("1.0.0")
    (repo.root / "m" / "modelgate.yaml").unlink()
    feature(repo)  # main: the manifest was deleted again
    repo.manifest("m", version="1.0.0", artifact_bytes=b"second")
    code, report, _ = check(repo, "--base", "main")
    assert code == 1
    [message] = messages(report, "version-immutable")
    assert message.startswith("fraud-detector@1.0.0 had other artifacts in ")
    assert message.endswith("(2026-11-01, m/modelgate.yaml); a version's bytes never change")


def test_regression_against_production_fails(repo: Repo) -> None:
    repo.manifest("v1", version="1.0.0", **production_fields(metrics={"auc": {"value": 0.93, "goal": "maximize"}}))
    repo.manifest("v2", version="2.0.0", artifact_bytes=b"v2",
                  **production_fields(stage="staging", metrics={"auc": {"value": 0.91, "goal": "maximize"}}))
    feature(repo)
    auc = {"auc": {"value": 0.93, "goal": "maximize"}}
    repo.manifest("v1", version="1.0.0", **production_fields(stage="archived", metrics=auc))
    repo.manifest("v2", version="2.0.0", artifact_bytes=b"v2",
                  **production_fields(metrics={"auc": {"value": 0.91, "goal": "maximize"}}))
    code, report, _ = check(repo, "--base", "main")
    assert code == 1
    assert messages(report, "no-metric-regression") == [
        "auc regressed: 0.91 vs 0.93 in fraud-detector@1.0.0, in production on the base (maximize, tolerance 0)"
    ]


def test_promotion_that_lowers_the_policy_threshold_fails_against_the_base_policy(repo: Repo) -> None:
    policy = """\
        apiVersion: modelgate/v1
        kind: Policy
        name: acme
        extends: [builtin:default]
        rules:
          - {{check: metric-threshold, stages: [production], with: {{metric: auc, min: {min}}}}}
        """
    repo.write(".modelgate.yaml", "policies: [policy.yaml]\n")
    repo.write("policy.yaml", policy.format(min=0.95))
    repo.manifest("m", **production_fields(stage="staging"))
    feature(repo)
    repo.write("policy.yaml", policy.format(min=0.5))  # the change lowers its own bar
    repo.manifest("m", **production_fields())
    code, report, out = check(repo, "--base", "main")
    assert code == 1
    assert messages(report, "metric-threshold") == ["auc = 0.93 is below the minimum 0.95"]
    assert "policy-changed: policy.yaml differs from the base" in out
    assert report["policies"] == [
        {"path": "builtin:default", "sha256": report["policies"][0]["sha256"], "source": "builtin"},
        {"path": "policy.yaml", "sha256": report["policies"][1]["sha256"], "source": "base"},
    ]


def test_rename_is_followed(repo: Repo) -> None:
    repo.manifest("old", **staging_fields())
    feature(repo)
    repo.git("mv", "old", "new")
    code, report, out = check(repo, "--base", "main")
    assert code == 0, out
    assert report["manifests"][0] == {**report["manifests"][0], "path": "new/modelgate.yaml", "base_stage": "staging"}


def test_deleting_the_production_manifest_fails(repo: Repo) -> None:
    repo.manifest("m", **production_fields())
    repo.manifest("s", name="other", **staging_fields())
    feature(repo)
    (repo.root / "m" / "modelgate.yaml").unlink()
    code, report, _ = check(repo, "--base", "main")
    assert code == 1
    assert messages(report, "manifest-removed") == [
        "fraud-detector@1.0.0 was in 'production' and its manifest was deleted"
    ]
    assert [r["manifest"] for r in report["results"] if r["name"] == "manifest-removed"] == ["m/modelgate.yaml"]


def test_rollback_only_to_a_former_production_version(repo: Repo) -> None:
    repo.manifest("m", **production_fields())
    repo.commit("in production")
    repo.manifest("m", **production_fields(stage="archived"))
    repo.manifest("n", version="2.0.0", artifact_bytes=b"n", **production_fields(stage="archived"))
    feature(repo)
    repo.manifest("m", **production_fields())
    assert check(repo, "--base", "main")[0] == 0
    repo.manifest("m", **production_fields(stage="archived"))
    repo.manifest("n", version="2.0.0", artifact_bytes=b"n", **production_fields())
    code, report, _ = check(repo, "--base", "main")
    assert code == 1
    assert messages(report, "rollback") == [
        "fraud-detector@2.0.0 was never in 'production' on the base branch; it cannot be rolled back to"
    ]


def test_branch_stage(repo: Repo) -> None:
    repo.write(".modelgate.yaml", "policies: [p.yaml]\n")
    repo.write("p.yaml", "apiVersion: modelgate/v1\nkind: Policy\nname: p\nextends: [builtin:default]\n"
               "branches: {release: production}\n")
    repo.manifest("m", **production_fields(stage="staging"))
    repo.commit("base")
    repo.git("branch", "release")
    repo.git("checkout", "-q", "-b", "promote")
    report = check(repo, "--base", "release")[1]
    assert messages(report, "branch-stage") == [
        "on branch 'release' every manifest must be in 'production', not 'staging'"
    ]
    repo.manifest("m", **production_fields())
    assert messages(check(repo, "--base", "release")[1], "branch-stage") == []


def test_github_base_ref_is_used_inside_a_pull_request(repo: Repo) -> None:
    repo.manifest("m")
    repo.commit("base")
    repo.git("update-ref", "refs/remotes/origin/main", "HEAD")
    repo.git("checkout", "-q", "-b", "feature")
    repo.manifest("m", **production_fields())
    code, report, _ = check(repo, env={"GITHUB_BASE_REF": "main"})
    assert code == 1
    assert report["git"]["base"] == repo.git("rev-parse", "main")
    assert messages(report, "stage-transition")


def test_without_base_change_rules_are_skipped(repo: Repo) -> None:
    repo.manifest("m")
    code, report, _ = check(repo)
    assert code == 0
    skipped = {r["name"]: r["message"] for r in report["results"] if r["outcome"] == "skipped"}
    assert skipped["stage-transition"] == "no base: run with --base REF (CI uses the pull request's base)"
    assert report["git"]["base"] is None


@pytest.mark.parametrize("ref", ["--output=/tmp/modelgate-pwned", "-p", "main; rm -rf /", "$(id)", "\x1b[2J"])
def test_hostile_ref_is_exit_4_and_writes_nothing(repo: Repo, ref: str) -> None:
    repo.manifest("m")
    repo.commit("base")
    proc = repo.run("check", f"--base={ref}", "--json", "r.json")
    assert proc.returncode == 4
    assert proc.stderr.startswith("modelgate: error: base ")
    assert "is not a commit in this repository" in proc.stderr
    assert not (repo.root / "r.json").exists()
    assert "\x1b" not in proc.stderr
    import os

    assert not os.path.exists("/tmp/modelgate-pwned")


def test_shallow_clone_missing_the_base_is_exit_4_with_the_fix(repo: Repo, tmp_path: Any) -> None:
    repo.manifest("m")
    repo.commit("one")
    repo.manifest("m", version="1.0.1", artifact_bytes=b"two")
    repo.commit("two")
    base = repo.git("rev-parse", "HEAD~1")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repo.root}", str(clone)], check=True)
    proc = Repo(clone).run("check", "--base", base)
    assert proc.returncode == 4
    assert "is not in this shallow clone" in proc.stderr
    assert "fetch-depth: 0" in proc.stderr and f"git fetch origin {base}" in proc.stderr


def test_changed_selects_changed_manifests_and_their_models(repo: Repo) -> None:
    repo.manifest("a", name="model-a")
    repo.manifest("b", name="model-b")
    repo.manifest("b2", name="model-b", version="2.0.0", artifact_bytes=b"b2")
    feature(repo)
    code, report, out = check(repo, "--changed", "--base", "main")
    assert (code, report["manifests"]) == (0, []), out
    (repo.root / "b" / "model.bin").write_bytes(b"edited")  # an artifact change selects its manifest
    code, report, _ = check(repo, "--changed")
    assert code == 1
    assert [m["path"] for m in report["manifests"]] == ["b/modelgate.yaml", "b2/modelgate.yaml"]


def test_base_without_git_is_a_usage_error(tmp_path: Any) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / ".modelgate.yaml").write_text("{}\n")
    proc = Repo(tmp_path).run("check", "--base", "main")
    assert proc.returncode == 4
    assert "needs a git repository" in proc.stderr
