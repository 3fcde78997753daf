"""MG001 manifest-valid and MG002 unique-version."""

from __future__ import annotations

import pytest

from tests.conftest import Repo, check_in_process, sha256


def test_valid_manifest_passes_mg001(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.manifest("m")
    assert check_in_process(repo, capsys=capsys).outcomes("MG001") == ["passed"]


def test_invalid_manifest_fails_with_every_problem_and_nothing_else_runs(
    repo: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    text = "apiVersion: modelgate/v1\nkind: Model\nname: x\nstage: yes\nversion: 1.0\n"
    written = repo.write("m/modelgate.yaml", text)
    report = check_in_process(repo, capsys=capsys)
    assert report.code == 1
    assert {r["check"] for r in report.data["results"]} == {"MG001"}
    assert [(r["location"]["line"], r["message"]) for r in report.data["results"]] == [
        (1, "missing required key 'artifacts'"),
        (1, "missing required key 'owners'"),
        (4, "ambiguous value 'yes': quote it for a string, or use true/false"),
        (5, 'version must be a string, got 1.0; quote it: "1.0"'),
    ]
    assert report.data["manifests"] == [
        {
            "path": "m/modelgate.yaml",
            "name": None,
            "version": None,
            "stage": None,
            "base_stage": None,
            "sha256": sha256(written.read_bytes()),
            "replaces": None,
            "metrics": [],
        }
    ]


def test_invalid_manifest_fails_even_when_deselected(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write("m/modelgate.yaml", "kind: Model\n")
    report = check_in_process(repo, "--select", "MG3", "--ignore", "MG001", capsys=capsys)
    assert report.code == 1
    assert report.outcomes("MG001") == ["failed"] * 6


def test_duplicate_version_fails_in_both(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.manifest("a")
    repo.manifest("b")
    repo.manifest("c", version="1.0.1")
    report = check_in_process(repo, capsys=capsys)
    assert report.code == 1
    assert report.messages("MG002") == [
        "fraud-detector@1.0.0 is also declared in b/modelgate.yaml",
        "fraud-detector@1.0.0 is also declared in a/modelgate.yaml",
    ]
    assert report.outcomes("MG002", "c/modelgate.yaml") == ["passed"]


def test_uniqueness_sees_manifests_outside_the_checked_paths(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.manifest("a")
    repo.manifest("b")
    report = check_in_process(repo, "a", capsys=capsys)
    assert report.messages("MG002") == ["fraud-detector@1.0.0 is also declared in b/modelgate.yaml"]
