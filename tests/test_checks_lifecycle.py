"""MG401 stage-valid, MG402 exclusive-stage, MG403 alias-unique, MG409 alias-protected."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Repo, check_in_process, production_fields, staging_fields
from tests.test_approvals_evidence import keypair, signed_commit


@pytest.mark.parametrize(
    ("stage", "message"),
    [
        (
            "Production",
            "stage 'Production' is not one of ['none', 'staging', 'production', 'archived',"
            " 'rejected'] (policy default); did you mean 'production'?",
        ),
        (
            "production ",
            "stage 'production ' is not one of ['none', 'staging', 'production', 'archived',"
            " 'rejected'] (policy default); did you mean 'production'?",
        ),
        (
            "\u0440roduction",
            "stage '\\u0440roduction' is not one of ['none', 'staging', 'production',"
            " 'archived', 'rejected'] (policy default); did you mean 'production'?",
        ),
        (
            "canary",
            "stage 'canary' is not one of ['none', 'staging', 'production', 'archived', 'rejected'] (policy default)",
        ),
    ],
)
def test_unknown_stage(repo: Repo, capsys: pytest.CaptureFixture[str], stage: str, message: str) -> None:
    repo.manifest("m", stage=stage)
    report = check_in_process(repo, capsys=capsys)
    assert report.code == 1
    assert report.messages("MG401") == [message]


def test_known_stage_passes(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.manifest("m", stage="rejected")
    assert check_in_process(repo, capsys=capsys).outcomes("MG401") == ["passed"]


def test_two_versions_in_production_fail(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    lock = {"environment": {"lockfile": {"path": "model.bin", "sha256": "0" * 64}}}
    for folder, version in (("v1", "1.0.0"), ("v2", "2.0.0")):
        fields = staging_fields(stage="production", version=version)
        fields["lineage"] = {**fields["lineage"], **lock}
        repo.manifest(folder, **fields)
    report = check_in_process(repo, capsys=capsys)
    assert report.messages("MG402") == [
        "fraud-detector@2.0.0 (v2/modelgate.yaml) is also in exclusive stage 'production'",
        "fraud-detector@1.0.0 (v1/modelgate.yaml) is also in exclusive stage 'production'",
    ]


def test_one_version_per_exclusive_stage_passes(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.manifest("v1", version="1.0.0", **{k: v for k, v in staging_fields().items()})
    repo.manifest("v2", version="2.0.0", **{k: v for k, v in staging_fields().items()})
    report = check_in_process(repo, capsys=capsys)
    assert report.outcomes("MG402") == ["passed", "passed"]  # staging is not exclusive
    assert report.code == 0, report.out


def test_alias_on_two_versions_fails(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.manifest("v1", version="1.0.0", aliases=["champion"])
    repo.manifest("v2", version="2.0.0", aliases=["champion", "challenger", "challenger"])
    report = check_in_process(repo, capsys=capsys)
    assert report.messages("MG403") == [
        "alias 'champion' is also on fraud-detector@2.0.0 (v2/modelgate.yaml)",
        "alias 'champion' is also on fraud-detector@1.0.0 (v1/modelgate.yaml)",
        "alias 'challenger' is listed twice",
    ]


def test_same_alias_on_different_models_is_fine(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.manifest("a", name="model-a", aliases=["champion"])
    repo.manifest("b", name="model-b", aliases=["champion"])
    assert check_in_process(repo, capsys=capsys).outcomes("MG403") == ["passed", "passed"]


ALIAS_POLICY = (
    "apiVersion: modelgate/v1\nkind: Policy\nname: acme\nextends: [builtin:default]\n"
    "aliases: {champion: {requires: production}}\n"
)


def _alias_results(repo: Repo, *args: str) -> tuple[int, list[tuple[str, str]], str]:
    """The installed command's alias-protected results: (outcome, message)."""
    proc = repo.run("check", "--json", "../aliases.json", *args)
    report = json.loads((repo.root.parent / "aliases.json").read_text())
    return (
        proc.returncode,
        [(r["outcome"], r["message"]) for r in report["results"] if r["name"] == "alias-protected"],
        proc.stdout + proc.stderr,
    )


