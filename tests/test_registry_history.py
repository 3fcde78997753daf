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
    assert repo.run("history", "x", "--ref", "--output=/tmp/x").returncode == 4


def test_history_of_an_unknown_model_is_exit_4_naming_the_models_there(repo: Repo) -> None:
    repo.write("README", "no models yet\n")
    repo.commit("start")
    proc = repo.run("history", "nobody")
    assert (proc.returncode, proc.stdout) == (4, "")
    assert (
        proc.stderr == "modelgate: error: history: no model 'nobody' in the history of HEAD; no manifest was"
        " ever committed there\n"
    )
    repo.manifest("m", version="1.0.0")
    repo.commit("add")
    for args in (("history", "fraud-detectr"), ("history", "fraud-detectr", "--json")):
        proc = repo.run(*args)
        assert (proc.returncode, proc.stdout) == (4, "")
        assert (
            proc.stderr == "modelgate: error: history: no model 'fraud-detectr' in the history of HEAD;"
            " models there: fraud-detector\n"
        )


def merged_feature_branch(repo: Repo) -> str:
    """main: 1.0.0 in staging; a feature branch promotes it to production, takes it back to
    staging, then to production again, and is merged with a merge commit. Returns the merge."""
    repo.manifest("m", **production_fields(stage="staging"))
    repo.commit("register", "2026-01-01T00:00:00Z", "Ana <ana@acme.io>")
    repo.git("checkout", "-q", "-b", "feature")
    repo.manifest("m", **production_fields())
    repo.commit("try production", "2026-01-02T00:00:00Z", "Bo <bo@acme.io>")
    repo.manifest("m", **production_fields(stage="staging"))
    repo.commit("not yet", "2026-01-03T00:00:00Z", "Bo <bo@acme.io>")
    repo.manifest("m", **production_fields())
    repo.commit("now", "2026-01-04T00:00:00Z", "Bo <bo@acme.io>")
    repo.git("checkout", "-q", "main")
    repo.write("README", "unrelated\n")
    repo.commit("meanwhile on main", "2026-01-05T00:00:00Z", "Cy <cy@acme.io>")
    env = {
        "GIT_AUTHOR_DATE": "2026-01-06T00:00:00Z",
        "GIT_COMMITTER_DATE": "2026-01-06T00:00:00Z",
        "GIT_AUTHOR_NAME": "Di",
        "GIT_AUTHOR_EMAIL": "di@acme.io",
    }
    repo.git("merge", "-q", "--no-ff", "feature", "-m", "Merge pull request #7", env=env)
    return repo.git("rev-parse", "HEAD")


def test_history_is_what_the_branch_saw(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The feature branch's intermediate commits are not promotions of main: main went from
    staging to production once, in the merge."""
    merge = merged_feature_branch(repo)
    data = json.loads(repo.run("history", "fraud-detector", "--json").stdout)
    assert [(s["version"], s["from_stage"], s["to_stage"], s["commit"], s["author"]) for s in data["steps"]] == [
        ("1.0.0", "(new)", "staging", repo.git("rev-parse", "main~2"), "Ana <ana@acme.io>"),
        ("1.0.0", "staging", "production", merge, "Di <di@acme.io>"),
    ]
    # The feature branch's own history is its first-parent line, intermediate commits included.
    assert history_json(repo, monkeypatch, capsys, "--ref", "feature") == [
        ("1.0.0", "(new)", "staging"),
        ("1.0.0", "staging", "production"),
        ("1.0.0", "production", "staging"),
        ("1.0.0", "staging", "production"),
    ]
    out = repo.run("history", "fraud-detector", "--at", "2026-01-03").stdout
    assert out.splitlines()[-1] == "on 2026-01-03: 1.0.0 staging"


def history_json(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> list[tuple[str, str, str]]:
    from modelgate.cli import main

    monkeypatch.chdir(repo.root)
    assert main(["history", "fraud-detector", "--json", *args]) == 0
    data = json.loads(capsys.readouterr().out)
    return [(s["version"], s["from_stage"], s["to_stage"]) for s in data["steps"]]


def test_a_rename_is_not_a_deletion(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    repo.manifest("a", **production_fields(stage="staging"))
    repo.commit("add")
    repo.git("mv", "a", "z")
    repo.commit("rename")
    repo.manifest("z", **production_fields())
    repo.commit("promote")
    assert history_json(repo, monkeypatch, capsys) == [
        ("1.0.0", "(new)", "staging"),
        ("1.0.0", "staging", "production"),
    ]


def test_a_version_edited_in_place_replaces_the_old_one(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    repo.manifest("m", version="1.0.0")
    repo.commit("add", "2026-01-01T00:00:00Z")
    repo.manifest("m", version="1.1.0", artifact_bytes=b"retrained")
    repo.commit("retrain in place", "2026-01-02T00:00:00Z")
    assert history_json(repo, monkeypatch, capsys) == [
        ("1.0.0", "(new)", "none"),
        ("1.1.0", "(new)", "none"),
        ("1.0.0", "none", "(deleted)"),
    ]
