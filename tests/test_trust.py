"""With a base, the gate's own files come from the base commit; a change that edits them is
told that its edit applies after merge (``policy-changed``), and is judged without it."""

from __future__ import annotations

import pytest

from tests.conftest import Repo, check_in_process, production_fields, staging_fields

LAX = """\
    apiVersion: modelgate/v1
    kind: Policy
    name: lax
    stages: [none, staging, production, archived, rejected]
    transitions: {none: [production]}
    """


def notices(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith("notice: ")]


def test_config_added_by_the_change_does_not_apply(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.manifest("m")
    repo.commit("base without configuration")
    repo.git("checkout", "-q", "-b", "feature")
    repo.write(".modelgate.yaml", "policies: [lax.yaml]\n")
    repo.write("lax.yaml", LAX)
    repo.manifest("m", **production_fields())
    report = check_in_process(repo, "--base", "main", capsys=capsys)
    assert report.code == 1
    assert [p["path"] for p in report.data["policies"]] == ["builtin:default"]
    assert report.messages("stage-transition") == [
        "stage 'none' -> 'production' is not allowed; from 'none' a model may move to 'staging',"
        " 'rejected' (policy default)"
    ]
    assert notices(report.out) == [
        "notice: policy-changed: .modelgate.yaml differs from the base; this check used the base version,"
        " the edit takes effect after merge"
    ]


def test_the_work_tree_config_applies_without_a_base(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write(".modelgate.yaml", "policies: [lax.yaml]\n")
    repo.write("lax.yaml", LAX)
    repo.manifest("m")
    report = check_in_process(repo, capsys=capsys)
    assert report.data["policies"][0]["source"] == "worktree"
    assert notices(report.out) == []


def test_pyproject_edits_outside_the_tool_table_are_not_policy_changes(
    repo: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    repo.write("pyproject.toml", '[project]\nname = "x"\nversion = "1"\n\n[tool.modelgate]\nmanifests = ["**"]\n')
    repo.manifest("m", **staging_fields())
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("pyproject.toml", '[project]\nname = "x"\nversion = "2"\n\n[tool.modelgate]\nmanifests = ["**"]\n')
    report = check_in_process(repo, "--base", "main", capsys=capsys)
    assert (report.code, notices(report.out)) == (0, [])
    repo.write("pyproject.toml", '[project]\nname = "x"\nversion = "2"\n\n[tool.modelgate]\nmanifests = ["m/*"]\n')
    report = check_in_process(repo, "--base", "main", capsys=capsys)
    assert notices(report.out) == [
        "notice: policy-changed: pyproject.toml differs from the base; this check used the base version,"
        " the edit takes effect after merge"
    ]


def test_a_policy_added_to_a_configured_folder_is_noticed_and_not_applied(
    repo: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    repo.write(".modelgate.yaml", "policies: [policies]\n")
    repo.write("policies/acme.yaml", "apiVersion: modelgate/v1\nkind: Policy\nname: acme\n"
               "extends: [builtin:default]\nmatch: {names: [other-*]}\n")
    repo.manifest("m")
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("policies/0-lax.yaml", LAX)
    repo.manifest("m", **production_fields())
    report = check_in_process(repo, "--base", "main", capsys=capsys)
    assert report.code == 1
    assert [(p["path"], p["source"]) for p in report.data["policies"]] == [
        ("builtin:default", "builtin"), ("policies/acme.yaml", "base")]
    assert notices(report.out) == [
        "notice: policy-changed: policies/0-lax.yaml differs from the base; this check used the base version,"
        " the edit takes effect after merge"
    ]


def test_an_unchanged_configuration_gives_no_notice(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write(".modelgate.yaml", "policies: [p.yaml]\n")
    repo.write("p.yaml", "apiVersion: modelgate/v1\nkind: Policy\nname: p\nextends: [builtin:default]\n")
    repo.manifest("m", **staging_fields(stage="none"))
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.manifest("m", **staging_fields())
    report = check_in_process(repo, "--base", "main", capsys=capsys)
    assert (report.code, notices(report.out)) == (0, [])
    assert [(p["path"], p["source"]) for p in report.data["policies"]] == [
        ("builtin:default", "builtin"), ("p.yaml", "base")]


def test_an_over_limit_policy_at_the_base_is_a_config_error(repo: Repo) -> None:
    repo.write(".modelgate.yaml", "policies: [p.yaml]\n")
    repo.write("p.yaml", "# " + "x" * (1024 * 1024) + "\n")
    repo.manifest("m")
    repo.commit("base")
    proc = repo.run("check", "--base", "main")
    assert proc.returncode == 4, proc.stderr
    assert "p.yaml:1:1: file is larger than 1024 KiB at the base commit" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_an_edited_policy_reached_through_extends_is_noticed(
    repo: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    """Only the configured policy is named in the configuration; the one it extends is known
    from the policies loaded at the base, and editing it is a policy change too."""
    repo.write(".modelgate.yaml", "policies: [p.yaml]\n")
    repo.write("p.yaml", "apiVersion: modelgate/v1\nkind: Policy\nname: p\nextends: [rules/shared.yaml]\n")
    repo.write("rules/shared.yaml", "apiVersion: modelgate/v1\nkind: Policy\nname: shared\n"
               "extends: [builtin:default]\n")
    repo.manifest("m", **staging_fields(stage="none"))
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("rules/shared.yaml", "apiVersion: modelgate/v1\nkind: Policy\nname: shared\n"
               "extends: [builtin:default]\n# loosened later\n")
    repo.manifest("m", **staging_fields())
    report = check_in_process(repo, "--base", "main", capsys=capsys)
    assert notices(report.out) == [
        "notice: policy-changed: rules/shared.yaml differs from the base; this check used the base version,"
        " the edit takes effect after merge"
    ]

