"""Change rules against a base, in real repositories: main holds the base, a feature
branch the change, and the installed command judges it."""

from __future__ import annotations

import json
import subprocess
import textwrap
from typing import Any

import pytest

from tests.conftest import REPO, Repo, Report, check_installed, production_fields, sha256, staging_fields


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
    repo.manifest(
        "v2",
        version="2.0.0",
        artifact_bytes=b"v2",
        **production_fields(stage="staging", metrics={"auc": {"value": 0.91, "goal": "maximize"}}),
    )
    feature(repo)
    auc = {"auc": {"value": 0.93, "goal": "maximize"}}
    repo.manifest("v1", version="1.0.0", **production_fields(stage="archived", metrics=auc))
    repo.manifest(
        "v2",
        version="2.0.0",
        artifact_bytes=b"v2",
        **production_fields(metrics={"auc": {"value": 0.91, "goal": "maximize"}}),
    )
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
    # The digests name the bytes that were applied: the shipped pack and the base's policy
    # (min 0.95), not the change's.
    base_policy = textwrap.dedent(policy.format(min=0.95)).encode()
    assert report["policies"] == [
        {
            "path": "builtin:default",
            "sha256": sha256((REPO / "modelgate" / "policies" / "default.yaml").read_bytes()),
            "source": "builtin",
        },
        {"path": "policy.yaml", "sha256": sha256(base_policy), "source": "base"},
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


def test_the_changes_manifest_globs_do_not_hide_the_bases_manifests(repo: Repo) -> None:
    """The base's manifests are found by the base's config: a change that narrows `manifests:`
    to elsewhere still has its deletion of the production manifest seen."""
    repo.manifest("m", **production_fields())
    repo.manifest("s", name="other", **staging_fields())
    feature(repo)
    (repo.root / "m" / "modelgate.yaml").unlink()
    repo.write(".modelgate.yaml", 'manifests: ["s/**"]\n')
    code, report, _ = check(repo, "--base", "main")
    assert code == 1
    assert messages(report, "manifest-removed") == [
        "fraud-detector@1.0.0 was in 'production' and its manifest was deleted"
    ]


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


def _merge(repo: Repo, branch: str) -> None:
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--no-ff", branch, "-m", f"Merge {branch}")


def test_a_version_in_production_only_inside_a_merged_branch_cannot_be_rolled_back_to(repo: Repo) -> None:
    """The base branch's history is its first-parent line: a side branch that put 2.0.0 in
    production for one commit, and took it out again before it was merged, never made 2.0.0
    a production version of main."""
    repo.manifest("v1", **production_fields())
    repo.manifest("v2", version="2.0.0", artifact_bytes=b"v2", **production_fields(stage="staging"))
    repo.commit("main")
    repo.git("checkout", "-q", "-b", "side")
    repo.manifest("v1", **production_fields(stage="archived"))
    repo.manifest("v2", version="2.0.0", artifact_bytes=b"v2", **production_fields())
    repo.commit("2.0.0 in production, on the side branch only")
    repo.manifest("v1", **production_fields())
    repo.manifest("v2", version="2.0.0", artifact_bytes=b"v2", **production_fields(stage="archived"))
    repo.commit("and out again")
    _merge(repo, "side")
    repo.git("checkout", "-q", "-b", "feature")
    repo.manifest("v1", **production_fields(stage="archived"))
    repo.manifest("v2", version="2.0.0", artifact_bytes=b"v2", **production_fields())
    repo.commit("roll back to 2.0.0")
    code, report, _ = check(repo, "--base", "main")
    assert code == 1
    assert messages(report, "rollback") == [
        "fraud-detector@2.0.0 was never in 'production' on the base branch; it cannot be rolled back to"
    ]


def test_bytes_corrected_before_a_branch_was_merged_were_never_the_versions_bytes(repo: Repo) -> None:
    """A pull request that fixed its own artifact before merging published one set of bytes
    for 2.0.0; every later change must not find 'other artifacts' in its intermediate commit."""
    repo.manifest("v1", **production_fields(stage="staging"))
    repo.commit("main")
    repo.git("checkout", "-q", "-b", "add-v2")
    repo.manifest("v2", version="2.0.0", artifact_bytes=b"first try", **production_fields(stage="none"))
    repo.commit("2.0.0")
    repo.manifest("v2", version="2.0.0", artifact_bytes=b"the right bytes", **production_fields(stage="none"))
    repo.commit("2.0.0: the right file")
    _merge(repo, "add-v2")
    repo.git("checkout", "-q", "-b", "feature")
    repo.manifest("v2", version="2.0.0", artifact_bytes=b"the right bytes", **production_fields(stage="staging"))
    repo.commit("2.0.0 to staging")
    code, report, out = check(repo, "--base", "main")
    assert code == 0, out
    assert set(Report(code, report, out).outcomes("version-immutable")) == {"passed"}


def test_branch_stage(repo: Repo) -> None:
    repo.write(".modelgate.yaml", "policies: [p.yaml]\n")
    repo.write(
        "p.yaml",
        "apiVersion: modelgate/v1\nkind: Policy\nname: p\nextends: [builtin:default]\n"
        "branches: {release: production}\n",
    )
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


def test_the_pull_requests_base_comes_from_the_event_payload(repo: Repo) -> None:
    repo.manifest("m")
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.manifest("m", **production_fields())
    event = repo.root.parent / "event.json"
    event.write_text(
        json.dumps({"pull_request": {"number": 7, "base": {"ref": "main", "sha": repo.git("rev-parse", "main")}}})
    )
    code, report, _ = check(
        repo, env={"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": str(event)}
    )
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


# -- in-process: the passing side of every rule, code-commit, base resolution ------------

POLICY = """\
    apiVersion: modelgate/v1
    kind: Policy
    name: p
    extends: [builtin:default]
    rules:
    """


def policy(repo: Repo, *rules: str) -> None:
    repo.write(".modelgate.yaml", "policies: [p.yaml]\n")
    repo.write("p.yaml", POLICY + "".join(f"  - {r}\n" for r in rules))


def test_promotion_may_change_aliases_and_tags(repo: Repo) -> None:
    repo.manifest("m", **production_fields(stage="staging"))
    feature(repo)
    repo.manifest("m", aliases=["champion"], tags={"ticket": "RISK-1"}, **production_fields())
    report = check_installed(repo, "--base", "main")
    assert report.code == 0, report.out
    assert report.outcomes("promotion-immutable") == ["passed"]
    assert report.outcomes("stage-transition") == ["passed"]


def test_retraining_with_a_version_bump_keeps_the_stage(repo: Repo) -> None:
    repo.manifest("m", **staging_fields())
    feature(repo)
    repo.manifest("m", version="1.0.1", artifact_bytes=b"retrained", **staging_fields())
    report = check_installed(repo, "--base", "main")
    assert report.code == 0, report.out
    assert [report.outcomes(c) for c in ("version-bump", "version-immutable", "promotion-immutable")] == [
        ["passed"],
        ["passed"],
        ["passed"],
    ]


def test_the_same_version_with_the_same_bytes_may_reappear(repo: Repo) -> None:
    repo.manifest("m", artifact_bytes=b"first")
    repo.commit("1.0.0")
    (repo.root / "m" / "modelgate.yaml").unlink()
    feature(repo)
    repo.manifest("m", artifact_bytes=b"first")
    report = check_installed(repo, "--base", "main")
    assert report.outcomes("version-immutable") == ["passed"]


def test_deleting_a_manifest_outside_production_passes(repo: Repo) -> None:
    repo.manifest("m", **staging_fields())
    repo.manifest("n", name="other", **staging_fields())
    feature(repo)
    (repo.root / "m" / "modelgate.yaml").unlink()
    report = check_installed(repo, "--base", "main")
    assert report.code == 0, report.out
    assert report.outcomes("manifest-removed") == ["passed"]


def test_regression_against_the_base_version_of_the_same_manifest(repo: Repo) -> None:
    policy(repo, "{check: no-metric-regression, stages: [staging], with: {tolerance: 0.01}}")
    metrics = {"auc": {"value": 0.93, "goal": "maximize"}, "latency_ms": {"value": 10, "goal": "minimize"}}
    repo.manifest("m", **staging_fields(metrics=metrics))
    feature(repo)

    def retrain(auc: float, latency: float) -> Report:
        retrained = {"auc": {"value": auc, "goal": "maximize"}, "latency_ms": {"value": latency, "goal": "minimize"}}
        repo.manifest("m", version="1.1.0", artifact_bytes=b"retrained", **staging_fields(metrics=retrained))
        return check_installed(repo, "--base", "main")

    within = retrain(0.925, 10.005)
    assert (within.code, within.outcomes("no-metric-regression")) == (0, ["passed"])
    worse = retrain(0.91, 12)
    assert worse.code == 1
    assert worse.messages("no-metric-regression") == [
        "auc regressed: 0.91 vs 0.93 in the base (fraud-detector@1.0.0) (maximize, tolerance 0.01)",
        "latency_ms regressed: 12 vs 10 in the base (fraud-detector@1.0.0) (minimize, tolerance 0.01)",
    ]
    assert [r["location"]["line"] for r in worse.data["results"] if r["name"] == "no-metric-regression"] == [34, 38]


def test_a_named_metric_missing_from_the_change_fails(repo: Repo) -> None:
    policy(repo, "{check: no-metric-regression, stages: [staging], with: {metric: auc}}")
    repo.manifest("m", **staging_fields())
    feature(repo)
    repo.manifest("m", version="1.1.0", artifact_bytes=b"retrained", **staging_fields(metrics={"f1": 0.9}))
    report = check_installed(repo, "--base", "main")
    assert report.messages("no-metric-regression") == [
        "metric 'auc' is missing, so it cannot be compared with the base (fraud-detector@1.0.0)"
    ]


def test_a_better_model_replacing_production_passes(repo: Repo) -> None:
    repo.manifest("v1", **production_fields())
    repo.manifest(
        "v2",
        version="2.0.0",
        artifact_bytes=b"v2",
        **production_fields(stage="staging", metrics={"auc": {"value": 0.95, "goal": "maximize"}}),
    )
    feature(repo)
    repo.manifest("v1", **production_fields(stage="archived"))
    repo.manifest(
        "v2",
        version="2.0.0",
        artifact_bytes=b"v2",
        **production_fields(metrics={"auc": {"value": 0.95, "goal": "maximize"}}),
    )
    report = check_installed(repo, "--base", "main")
    assert report.code == 0, report.out
    assert report.outcomes("no-metric-regression", "v2/modelgate.yaml") == ["passed"]


def code_repo(repo: Repo) -> tuple[str, str]:
    """A policy with ``code-commit`` at staging; returns (a commit on main, one on a side branch)."""
    policy(repo, "{check: code-commit, stages: [staging]}")
    repo.write("train.py", "print('train')\n")
    trained = repo.commit("training code", "2026-01-01T00:00:00Z")
    repo.git("checkout", "-q", "-b", "side")
    repo.write("train.py", "print('experiment')\n")
    side = repo.commit("unmerged experiment", "2026-01-02T00:00:00Z")
    repo.git("checkout", "-q", "main")
    return trained, side


def code_manifest(repo: Repo, commit: str, url: str | None = None) -> None:
    fields = staging_fields()
    code = {"commit": commit, **({"repo": url} if url else {})}
    fields["lineage"] = {**fields["lineage"], "code": code}
    repo.manifest("m", **fields)


def test_code_commit_in_history_passes(repo: Repo) -> None:
    trained, _ = code_repo(repo)
    code_manifest(repo, trained)
    report = check_installed(repo)
    assert (report.code, report.outcomes("code-commit")) == (0, ["passed"])


def test_code_commit_that_does_not_exist_or_is_not_merged_fails(repo: Repo) -> None:
    _, side = code_repo(repo)
    code_manifest(repo, "b" * 40)
    report = check_installed(repo)
    assert report.code == 1
    assert report.messages("code-commit") == ["commit bbbbbbbbbbbb does not exist in this repository"]
    assert report.result("code-commit")["location"]["line"] == 20
    code_manifest(repo, side)
    assert check_installed(repo).messages("code-commit") == [f"commit {side[:12]} is not an ancestor of HEAD"]


def test_code_commit_in_another_repository_is_skipped(repo: Repo) -> None:
    code_repo(repo)
    repo.git("remote", "add", "origin", "git@github.com:acme/models.git")
    code_manifest(repo, "b" * 40, "https://github.com/acme/training")
    report = check_installed(repo)
    assert (report.outcomes("code-commit"), report.messages("code-commit")) == (
        ["skipped"],
        ["the code lives in https://github.com/acme/training, not in this repository"],
    )
    code_manifest(repo, "b" * 40, "https://github.com/acme/models")  # the same repository, spelled otherwise
    assert check_installed(repo).outcomes("code-commit") == ["failed"]


def test_code_commit_beyond_a_shallow_clone_says_so(repo: Repo, tmp_path: Any) -> None:
    trained, _ = code_repo(repo)
    code_manifest(repo, trained)
    repo.commit("manifest")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repo.root}", str(clone)], check=True)
    report = check_installed(Repo(clone))
    assert report.code == 1
    assert report.messages("code-commit") == [
        f"commit {trained[:12]} is not in this shallow clone; history too shallow to tell"
        " (actions/checkout: fetch-depth: 0)"
    ]


