"""``modelgate history``: the promotion timeline from git, answering "what was in
production on date X, and who promoted it"."""

from __future__ import annotations

import json

import pytest

from tests.conftest import Repo, production_fields


def five_promotions(repo: Repo) -> None:
    repo.manifest("v1", version="1.0.0", **production_fields(stage="staging"))
    repo.commit("register 1.0.0", "2026-01-05T09:00:00Z", "Ana <ana@acme.io>")
    repo.manifest("v1", version="1.0.0", **production_fields())
    repo.commit("promote 1.0.0", "2026-02-01T09:00:00Z", "Bo <bo@acme.io>")
    repo.manifest("v2", version="2.0.0", artifact_bytes=b"v2", **production_fields(stage="staging"))
    repo.commit("register 2.0.0", "2026-03-01T09:00:00Z", "Ana <ana@acme.io>")
    repo.manifest("v1", version="1.0.0", **production_fields(stage="archived"))
    repo.manifest("v2", version="2.0.0", artifact_bytes=b"v2", **production_fields())
    repo.commit("promote 2.0.0", "2026-04-01T09:00:00Z", "Cy <cy@acme.io>")
    repo.manifest("v2", version="2.0.0", artifact_bytes=b"v2", **production_fields(stage="archived"))
    repo.manifest("v1", version="1.0.0", **production_fields())
    repo.commit("roll back to 1.0.0", "2026-05-01T09:00:00Z", "Bo <bo@acme.io>")


def test_timeline_of_five_promotions(repo: Repo) -> None:
    five_promotions(repo)
    proc = repo.run("history", "fraud-detector")
    assert proc.returncode == 0, proc.stderr
    rows = [line.split() for line in proc.stdout.splitlines()]
    assert [(r[0], r[3], r[4], r[6], r[7]) for r in rows] == [
        ("2026-01-05", "1.0.0", "(new)", "staging", "Ana"),
        ("2026-02-01", "1.0.0", "staging", "production", "Bo"),
        ("2026-03-01", "2.0.0", "(new)", "staging", "Ana"),
        ("2026-04-01", "1.0.0", "production", "archived", "Cy"),
        ("2026-04-01", "2.0.0", "staging", "production", "Cy"),
        ("2026-05-01", "1.0.0", "archived", "production", "Bo"),
        ("2026-05-01", "2.0.0", "production", "archived", "Bo"),
    ]


def test_what_was_in_production_on_a_date(repo: Repo) -> None:
    five_promotions(repo)
    out = repo.run("history", "fraud-detector", "--at", "2026-04-15").stdout
    assert out.splitlines()[-1] == "on 2026-04-15: 1.0.0 archived, 2.0.0 production"
    data = json.loads(repo.run("history", "fraud-detector", "--json", "--at", "2026-02-15").stdout)
    assert data["at"] == {"date": "2026-02-15", "stages": {"1.0.0": "production"}}
    promoted = [s for s in data["steps"] if s["to_stage"] == "production" and s["version"] == "1.0.0"]
    assert promoted[0]["author"] == "Bo <bo@acme.io>"
    assert promoted[0]["commit"] == repo.git("rev-list", "-n1", "--before=2026-02-02", "HEAD")


def test_deleted_manifest_and_unknown_model(repo: Repo) -> None:
    repo.manifest("m", version="1.0.0")
    repo.commit("add", "2026-01-01T00:00:00Z")
    (repo.root / "m" / "modelgate.yaml").unlink()
    repo.commit("drop", "2026-01-02T00:00:00Z")
    data = json.loads(repo.run("history", "fraud-detector", "--json").stdout)
    assert [(s["from_stage"], s["to_stage"]) for s in data["steps"]] == [("(new)", "none"), ("none", "(deleted)")]
    assert repo.run("history", "nobody").stdout == "no history for model 'nobody' in HEAD\n"
    assert repo.run("history", "x", "--ref", "--output=/tmp/x").returncode == 4


def history_json(repo: Repo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                 *args: str) -> list[tuple[str, str, str]]:
    from modelgate.cli import main

    monkeypatch.chdir(repo.root)
    assert main(["history", "fraud-detector", "--json", *args]) == 0
    data = json.loads(capsys.readouterr().out)
    return [(s["version"], s["from_stage"], s["to_stage"]) for s in data["steps"]]


def test_a_rename_is_not_a_deletion(repo: Repo, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    repo.manifest("a", **production_fields(stage="staging"))
    repo.commit("add")
    repo.git("mv", "a", "z")
    repo.commit("rename")
    repo.manifest("z", **production_fields())
    repo.commit("promote")
    assert history_json(repo, monkeypatch, capsys) == [("1.0.0", "(new)", "staging"),
                                                        ("1.0.0", "staging", "production")]


def test_a_version_edited_in_place_replaces_the_old_one(repo: Repo, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    repo.manifest("m", version="1.0.0")
    repo.commit("add", "2026-01-01T00:00:00Z")
    repo.manifest("m", version="1.1.0", artifact_bytes=b"retrained")
    repo.commit("retrain in place", "2026-01-02T00:00:00Z")
    assert history_json(repo, monkeypatch, capsys) == [
        ("1.0.0", "(new)", "none"), ("1.1.0", "(new)", "none"), ("1.0.0", "none", "(deleted)")]
