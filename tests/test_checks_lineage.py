"""MG201 required-fields, MG202 data-pinned, MG203 lockfile-hash."""

from __future__ import annotations

import pytest

from tests.conftest import Repo, check_in_process, sha256, staging_fields


def test_staging_with_full_lineage_passes(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.manifest("m", **staging_fields())
    report = check_in_process(repo, capsys=capsys)
    assert report.code == 0, report.out
    assert report.outcomes("MG201") == ["passed"]


def test_staging_without_lineage_lists_each_missing_field(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.manifest("m", stage="staging", lineage={"params": {}})
    report = check_in_process(repo, capsys=capsys)
    assert report.code == 1
    assert report.messages("MG201") == [
        "license is required at stage 'staging'",
        "lineage.code.commit is required at stage 'staging'",
        "lineage.data is required at stage 'staging'",
        "lineage.params is required at stage 'staging'",
    ]


def test_required_fields_do_not_apply_at_stage_none(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.manifest("m")
    assert check_in_process(repo, capsys=capsys).outcomes("MG201") == []


def test_production_needs_a_lockfile(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.manifest("m", **staging_fields(stage="production"))
    report = check_in_process(repo, capsys=capsys)
    assert "lineage.environment.lockfile is required at stage 'production'" in report.messages("MG201")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"name": "train", "uri": "s3://x"}, "data 'train' has neither sha256 nor revision"),
        (
            {"name": "train", "uri": "s3://x", "revision": "latest"},
            "data 'train' revision 'latest' moves; pin an immutable one",
        ),
        (
            {"name": "train", "uri": "s3://x", "revision": "main"},
            "data 'train' revision 'main' moves; pin an immutable one",
        ),
    ],
)
def test_unpinned_data_fails(
    repo: Repo, capsys: pytest.CaptureFixture[str], entry: dict[str, str], message: str
) -> None:
    repo.manifest("m", lineage={"data": [entry]})
    assert check_in_process(repo, capsys=capsys).messages("MG202") == [message]


def test_pinned_data_passes(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.manifest(
        "m",
        lineage={
            "data": [{"name": "a", "uri": "x", "sha256": "1" * 64}, {"name": "b", "uri": "y", "revision": "2026-10-01"}]
        },
    )
    assert check_in_process(repo, capsys=capsys).outcomes("MG202") == ["passed"]


def test_lockfile_hash(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write("m/requirements.lock", b"numpy==2.1.2\n")
    good = {"path": "requirements.lock", "sha256": sha256(b"numpy==2.1.2\n")}
    repo.manifest("m", lineage={"environment": {"lockfile": good}})
    assert check_in_process(repo, capsys=capsys).outcomes("MG203") == ["passed"]
    repo.write("m/requirements.lock", b"numpy==2.2.0\n")
    report = check_in_process(repo, capsys=capsys)
    assert report.messages("MG203") == [
        f"lockfile requirements.lock: sha256 mismatch: manifest says {good['sha256']},"
        f" file has {sha256(b'numpy==2.2.0' + bytes([10]))}"
    ]


def test_no_lockfile_is_skipped(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.manifest("m")
    assert check_in_process(repo, capsys=capsys).outcomes("MG203") == ["skipped"]