def test_compares_with_the_merge_base_and_reads_policy_from_the_base_tip(repo: Repo) -> None:
    repo.manifest("m", **production_fields(stage="staging"))
    repo.commit("fork point")
    repo.git("branch", "feature")
    # main moves on after the branch was made: m is promoted and the policy tightened.
    repo.manifest("m", **production_fields())
    policy(repo, "{check: metric-threshold, stages: [staging], with: {metric: auc, min: 0.99}}")
    repo.commit("main moves on")
    repo.git("checkout", "-q", "feature")
    repo.manifest("n", name="other", **staging_fields())
    report = check_installed(repo, "--base", "main")
    assert report.data["git"]["merge_base"] == repo.git("rev-parse", "main~1")
    # m is unchanged by this branch: judged against the merge-base, it did not move.
    assert [(m["path"], m["stage"], m["base_stage"]) for m in report.data["manifests"]] == [
        ("m/modelgate.yaml", "staging", "staging"),
        ("n/modelgate.yaml", "staging", None),
    ]
    assert report.messages("stage-transition") == []
    # ...and the policy that applies is the base branch's newest one.
    assert report.messages("metric-threshold") == [
        "auc = 0.93 is below the minimum 0.99",
        "auc = 0.93 is below the minimum 0.99",
    ]


