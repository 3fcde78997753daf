"""MG401 stage-valid, MG402 exclusive-stage, MG403 alias-unique."""

from __future__ import annotations

import pytest

from tests.conftest import Repo, check_in_process, staging_fields


@pytest.mark.parametrize(
    ("stage", "message"),
    [
        ("Production", "stage 'Production' is not one of ['none', 'staging', 'production', 'archived',"
                       " 'rejected'] (policy default); did you mean 'production'?"),
        ("production ", "stage 'production ' is not one of ['none', 'staging', 'production', 'archived',"
                        " 'rejected'] (policy default); did you mean 'production'?"),
        ("\u0440roduction", "stage '\\u0440roduction' is not one of ['none', 'staging', 'production',"
                            " 'archived', 'rejected'] (policy default); did you mean 'production'?"),
        ("canary", "stage 'canary' is not one of ['none', 'staging', 'production', 'archived',"
                   " 'rejected'] (policy default)"),
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
