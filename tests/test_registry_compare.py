"""``modelgate compare NAME``: every version side by side (stage, date, parent, metrics with
the best marked by goal, params that differ) in the terminal, Markdown and JSON."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import REPO, Repo, production_fields, staging_fields

README = REPO / "README.md"


def version(
    repo: Repo, number: str, stage: str, auc: float, latency: float, params: dict[str, Any], parent: str | None = None
) -> None:
    fields = (production_fields if stage in ("production", "archived") else staging_fields)(
        version=number,
        stage=stage,
        metrics={
            "auc": {"value": auc, "goal": "maximize"},
            "latency_ms": {"value": latency, "goal": "minimize"},
            "f1": round(auc - 0.05, 3),
        },
    )
    fields["lineage"]["params"] = {"n_estimators": 400, **params}
    if parent:
        fields["lineage"]["parent"] = f"fraud-detector@{parent}"
    repo.manifest(f"models/fraud/{number}", **fields, artifact_bytes=number.encode())


def rollout(repo: Repo) -> None:
    """1.0.0 -> 1.1.0 -> 1.2.0 in production, then back to 1.1.0; 1.3.0-rc.1 not committed yet."""
    v10, v11, v12 = {"lr": 0.1, "depth": 4}, {"lr": 0.05, "depth": 6}, {"lr": 0.03, "depth": 8}
    version(repo, "1.0.0", "production", 0.9, 18.0, v10)
    repo.commit("1.0.0", "2026-01-10T10:00:00Z")
    version(repo, "1.1.0", "staging", 0.918, 15.5, v11, "1.0.0")
    repo.commit("1.1.0", "2026-02-03T10:00:00Z")
    version(repo, "1.0.0", "archived", 0.9, 18.0, v10)
    version(repo, "1.1.0", "production", 0.918, 15.5, v11, "1.0.0")
    repo.commit("1.1.0 to production", "2026-02-20T10:00:00Z")
    version(repo, "1.2.0", "staging", 0.931, 21.0, v12, "1.1.0")
    repo.commit("1.2.0", "2026-03-15T10:00:00Z")
    repo.git("tag", "before-1.2.0")
    version(repo, "1.1.0", "archived", 0.918, 15.5, v11, "1.0.0")
    version(repo, "1.2.0", "production", 0.931, 21.0, v12, "1.1.0")
    repo.commit("1.2.0 to production", "2026-04-01T10:00:00Z")
    version(repo, "1.2.0", "archived", 0.931, 21.0, v12, "1.1.0")
    version(repo, "1.1.0", "production", 0.918, 15.5, v11, "1.0.0")
    repo.commit("roll back to 1.1.0: 1.2.0 is too slow", "2026-04-03T10:00:00Z")
    version(repo, "1.3.0-rc.1", "staging", 0.927, 14.2, {"lr": 0.04, "depth": 7}, "1.1.0")


def test_compare_in_the_terminal(repo: Repo) -> None:
    rollout(repo)
    result = repo.run("compare", "fraud-detector")
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "fraud-detector: 4 versions in the work tree\n"
        "version     stage       date         parent                auc (max)  f1 (?)  latency_ms (min)  depth  lr"
        "    notes\n"
        "1.0.0       archived    2026-01-10   -                     0.9        0.85    18                4      0.1"
        "   was in production\n"
        "1.1.0       production  2026-02-03   fraud-detector@1.0.0  0.918      0.868   15.5              6      0.05"
        "  rollback 2026-04-03\n"
        "1.2.0       archived    2026-03-15   fraud-detector@1.1.0  0.931*     0.881   21                8      0.03"
        "  was in production\n"
        "1.3.0-rc.1  staging     uncommitted  fraud-detector@1.1.0  0.927      0.877   14.2*             7      0.04\n"
        "* best by the metric's goal (max: higher is better, min: lower is better)\n"
        "f1: no goal declared, no best marked\n"
    )
    assert f"```text\n$ modelgate compare fraud-detector\n{result.stdout}```\n" in README.read_text()


def test_reports_to_files_and_standard_output(repo: Repo) -> None:
    rollout(repo)
    result = repo.run("compare", "fraud-detector", "--json", "-", "--markdown", "compare.md", "--html", "c.html")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)  # the report alone: no terminal table around it
    assert data["metrics"] == [
        {"name": "auc", "goal": "maximize", "best": ["1.2.0"], "note": None},
        {"name": "f1", "goal": None, "best": [], "note": "no goal declared"},
        {"name": "latency_ms", "goal": "minimize", "best": ["1.3.0-rc.1"], "note": None},
    ]
    assert data["params_differ"] == ["depth", "lr"]  # n_estimators is the same everywhere
    rows = {v["version"]: v for v in data["versions"]}
    assert list(rows) == ["1.0.0", "1.1.0", "1.2.0", "1.3.0-rc.1"]
    assert rows["1.1.0"] == {
        "version": "1.1.0",
        "stage": "production",
        "date": "2026-02-03T10:00:00Z",
        "parent": "fraud-detector@1.0.0",
        "aliases": [],
        "manifest": "models/fraud/1.1.0/modelgate.yaml",
        "production": True,
        "was_production": True,
        "rollbacks": ["2026-04-03T10:00:00Z"],
        "metrics": {
            "auc": {"value": 0.918, "best": False},
            "f1": {"value": 0.868, "best": False},
            "latency_ms": {"value": 15.5, "best": False},
        },
        "params": {"depth": 6, "lr": 0.05},
    }
    assert (rows["1.3.0-rc.1"]["date"], rows["1.3.0-rc.1"]["was_production"]) == (None, False)
    markdown = (repo.root / "compare.md").read_text()
    assert markdown.splitlines()[:3] == [
        "### fraud\\-detector: 4 versions in the work tree",
        "",
        "| version | stage | date | parent | auc \\(max\\) | f1 \\(?\\) | latency\\_ms \\(min\\) | depth | lr"
        " | notes |",
    ]
    assert (
        "| 1\\.2\\.0 | archived | 2026\\-03\\-15 | `fraud-detector@1.1.0` | **0\\.931** (best) | 0\\.881"
        " | 21 | 8 | 0\\.03 | was in production |"
    ) in markdown.splitlines()
    assert markdown.endswith("\n- f1: no goal declared, no best marked\n")
    assert (repo.root / "c.html").read_text().startswith("<!DOCTYPE html>")


def test_goals_that_disagree_mark_no_best(repo: Repo) -> None:
    repo.manifest("a", **staging_fields(version="1.0.0", metrics={"auc": {"value": 0.9, "goal": "maximize"}}))
    repo.manifest("b", **staging_fields(version="1.1.0", metrics={"auc": {"value": 0.8, "goal": "minimize"}}))
    repo.commit("two")
    data = json.loads(repo.run("compare", "fraud-detector", "--json", "-").stdout)
    assert data["metrics"] == [
        {"name": "auc", "goal": None, "best": [], "note": "goals disagree: maximize vs minimize"}
    ]
    text = repo.run("compare", "fraud-detector").stdout
    assert "*" not in text.splitlines()[2] + text.splitlines()[3]
    assert text.endswith("auc: goals disagree: maximize vs minimize, no best marked\n")


def test_compare_at_a_ref_reads_its_versions_and_history(repo: Repo) -> None:
    rollout(repo)
    result = repo.run("compare", "fraud-detector", "--ref", "before-1.2.0", "--json", "-")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["commit"] == repo.git("rev-parse", "before-1.2.0")
    assert [(v["version"], v["stage"], v["rollbacks"]) for v in data["versions"]] == [
        ("1.0.0", "archived", []),
        ("1.1.0", "production", []),
        ("1.2.0", "staging", []),
    ]
    assert repo.run("compare", "fraud-detector", "--ref", "before-1.2.0").stdout.startswith(
        f"fraud-detector: 3 versions at before-1.2.0 ({data['commit'][:12]})\n"
    )


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (
            ["fraud-detectr"],
            1,
            "no model named 'fraud-detectr' (did you mean 'fraud-detector'?); models: fraud-detector",
        ),
        (
            ["fraud-detector", "--ref", "mian"],
            4,
            "ref 'mian' is not a commit in this repository; check the name, or `git fetch` it (did you mean 'main'?)",
        ),
        (
            ["fraud-detector", "--json", "-", "--html", "-"],
            4,
            "--json and --html: only one report can go to standard output (-)",
        ),
    ],
)
def test_errors(repo: Repo, args: list[str], code: int, message: str) -> None:
    rollout(repo)
    result = repo.run("compare", *args)
    assert (result.returncode, result.stdout) == (code, "")
    assert result.stderr.startswith(f"modelgate: error: {message}"), result.stderr


def test_a_report_that_cannot_be_written_is_exit_4(repo: Repo) -> None:
    rollout(repo)
    result = repo.run("compare", "fraud-detector", "--html", "no/such/folder/page.html")
    assert result.returncode == 4
    assert result.stderr.startswith("modelgate: error: cannot write report no/such/folder/page.html")
    assert not (repo.root / "no").exists()


def test_an_invalid_manifest_that_may_be_a_version_is_refused(repo: Repo) -> None:
    rollout(repo)
    repo.write("models/fraud/1.4.0/modelgate.yaml", "name: fraud-detector\nversion: 1.4.0\n")
    result = repo.run("compare", "fraud-detector")
    assert (result.returncode, result.stdout) == (1, "")
    assert "models/fraud/1.4.0/modelgate.yaml is not a valid manifest" in result.stderr