def test_base_resolution_order(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a laptop: --base > MODELGATE_BASE > config `base`. In CI: --base > MODELGATE_BASE
    > the event payload; the work tree's config never chooses (it is the change's)."""
    repo.manifest("m")
    first = repo.commit("first")
    repo.manifest("m", **staging_fields(stage="none"))
    second = repo.commit("second")
    repo.write(".modelgate.yaml", f"base: {first}\n")

    def base(*args: str) -> str | None:
        value: str | None = check_installed(repo, *args).data["git"]["base"]
        return value

    assert base() == first  # config
    monkeypatch.setenv("GITHUB_BASE_REF", "no-such-branch")  # not a source: only two events set it
    assert base() == first
    monkeypatch.setenv("MODELGATE_BASE", second)
    assert base() == second  # MODELGATE_BASE beats config
    assert base("--base", first) == first  # --base beats both
    assert base("--base", "none") is None
    monkeypatch.delenv("MODELGATE_BASE")
    event = repo.root.parent / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 7, "base": {"ref": "main", "sha": second}}}))
    for name, value in {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": "pull_request_review",
        "GITHUB_EVENT_PATH": str(event),
    }.items():
        monkeypatch.setenv(name, value)
    assert base() == second  # in CI the event, never the work tree's config
    monkeypatch.setenv("MODELGATE_BASE", first)
    assert base() == first
    assert base("--base", second) == second


def test_changed_without_base_and_nothing_changed_is_nothing_to_gate(repo: Repo) -> None:
    repo.manifest("m")
    repo.commit("clean")
    report = check_installed(repo, "--changed")
    assert (report.code, report.data["manifests"]) == (0, [])
    repo.manifest("m", version="1.0.1", artifact_bytes=b"staged")
    repo.git("add", "m")
    report = check_installed(repo, "--changed")
    assert (report.code, [m["version"] for m in report.data["manifests"]]) == (0, ["1.0.1"])


def test_production_manifest_edited_in_place_to_a_new_version_fails(repo: Repo) -> None:
    repo.manifest("m", **production_fields())
    feature(repo)
    # Retrained and relabelled in place: the new bytes would reach production without staging.
    repo.manifest("m", version="1.1.0", artifact_bytes=b"retrained", **production_fields())
    report = check_installed(repo, "--base", "main")
    assert report.code == 1
    assert report.messages("stage-transition") == [
        "a new version (fraud-detector@1.1.0, edited in place of fraud-detector@1.0.0) cannot enter at 'production';"
        " it enters at 'none' or 'staging' or 'rejected' (policy default)"
    ]
    assert report.messages("manifest-removed") == [
        "fraud-detector@1.0.0 was in 'production' and its manifest was edited in place: replaced by"
        " fraud-detector@1.1.0 (m/modelgate.yaml)"
    ]
    assert report.outcomes("version-bump") == ["passed"]
    assert [r["name"] for r in report.data["results"] if r["outcome"] == "failed"] == [
        "stage-transition",
        "manifest-removed",
    ]


def test_a_version_edited_in_place_is_one_failure_not_a_promotion_nobody_made(repo: Repo) -> None:
    """Retrained in place and set back to staging: the production record vanished, which
    manifest-removed forbids, once; no "promotion" of fields that a new version rightly has."""
    repo.manifest("m", **production_fields(description="v1"))
    feature(repo)
    repo.manifest(
        "m",
        version="1.1.0",
        artifact_bytes=b"retrained",
        **production_fields(
            stage="staging",
            description="v2",
            metrics={"auc": {"value": 0.95, "goal": "maximize"}},
            lineage={
                "code": {"commit": "b" * 40},
                "data": [{"name": "train", "uri": "d", "revision": "2026-11-01"}],
                "params": {"learning_rate": 0.1},
            },
        ),
    )
    repo.commit("retrain in place")
    code, report, out = check(repo, "--base", "main")
    assert code == 1, out
    failed = [(r["name"], r["message"]) for r in report["results"] if r["outcome"] == "failed"]
    assert failed == [
        (
            "manifest-removed",
            "fraud-detector@1.0.0 was in 'production' and its manifest was edited in"
            " place: replaced by fraud-detector@1.1.0 (m/modelgate.yaml)",
        )
    ]
    assert (
        "hint: restore fraud-detector@1.0.0's manifest (archive it once another version replaces it) and add"
        " fraud-detector@1.1.0 in a manifest of its own" in out
    )
    progress = next(line for line in out.splitlines() if line.startswith("m/modelgate.yaml "))
    marks, label = progress.removeprefix("m/modelgate.yaml ").split("  ", 1)
    assert (marks.count("F"), label) == (1, "[fraud-detector@1.1.0 staging, edited in place of fraud-detector@1.0.0]")
    entry = report["manifests"][0]
    assert (entry["base_stage"], entry["replaces"]) == (None, "fraud-detector@1.0.0")


def test_a_staging_version_retrained_in_place_passes(repo: Repo) -> None:
    """In place below production is allowed: the new version enters at staging, above the old one."""
    repo.manifest("m", **production_fields(stage="staging"))
    feature(repo)
    repo.manifest("m", version="1.1.0", artifact_bytes=b"retrained", **production_fields(stage="staging"))
    code, report, out = check(repo, "--base", "main")
    assert code == 0, out
    assert [r["name"] for r in report["results"] if r["outcome"] == "failed"] == []


def test_an_archived_version_edited_in_place_into_production_is_no_rollback(repo: Repo) -> None:
    repo.manifest("m", **production_fields(stage="archived"))
    feature(repo)
    repo.manifest("m", version="1.1.0", artifact_bytes=b"retrained", **production_fields())
    code, report, out = check(repo, "--base", "main")
    assert code == 1, out
    assert [r["name"] for r in report["results"] if r["outcome"] == "failed"] == ["stage-transition"]


def test_an_unreadable_manifest_is_invalid_not_removed(repo: Repo) -> None:
    repo.manifest("m", **production_fields())
    feature(repo)
    repo.write("m/modelgate.yaml", "apiVersion: modelgate/v1\nkind: [\n")
    report = check_installed(repo, "--base", "main")
    assert report.code == 1
    assert report.outcomes("manifest-removed") == []
    assert report.outcomes("manifest-valid") == ["failed"]


def auc(value: float, goal: str | None = "maximize", name: str = "auc") -> dict[str, Any]:
    return {name: {"value": value, **({"goal": goal} if goal else {})}}


def promote_v2(repo: Repo, metrics: dict[str, Any]) -> tuple[int, dict[str, Any], str]:
    """On a branch of main: v1 leaves production, v2 (with ``metrics``) replaces it."""
    repo.git("checkout", "-q", "-b", "promote")
    repo.manifest("v1", **production_fields(stage="archived"))
    repo.manifest("v2", version="2.0.0", artifact_bytes=b"v2", **production_fields(metrics=metrics))
    repo.commit("promote v2")
    return check(repo, "--base", "main")


def test_a_goal_flipped_in_an_earlier_change_does_not_open_the_way_for_a_regression(repo: Repo) -> None:
    """PR 1 registers v2 in staging with auc's goal flipped (no regression rule at staging);
    PR 2 promotes it over production v1: auc is compared by v1's goal, so 0.80 is worse."""
    repo.manifest("v1", **production_fields(metrics=auc(0.93)))
    repo.commit("v1 in production")
    repo.manifest(
        "v2", version="2.0.0", artifact_bytes=b"v2", **production_fields(stage="staging", metrics=auc(0.80, "minimize"))
    )
    repo.commit("PR 1: v2 to staging")
    code, report, out = promote_v2(repo, auc(0.80, "minimize"))
    assert code == 1, out
    assert messages(report, "no-metric-regression") == [
        "auc regressed: 0.8 vs 0.93 in fraud-detector@1.0.0, in production on the base (maximize, tolerance 0);"
        " its goal is minimize here but maximize there, and the version compared with sets the terms"
    ]


