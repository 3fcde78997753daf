"""With a base, the gate's own files come from the base commit; a change that edits them is
told that its edit applies after merge (``policy-changed``), and is judged without it."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

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
    repo.write(
        "policies/acme.yaml",
        "apiVersion: modelgate/v1\nkind: Policy\nname: acme\nextends: [builtin:default]\nmatch: {names: [other-*]}\n",
    )
    repo.manifest("m")
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("policies/0-lax.yaml", LAX)
    repo.manifest("m", **production_fields())
    report = check_in_process(repo, "--base", "main", capsys=capsys)
    assert report.code == 1
    assert [(p["path"], p["source"]) for p in report.data["policies"]] == [
        ("builtin:default", "builtin"),
        ("policies/acme.yaml", "base"),
    ]
    assert notices(report.out) == [
        "notice: policy-changed: policies/0-lax.yaml differs from the base; this check used the base version,"
        " the edit takes effect after merge"
    ]


def test_a_policy_folder_the_change_turns_into_a_link_out_is_noticed_and_not_read(
    repo: Repo, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    repo.write(".modelgate.yaml", "policies: [policies]\n")
    repo.write("policies/acme.yaml", "apiVersion: modelgate/v1\nkind: Policy\nname: acme\nextends: [builtin:default]\n")
    repo.manifest("m")
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "lax.yaml").write_text(LAX)
    repo.git("rm", "-rq", "policies")
    (repo.root / "policies").symlink_to(outside)
    report = check_in_process(repo, "--base", "main", capsys=capsys)
    assert report.code == 0, report.out
    assert [(p["path"], p["source"]) for p in report.data["policies"]][-1] == ("policies/acme.yaml", "base")
    assert notices(report.out) == [
        "notice: policy-changed: policies differs from the base; this check used the base version,"
        " the edit takes effect after merge",
        "notice: policy-changed: policies/acme.yaml differs from the base; this check used the base version,"
        " the edit takes effect after merge",
    ]


def test_in_ci_a_configuration_the_change_breaks_is_noticed_and_the_base_one_used(repo: Repo) -> None:
    """In CI the base's configuration governs, so the change's broken one is only an edit that
    waits for the merge (on a laptop the work tree's settings are read, and it is exit 4)."""
    repo.write(".modelgate.yaml", "policies: [builtin:default]\n")
    repo.manifest("m")
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.write(".modelgate.yaml", "policies: [builtin:default\n")  # no longer YAML
    proc = repo.run("check", "--base", "main", env={"CI": "true"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert notices(proc.stdout + proc.stderr) == [
        "notice: policy-changed: .modelgate.yaml differs from the base; this check used the base version,"
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
        ("builtin:default", "builtin"),
        ("p.yaml", "base"),
    ]


def test_an_over_limit_policy_at_the_base_is_a_config_error(repo: Repo) -> None:
    repo.write(".modelgate.yaml", "policies: [p.yaml]\n")
    repo.write("p.yaml", "# " + "x" * (1024 * 1024) + "\n")
    repo.manifest("m")
    repo.commit("base")
    proc = repo.run("check", "--base", "main")
    assert proc.returncode == 4, proc.stderr
    assert "p.yaml:1:1: file is larger than 1024 KiB at the base commit" in proc.stderr
    assert "Traceback" not in proc.stderr


# -- everything that decides what is checked comes from the base commit ---------------


def _run(repo: Repo, *args: str) -> tuple[int, dict[str, Any], str]:
    """The installed command with a JSON report beside the repository."""
    proc = repo.run("check", "--json", "../r.json", *args)
    assert "Traceback" not in proc.stderr
    path = repo.root.parent / "r.json"
    report = json.loads(path.read_text()) if path.exists() else {}
    if path.exists():
        path.unlink()
    return proc.returncode, report, proc.stdout + proc.stderr


def _failed(report: dict[str, Any], name: str) -> list[tuple[str, str]]:
    return [(r["manifest"], r["message"]) for r in report["results"] if r["name"] == name and r["outcome"] == "failed"]


def test_a_manifests_glob_in_the_change_does_not_hide_a_deleted_production_manifest(repo: Repo) -> None:
    repo.manifest("prod", **production_fields())
    repo.manifest("other", name="other", **staging_fields())
    repo.commit("base: no configuration, every manifest is gated")
    repo.git("checkout", "-q", "-b", "feature")
    (repo.root / "prod" / "modelgate.yaml").unlink()
    repo.write(".modelgate.yaml", "manifests: ['other/**']\n")
    repo.commit("delete the production manifest, and narrow the globs so the base's is not seen")
    code, report, out = _run(repo, "--base", "main")
    assert code == 1, out
    assert _failed(report, "manifest-removed") == [
        ("prod/modelgate.yaml", "fraud-detector@1.0.0 was in 'production' and its manifest was deleted")
    ]
    assert "notice: policy-changed: .modelgate.yaml differs from the base" in out


def test_the_base_globs_select_the_manifests_of_both_sides(repo: Repo) -> None:
    # The base gates models/ only: legacy/ was never a manifest the gate knew. A change that
    # widens the globs neither makes legacy/ a base manifest nor adds scratch/ to the check.
    repo.write(".modelgate.yaml", "manifests: ['models/**']\n")
    repo.manifest("models/a", **staging_fields())
    repo.manifest("legacy", name="legacy", **production_fields())
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")
    (repo.root / "legacy" / "modelgate.yaml").unlink()
    repo.write("scratch/modelgate.yaml", "not: a manifest\n")
    repo.write(".modelgate.yaml", "manifests: ['**']\n")
    repo.commit("widen the globs")
    code, report, out = _run(repo, "--base", "main")
    assert code == 0, out
    assert [m["path"] for m in report["manifests"]] == ["models/a/modelgate.yaml"]
    assert _failed(report, "manifest-removed") == []


# -- a symlink in the base commit is followed inside it, never read as content ---------


def test_a_config_symlink_at_the_base_is_followed_inside_the_commit(repo: Repo) -> None:
    repo.write("conf/gate.yaml", "manifests: ['models/**']\n")
    os.symlink("conf/gate.yaml", repo.root / ".modelgate.yaml")
    repo.manifest("models/a")
    repo.write("scratch/modelgate.yaml", "not: a manifest\n")
    repo.commit("base: the configuration is a link to conf/gate.yaml")
    code, report, out = _run(repo, "--base", "main")
    assert code == 0, out
    assert [m["path"] for m in report["manifests"]] == ["models/a/modelgate.yaml"]


@pytest.mark.parametrize(
    ("target", "message"),
    [
        # A link's blob is the text of its target: it must never be taken for the file.
        ("{manifests: [nothing/**]}", "is a symbolic link to nothing in the base commit"),
        ("../outside.yaml", "leads outside the repository, so it was not opened"),
        ("/etc/hostname", "leads outside the repository, so it was not opened"),
        (".git/config", "leads into .git/, so it was not opened"),
    ],
    ids=["yaml-as-target", "dot-dot", "absolute", "into-git"],
)
def test_a_config_symlink_at_the_base_leading_nowhere_or_out_is_a_config_error(
    repo: Repo, target: str, message: str
) -> None:
    repo.manifest("m")
    os.symlink(target, repo.root / ".modelgate.yaml")
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")
    os.remove(repo.root / ".modelgate.yaml")  # the change's own config is no link: the base's is read
    repo.commit("change")
    code, _, out = _run(repo, "--base", "main")
    assert code == 4, out
    assert out.startswith(f"modelgate: error: .modelgate.yaml:1:1: {message}"), out


def test_a_manifest_symlink_in_a_commit_is_refused_not_parsed(repo: Repo) -> None:
    # The link's target text is a complete production manifest: read as content, it would
    # be a model version that no file holds.
    content = b"weights"
    phantom = json.dumps(
        {
            "apiVersion": "modelgate/v1",
            "kind": "Model",
            "name": "phantom",
            "version": "1.0.0",
            "stage": "production",
            "owners": ["@a"],
            "artifacts": [{"path": "model.bin", "size": len(content), "sha256": hashlib.sha256(content).hexdigest()}],
        }
    )
    repo.write("m/model.bin", content)
    os.symlink(phantom, repo.root / "m" / "modelgate.yaml")
    repo.commit("base")
    proc = repo.run("resolve", "phantom@production", "--ref", "main")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "m/modelgate.yaml" in proc.stderr and "phantom" not in proc.stdout
    code, report, out = _run(repo, "--base", "main")
    assert code == 1, out
    assert [r["message"] for r in report["results"] if r["outcome"] == "failed"] == [
        "is a symbolic link, so it was not read; a manifest must be a regular file: commit the file itself"
    ]


def test_an_edited_policy_reached_through_extends_is_noticed(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    """Only the configured policy is named in the configuration; the one it extends is known
    from the policies loaded at the base, and editing it is a policy change too."""
    repo.write(".modelgate.yaml", "policies: [p.yaml]\n")
    repo.write("p.yaml", "apiVersion: modelgate/v1\nkind: Policy\nname: p\nextends: [rules/shared.yaml]\n")
    repo.write(
        "rules/shared.yaml", "apiVersion: modelgate/v1\nkind: Policy\nname: shared\nextends: [builtin:default]\n"
    )
    repo.manifest("m", **staging_fields(stage="none"))
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.write(
        "rules/shared.yaml",
        "apiVersion: modelgate/v1\nkind: Policy\nname: shared\nextends: [builtin:default]\n# loosened later\n",
    )
    repo.manifest("m", **staging_fields())
    report = check_in_process(repo, "--base", "main", capsys=capsys)
    assert notices(report.out) == [
        "notice: policy-changed: rules/shared.yaml differs from the base; this check used the base version,"
        " the edit takes effect after merge"
    ]
