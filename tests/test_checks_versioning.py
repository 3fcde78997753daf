"""MG501 semver."""

from __future__ import annotations

import pytest

from tests.conftest import Repo, check_in_process


@pytest.mark.parametrize("version", ["1.4.0", "2.0.0-rc.1", "1.0.0+build.7", "0.0.1"])
def test_semver_passes(repo: Repo, capsys: pytest.CaptureFixture[str], version: str) -> None:
    repo.manifest("m", version=version)
    assert check_in_process(repo, capsys=capsys).outcomes("MG501") == ["passed"]


@pytest.mark.parametrize("version", ["v1.4.0", "1.4", "latest", "01.0.0", "1.0.0-"])
def test_not_semver_fails(repo: Repo, capsys: pytest.CaptureFixture[str], version: str) -> None:
    repo.manifest("m", version=version)
    report = check_in_process(repo, capsys=capsys)
    assert report.code == 1
    assert report.messages("MG501") == [f"version {version!r} is not SemVer 2.0.0"]


def test_parent_version_must_be_semver(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.manifest("m", lineage={"parent": "fraud-detector@1.3"})
    assert check_in_process(repo, capsys=capsys).messages("MG501") == [
        "lineage.parent 'fraud-detector@1.3' does not end in a SemVer version"
    ]