def test_a_metric_renamed_in_an_earlier_change_fails_the_comparison(repo: Repo) -> None:
    repo.manifest("v1", **production_fields(metrics=auc(0.93)))
    repo.commit("v1 in production")
    renamed = auc(0.80, name="auc_holdout")
    repo.manifest("v2", version="2.0.0", artifact_bytes=b"v2", **production_fields(stage="staging", metrics=renamed))
    repo.commit("PR 1: v2 to staging, auc renamed")
    code, report, out = promote_v2(repo, renamed)
    assert code == 1, out
    assert messages(report, "no-metric-regression") == [
        "metric 'auc' is missing, so it cannot be compared with fraud-detector@1.0.0, in production on the base"
    ]


@pytest.mark.parametrize(
    ("edited", "expected"),
    [
        (
            auc(0.93, "minimize"),
            "auc: its goal is minimize here but maximize in the base (fraud-detector@1.0.0), and the"
            " version compared with sets the terms",
        ),
        (
            auc(0.93, None),
            "auc: its goal is none here but maximize in the base (fraud-detector@1.0.0), and the version"
            " compared with sets the terms",
        ),
        (
            auc(0.93, name="roc_auc"),
            "metric 'auc' is missing, so it cannot be compared with the base (fraud-detector@1.0.0)",
        ),
    ],
    ids=["goal-flipped", "goal-dropped", "renamed"],
)
def test_changing_the_terms_of_the_version_in_production_fails(
    repo: Repo, edited: dict[str, Any], expected: str
) -> None:
    """Flipping, dropping or renaming in place is itself caught: otherwise the version in
    production would carry the new terms into every later comparison."""
    repo.manifest("v1", **production_fields(metrics=auc(0.93)))
    feature(repo)
    repo.manifest("v1", **production_fields(metrics=edited))
    repo.commit("PR 1: edit the production version's metrics")
    code, report, out = check(repo, "--base", "main")
    assert code == 1, out
    assert messages(report, "no-metric-regression") == [expected]