def test_a_protected_alias_names_only_a_version_in_its_stage(repo: Repo) -> None:
    repo.write(".modelgate.yaml", "policies: [policy.yaml]\n")
    repo.write("policy.yaml", ALIAS_POLICY)
    repo.manifest("m", **staging_fields(aliases=["champion", "candidate"]))
    code, found, out = _alias_results(repo)
    assert code == 1, out
    assert found == [
        (
            "failed",
            "alias 'champion' is protected (policy acme): it may name only a version in"
            " 'production', and fraud-detector@1.0.0 is in 'staging'",
        )
    ]
    repo.manifest("m", **staging_fields(aliases=["candidate"]))  # an unprotected alias goes anywhere
    assert _alias_results(repo)[:2] == (0, [("passed", "ok")])


def test_a_policy_naming_an_unknown_stage_for_an_alias_is_a_config_error(repo: Repo) -> None:
    repo.write(".modelgate.yaml", "policies: [policy.yaml]\n")
    repo.write("policy.yaml", ALIAS_POLICY.replace("requires: production", "requires: prod"))
    repo.manifest("m")
    proc = repo.run("check")
    assert proc.returncode == 4
    assert "policy.yaml:5:" in proc.stderr and "protected alias 'champion' names stage 'prod'" in proc.stderr


@pytest.fixture
def champion(repo: Repo, tmp_path: Path) -> dict[str, Any]:
    """main: 1.0.0 in production without an alias, signed-commits approvals, champion protected;
    feature: the author puts champion on 1.0.0."""
    keys = {name: keypair(tmp_path, name) for name in ("reviewer", "author")}
    repo.write("policy.yaml", ALIAS_POLICY)
    repo.write(".modelgate.yaml", "policies: [policy.yaml]\napprovals: {provider: signed-commits}\n")
    repo.write(".github/allowed_signers", "".join(f"{who}@acme.io {keys[who][1]}\n" for who in keys))
    repo.manifest("m", **production_fields())
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.manifest("m", **production_fields(aliases=["champion"]))
    repo.git("add", "-A")
    signed_commit(repo, None, "author@acme.io", "make 1.0.0 the champion")
    return {"repo": repo, "keys": keys}


def test_moving_a_protected_alias_needs_the_approvals_of_its_stage(champion: dict[str, Any]) -> None:
    repo, keys = champion["repo"], champion["keys"]
    code, found, out = _alias_results(repo, "--base", "main", "--ci")
    assert code == 1, out
    assert found == [
        (
            "failed",
            "moving protected alias 'champion' to fraud-detector@1.0.0 needs 1 verified"
            " approval(s) for fraud-detector@1.0.0 -> production, has 0",
        )
    ]
    # The author's own signed approval does not count; a reviewer's does.
    trailer = "Approved-by: fraud-detector@1.0.0 -> production"
    signed_commit(repo, keys["author"][0], "author@acme.io", f"approve\n\n{trailer}")
    code, found, out = _alias_results(repo, "--base", "main", "--ci")
    assert code == 1 and found[0][0] == "failed" and "author@acme.io: authored this change" in found[0][1], out
    sha = signed_commit(repo, keys["reviewer"][0], "reviewer@acme.io", f"LGTM\n\n{trailer}")
    code, found, out = _alias_results(repo, "--base", "main", "--ci")
    assert code == 0, out
    [(outcome, message)] = found
    assert outcome == "passed"
    assert message.startswith(f"'champion' moved here: approved by reviewer@acme.io (commit {sha} signed with")
    # Once merged, the alias stands: a later change that keeps it needs nothing more for it.
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--no-ff", "feature", "-m", "merge")
    repo.manifest("m", **production_fields(aliases=["champion"], tags={"team": "fraud"}))
    repo.commit("tag it")
    code, found, _ = _alias_results(repo, "--base", "HEAD~1")
    assert found == [("passed", "protected aliases unchanged since the base")]


def test_on_a_laptop_an_alias_move_is_verified_in_ci(champion: dict[str, Any]) -> None:
    repo = champion["repo"]
    repo.write(".modelgate.yaml", "policies: [policy.yaml]\n")  # no provider: as a laptop without one
    repo.commit("no provider")
    code, found, out = _alias_results(repo, "--base", "HEAD")
    assert found == [("passed", "protected aliases unchanged since the base")], out
    code, found, out = _alias_results(repo, "--base", "main", "--no-ci")
    assert found[0][0] == "failed"  # the provider of the base is configured: it answers on a laptop too
    code, found, out = _alias_results(repo)
    assert (code, found) == (
        0,
        [
            (
                "skipped",
                "no base: whether a protected alias moved is judged against a base"
                " (--base REF, or the pull request's base)",
            )
        ],
    ), out
