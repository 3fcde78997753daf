"""``modelgate promote``: the stage is edited in place and the gate runs as CI will."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import LOCK, Repo, extending_default, production_fields, sha256, staging_fields

POLICY = extending_default('{check: approvals, stages: [production], with: {min: 2, from: ["@acme/ml-leads"]}}')


def _registry(repo: Repo) -> None:
    repo.write(".modelgate.yaml", "policies: [governance/policy.yaml]\n")
    repo.write("governance/policy.yaml", POLICY)
    repo.manifest("models/fraud/1.0.0", **production_fields(), artifact_bytes=b"weights 1.0.0")
    repo.manifest("models/fraud/1.1.0", **staging_fields(version="1.1.0"), artifact_bytes=b"weights 1.1.0")
    repo.commit("1.0.0 in production, 1.1.0 in staging")


def test_dry_run_prints_what_is_still_missing(repo: Repo) -> None:
    _registry(repo)
    path = repo.root / "models/fraud/1.1.0/modelgate.yaml"
    before = path.read_bytes()
    result = repo.run("promote", "models/fraud/1.1.0/modelgate.yaml", "--to", "production", "--dry-run")
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    head = repo.git("rev-parse", "HEAD")
    assert lines[:5] == [
        "promote fraud-detector@1.1.0: staging -> production (models/fraud/1.1.0/modelgate.yaml)",
        "  and fraud-detector@1.0.0: production -> archived (models/fraud/1.0.0/modelgate.yaml):"
        " 'production' holds one version",
        f"checked as CI will: against main (merge-base {head[:12]})",
        "note: policy acme replaces builtin:default's approvals at production (governance/policy.yaml:6:5)",
        "still missing before this promotion can merge:",
    ]
    assert (
        "  - MG201 required-fields: lineage.environment.lockfile is required at stage 'production'"
        " (models/fraud/1.1.0/modelgate.yaml:18)"
    ) in lines
    assert lines[1:2] == [
        "  and fraud-detector@1.0.0: production -> archived (models/fraud/1.0.0/modelgate.yaml):"
        " 'production' holds one version"
    ]
    assert "MG402" not in result.stdout  # the incumbent leaves in the same change
    assert "verified in CI on the pull request (cannot be checked here):" in lines
    assert (
        "  - MG603 approvals: verified in CI: needs 2 verified approval(s) from @acme/ml-leads"
        " (no approvals provider is configured (config: approvals.provider))"
    ) in lines
    assert lines[-1] == (
        "dry run: models/fraud/1.1.0/modelgate.yaml and models/fraud/1.0.0/modelgate.yaml were not changed"
    )
    assert path.read_bytes() == before


def test_promote_edits_only_the_stage_and_passes_when_nothing_is_missing(repo: Repo) -> None:
    _registry(repo)
    path = repo.root / "models/fraud/1.0.0/modelgate.yaml"
    before = path.read_text()
    result = repo.run("promote", "models/fraud/1.0.0/modelgate.yaml", "--to", "archived")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == "models/fraud/1.0.0/modelgate.yaml: stage set to archived; commit it and open a pull request"
    assert lines[-2].startswith("nothing else missing: ") and lines[-2].endswith(" checks passed")
    assert "still missing" not in result.stdout
    assert path.read_text() == before.replace('"stage": "production"', '"stage": "archived"')


def test_a_transition_the_policy_forbids_is_missing_too(repo: Repo) -> None:
    _registry(repo)
    result = repo.run("promote", "models/fraud/1.0.0/modelgate.yaml", "--to", "staging", "--dry-run")
    assert result.returncode == 1
    assert "MG404 stage-transition: stage 'production' -> 'staging' is not allowed" in result.stdout


def test_an_unknown_stage_is_not_written(repo: Repo) -> None:
    _registry(repo)
    path = repo.root / "models/fraud/1.1.0/modelgate.yaml"
    before = path.read_bytes()
    result = repo.run("promote", "models/fraud/1.1.0/modelgate.yaml", "--to", "prod")
    assert result.returncode == 1
    assert "MG401 stage-valid: stage 'prod' is not one of" in result.stdout
    assert result.stdout.splitlines()[-1] == (
        "models/fraud/1.1.0/modelgate.yaml was not changed: 'prod' is not a stage of its policy"
    )
    assert path.read_bytes() == before


def test_usage_errors(repo: Repo) -> None:
    _registry(repo)
    same = repo.run("promote", "models/fraud/1.1.0/modelgate.yaml", "--to", "staging")
    assert (same.returncode, same.stderr) == (
        4,
        "modelgate: error: fraud-detector@1.1.0 is already at stage 'staging'\n",
    )
    other = repo.run("promote", "README.md", "--to", "staging")
    assert other.returncode == 4
    assert "README.md: not a manifest file" in other.stderr


def test_without_a_base_branch_the_change_rules_are_not_checked(repo: Repo) -> None:
    repo.manifest("m", **staging_fields(name="m"))
    result = repo.run("promote", "m/modelgate.yaml", "--to", "rejected", "--dry-run")
    assert result.returncode == 0, result.stdout
    assert result.stdout.splitlines()[1] == (
        "no base branch found: transition and change rules were not checked"
        " (pass --base, or set `base` in .modelgate.yaml)"
    )


def test_promote_asks_the_provider_a_rule_names_as_check_does(repo: Repo) -> None:
    """promote runs the session check runs, hook relay included: a rule naming the
    signed-commits provider is answered by that provider, never "no plugin provides"."""
    repo.write(
        "policy.yaml",
        extending_default("{check: approvals, stages: [production], with: {min: 1, provider: signed-commits}}"),
    )
    repo.write(".modelgate.yaml", "policies: [policy.yaml]\n")
    repo.manifest("m", **production_fields(stage="staging"))
    repo.commit("staging")
    promoted = repo.run("promote", "m/modelgate.yaml", "--to", "production", "--dry-run", "--base", "main")
    checked = repo.run("check", "--base", "main")
    assert "no plugin provides" not in promoted.stdout + promoted.stderr
    assert "no allowed-signers file .github/allowed_signers in the base commit" in promoted.stdout
    assert promoted.returncode == checked.returncode == 0


def _yaml_manifest(repo: Repo, folder: str, version: str, stage: str) -> str:
    """A hand-written manifest with comments, flow and block style, as a person lays it out."""
    artifact = repo.artifact(f"{folder}/model.bin", f"weights {version}".encode())
    repo.write(f"{folder}/requirements.lock", LOCK)
    text = (
        "# fraud model, retrained monthly\n"
        "apiVersion: modelgate/v1\nkind: Model\nname: fraud-detector\n"
        f'version: "{version}"   # bump on retrain\n'
        f"stage: {stage}        # promote with `modelgate promote`\n"
        "owners: ['@acme/fraud']\nlicense: Apache-2.0\n"
        f"artifacts:\n  - {{path: model.bin, sha256: {artifact['sha256']}, size: {artifact['size']}}}\n"
        "lineage:\n  code: {commit: " + "a" * 40 + "}\n"
        "  data:\n    - {name: train, uri: data/train.parquet, revision: '2026-10-01'}\n"
        "  params: {learning_rate: 0.05}\n"
        f"  environment:\n    lockfile: {{path: requirements.lock, sha256: {sha256(LOCK)}}}\n"
        "metrics:\n  auc: {value: 0.93, goal: maximize}   # holdout-2026-10\n"
    )
    repo.write(f"{folder}/modelgate.yaml", text)
    return text


def _two_versions(repo: Repo) -> tuple[str, str]:
    old = _yaml_manifest(repo, "models/fraud/1.0.0", "1.0.0", "production")
    new = _yaml_manifest(repo, "models/fraud/1.1.0", "1.1.0", "staging")
    repo.commit("1.0.0 in production, 1.1.0 in staging")
    repo.git("checkout", "-q", "-b", "promote-1.1.0")
    return old, new


def test_promote_into_production_moves_the_incumbent_to_archived(repo: Repo) -> None:
    """One version stands in production: promoting 1.1.0 there archives 1.0.0 in the same
    change, both files edited in place (comments, quoting and layout kept), and the gate
    passes on the result."""
    old, new = _two_versions(repo)
    incumbent, candidate = (repo.root / f"models/fraud/{v}/modelgate.yaml" for v in ("1.0.0", "1.1.0"))
    dry = repo.run("promote", "fraud-detector@1.1.0", "--to", "production", "--dry-run")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    lines = dry.stdout.splitlines()
    assert lines[:2] == [
        "promote fraud-detector@1.1.0: staging -> production (models/fraud/1.1.0/modelgate.yaml)",
        "  and fraud-detector@1.0.0: production -> archived (models/fraud/1.0.0/modelgate.yaml):"
        " 'production' holds one version",
    ]
    assert "still missing" not in dry.stdout
    assert lines[-1] == (
        "dry run: models/fraud/1.1.0/modelgate.yaml and models/fraud/1.0.0/modelgate.yaml were not changed"
    )
    assert (incumbent.read_text(), candidate.read_text()) == (old, new)

    done = repo.run("promote", "fraud-detector@1.1.0", "--to", "production")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[-2:] == [
        "models/fraud/1.0.0/modelgate.yaml: stage set to archived",
        "models/fraud/1.1.0/modelgate.yaml: stage set to production; commit them and open a pull request",
    ]
    assert incumbent.read_text() == old.replace("stage: production        #", "stage: archived        #")
    assert candidate.read_text() == new.replace("stage: staging        #", "stage: production        #")
    repo.commit("promote 1.1.0")
    check = repo.run("check", "--base", "main")
    assert check.returncode == 0, check.stdout
    assert "[fraud-detector@1.0.0 production -> archived]" in check.stdout
    assert "[fraud-detector@1.1.0 staging -> production]" in check.stdout


def test_promote_by_path_moves_the_incumbent_too_and_names_unknown_versions(repo: Repo) -> None:
    _two_versions(repo)
    done = repo.run("promote", "models/fraud/1.1.0/modelgate.yaml", "--to", "production")
    assert done.returncode == 0, done.stdout + done.stderr
    data: Any = json.loads(repo.run("list", "--json").stdout)
    rows = data if isinstance(data, list) else data["models"]
    assert sorted((r["version"], r["stage"]) for r in rows) == [("1.0.0", "archived"), ("1.1.0", "production")]
    unknown = repo.run("promote", "fraud-detector@9.9.9", "--to", "production")
    assert (unknown.returncode, unknown.stderr) == (
        4,
        "modelgate: error: fraud-detector@9.9.9: no manifest of fraud-detector version 9.9.9 in the work tree;"
        " it has 1.0.0, 1.1.0\n",
    )


def test_a_stage_that_is_not_exclusive_moves_nobody(repo: Repo) -> None:
    _two_versions(repo)
    _yaml_manifest(repo, "models/fraud/1.2.0", "1.2.0", "none")
    before = (repo.root / "models/fraud/1.1.0/modelgate.yaml").read_text()
    done = repo.run("promote", "fraud-detector@1.2.0", "--to", "staging", "--dry-run")
    assert "  and " not in done.stdout and done.stdout.splitlines()[-1] == (
        "dry run: models/fraud/1.2.0/modelgate.yaml was not changed"
    )
    assert (repo.root / "models/fraud/1.1.0/modelgate.yaml").read_text() == before