def test_the_policy_may_name_the_goal(repo: Repo) -> None:
    """``with: {metric: auc, goal: maximize}``: neither version's goal matters, not even
    when the version compared with declares none."""
    policy(repo, "{check: no-metric-regression, stages: [production], with: {metric: auc, goal: maximize}}")
    repo.manifest("v1", **production_fields(metrics={"auc": 0.93}))
    repo.manifest(
        "v2", version="2.0.0", artifact_bytes=b"v2", **production_fields(stage="staging", metrics=auc(0.80, "minimize"))
    )
    repo.commit("v1 in production, v2 in staging")
    code, report, out = promote_v2(repo, auc(0.80, "minimize"))
    assert code == 1, out
    assert messages(report, "no-metric-regression") == [
        "auc regressed: 0.8 vs 0.93 in fraud-detector@1.0.0, in production on the base (maximize, tolerance 0)"
    ]


def test_a_named_metric_is_compared_only_by_a_goal_the_candidate_did_not_set(repo: Repo) -> None:
    """The version compared with declares no goal: the candidate cannot supply one."""
    policy(repo, "{check: no-metric-regression, stages: [production], with: {metric: auc}}")
    repo.manifest("v1", **production_fields(metrics={"auc": 0.93}))
    repo.manifest(
        "v2", version="2.0.0", artifact_bytes=b"v2", **production_fields(stage="staging", metrics=auc(0.80, "minimize"))
    )
    repo.commit("v1 in production, v2 in staging")
    code, report, out = promote_v2(repo, auc(0.80, "minimize"))
    assert code == 1, out
    assert messages(report, "no-metric-regression") == [
        "metric 'auc' has no goal (maximize|minimize) in fraud-detector@1.0.0, in production on the base to compare"
        " by; name it in the policy (with: {metric: auc, goal: ...})"
    ]


def test_a_goal_without_a_metric_is_a_policy_error(repo: Repo) -> None:
    policy(repo, "{check: no-metric-regression, stages: [production], with: {goal: maximize}}")
    repo.manifest("v1", **production_fields())
    repo.commit("v1")
    code, _, out = check(repo)
    assert code == 4, out
    assert "goal needs metric" in out


AMOUNT = {"inputs": [{"name": "amount", "type": "float64"}], "outputs": [{"name": "score", "type": "float64"}]}
RETYPED = {**AMOUNT, "inputs": [{"name": "amount", "type": "string"}]}


def _version(repo: Repo, version: str, signature: dict[str, Any], **fields: Any) -> None:
    """models/fraud/<version>/: the README's folder-per-version layout."""
    repo.manifest(
        f"models/fraud/{version}",
        version=version,
        signature=signature,
        artifact_bytes=f"weights {version}".encode(),
        **fields,
    )


def test_a_new_version_folder_is_compared_with_the_highest_lower_version(repo: Repo) -> None:
    _version(repo, "1.0.0", RETYPED)  # an old signature, superseded by 1.1.0's
    _version(repo, "1.1.0", AMOUNT)
    _version(repo, "3.0.0", RETYPED)  # higher: not what 1.2.0 follows
    feature(repo)
    _version(repo, "1.2.0", RETYPED)
    code, report, out = check(repo, "--base", "main")
    assert code == 1, out
    assert messages(report, "version-bump") == [
        "incompatible signature change (input 'amount' retyped float64 -> string) since fraud-detector@1.1.0,"
        " the highest lower version at the base, needs a major version above 1"
    ]
    [failed] = [r for r in report["results"] if r["name"] == "version-bump" and r["outcome"] == "failed"]
    assert failed["manifest"] == "models/fraud/1.2.0/modelgate.yaml"
    (repo.root / "models/fraud/1.2.0/modelgate.yaml").unlink()
    _version(repo, "2.0.0", RETYPED)  # a major bump
    code, report, out = check(repo, "--base", "main")
    assert code == 0, out
    assert messages(report, "version-bump") == []


def test_a_new_version_follows_its_lineage_parent(repo: Repo) -> None:
    _version(repo, "1.0.0", AMOUNT)
    _version(repo, "1.1.0", RETYPED)  # a break the base already holds
    feature(repo)
    # Derived from 1.0.0: compared with it, not with 1.1.0.
    _version(repo, "1.2.0", RETYPED, lineage={"parent": "fraud-detector@1.0.0"})
    code, report, out = check(repo, "--base", "main")
    assert code == 1, out
    assert messages(report, "version-bump") == [
        "incompatible signature change (input 'amount' retyped float64 -> string) since fraud-detector@1.0.0,"
        " its lineage.parent, needs a major version above 1"
    ]
    _version(repo, "1.2.0", AMOUNT, lineage={"parent": "fraud-detector@1.0.0"})
    assert check(repo, "--base", "main")[0] == 0
    # A parent of another model, or one the base lacks, leaves the highest lower version in charge.
    for parent in ("churn@1.0.0", "fraud-detector@0.9.0"):
        _version(repo, "1.2.0", AMOUNT, lineage={"parent": parent})
        assert messages(check(repo, "--base", "main")[1], "version-bump") == [
            "incompatible signature change (input 'amount' retyped string -> float64) since fraud-detector@1.1.0,"
            " the highest lower version at the base, needs a major version above 1"
        ], parent


def test_a_first_version_or_a_zero_major_has_nothing_to_break(repo: Repo) -> None:
    repo.manifest("models/other/0.1.0", name="other", version="0.1.0", signature=AMOUNT)
    feature(repo)
    _version(repo, "1.0.0", RETYPED)  # the first fraud-detector: no predecessor
    repo.manifest("models/other/0.2.0", name="other", version="0.2.0", signature=RETYPED)  # 0.y.z may break
    code, report, out = check(repo, "--base", "main")
    assert code == 0, out
    assert messages(report, "version-bump") == []
