"""``check --changed``: every route by which a change can affect a manifest selects it.

Each test builds a base on ``main`` with two models (``fraud/`` and ``churn/``), makes one
change on a feature branch, and runs the installed command with ``--changed --base main``,
as CI does: the manifests the change affects must be in the report, and the others not.
"""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import Repo, production_fields, staging_fields

POLICY = """\
    apiVersion: modelgate/v1
    kind: Policy
    name: {name}
    extends: [builtin:default]
    match: {{names: [{name}]}}
    rules:
      - {{check: metric-threshold, stages: [staging, production], with: {{metric: auc, min: {min}}}}}
    """


def check(repo: Repo, *args: str, env: dict[str, str] | None = None) -> tuple[int, dict[str, Any], str]:
    proc = repo.run("check", "--json", "../r.json", *args, env=env)
    assert "Traceback" not in proc.stderr, proc.stderr
    path = repo.root.parent / "r.json"
    report = json.loads(path.read_text()) if path.exists() else {}
    if path.exists():
        path.unlink()
    return proc.returncode, report, proc.stdout + proc.stderr


def selected(report: dict[str, Any]) -> list[str]:
    return [m["path"] for m in report["manifests"]]


def failed(report: dict[str, Any]) -> list[tuple[str, str]]:
    return [(r["name"], r["manifest"]) for r in report["results"] if r["outcome"] == "failed"]


def two_models(repo: Repo, **fraud: Any) -> None:
    """``fraud`` and ``churn`` on main, then a feature branch; nothing changed yet."""
    repo.manifest("fraud", name="fraud", **(fraud or staging_fields()))
    repo.manifest("churn", name="churn", **staging_fields())
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")
    code, report, out = check(repo, "--changed", "--base", "main")
    assert code == 0, out
    assert selected(report) == [], out


def test_a_tampered_lockfile_selects_its_manifest(repo: Repo) -> None:
    two_models(repo, **production_fields())
    repo.write("fraud/requirements.lock", "numpy==1.0\n")
    repo.commit("only the lockfile")
    code, report, out = check(repo, "--changed", "--base", "main")
    assert code == 1, out
    assert selected(report) == ["fraud/modelgate.yaml"]
    assert failed(report) == [("lockfile-hash", "fraud/modelgate.yaml")]


def test_a_changed_local_data_file_selects_its_manifest(repo: Repo) -> None:
    # The contract does not say what a data uri is relative to: both readings select.
    repo.write("data/train.parquet", "rows\n")
    repo.write("churn/data/train.parquet", "rows\n")
    two_models(repo)
    repo.write("data/train.parquet", "other rows\n")
    repo.commit("repository-relative data")
    code, report, out = check(repo, "--changed", "--base", "main")
    assert (code, selected(report)) == (0, ["churn/modelgate.yaml", "fraud/modelgate.yaml"]), out
    repo.git("reset", "-q", "--hard", "main")
    repo.write("churn/data/train.parquet", "other rows\n")
    repo.commit("manifest-relative data")
    code, report, out = check(repo, "--changed", "--base", "main")
    assert (code, selected(report)) == (0, ["churn/modelgate.yaml"]), out


def test_a_data_uri_with_a_scheme_is_not_a_repository_path(repo: Repo) -> None:
    lineage = {
        "code": {"commit": "a" * 40},
        "params": {"lr": 0.1},
        "data": [{"name": "train", "uri": "s3://bucket/data/train.parquet", "revision": "2026-10-01"}],
    }
    repo.write("s3:/bucket/data/train.parquet", "rows\n")  # what the uri would name as a path
    two_models(repo, **staging_fields(lineage=lineage))
    repo.write("s3:/bucket/data/train.parquet", "other rows\n")
    repo.commit("a file that only looks like the uri")
    code, report, out = check(repo, "--changed", "--base", "main")
    assert (code, selected(report)) == (0, []), out


def test_a_changed_gitattributes_selects_the_manifests_below_it(repo: Repo) -> None:
    two_models(repo)
    repo.write("fraud/.gitattributes", "*.bin filter=lfs diff=lfs merge=lfs -text\n")
    repo.commit("fraud's artifacts move to LFS")
    code, report, out = check(repo, "--changed", "--base", "main")
    assert (code, selected(report)) == (0, ["fraud/modelgate.yaml"]), out
    repo.write(".gitattributes", "*.bin -text\n")
    repo.commit("attributes for every folder")
    code, report, out = check(repo, "--changed", "--base", "main")
    assert (code, selected(report)) == (0, ["churn/modelgate.yaml", "fraud/modelgate.yaml"]), out


def test_a_changed_config_selects_every_manifest(repo: Repo) -> None:
    repo.write("pyproject.toml", '[project]\nname = "x"\nversion = "1"\n\n[tool.modelgate]\nmanifests = ["**"]\n')
    two_models(repo)
    repo.write("pyproject.toml", '[project]\nname = "x"\nversion = "2"\n\n[tool.modelgate]\nmanifests = ["**"]\n')
    repo.commit("a pyproject edit outside [tool.modelgate]")
    code, report, out = check(repo, "--changed", "--base", "main")
    assert (code, selected(report)) == (0, []), out
    repo.write("pyproject.toml", '[project]\nname = "x"\nversion = "2"\n\n[tool.modelgate]\nmanifests = ["*/*"]\n')
    repo.commit("[tool.modelgate] edited")
    code, report, out = check(repo, "--changed", "--base", "main")
    assert (code, selected(report)) == (0, ["churn/modelgate.yaml", "fraud/modelgate.yaml"]), out
    assert "policy-changed: pyproject.toml differs from the base" in out


def test_a_config_edit_without_a_base_is_judged_on_every_manifest(repo: Repo) -> None:
    repo.write("policies/fraud.yaml", POLICY.format(name="fraud", min=0.9))
    repo.write("policies/strict.yaml", POLICY.format(name="churn", min=0.99))
    repo.write(".modelgate.yaml", "policies: [policies/fraud.yaml]\n")
    repo.manifest("fraud", name="fraud", **staging_fields())
    repo.manifest("churn", name="churn", **staging_fields())
    repo.commit("base")
    # No base: the work tree's configuration applies, so the edit decides verdicts now.
    repo.write(".modelgate.yaml", "policies: [policies/fraud.yaml, policies/strict.yaml]\n")
    code, report, out = check(repo, "--changed")
    assert code == 1, out
    assert selected(report) == ["churn/modelgate.yaml", "fraud/modelgate.yaml"]
    assert failed(report) == [("metric-threshold", "churn/modelgate.yaml")]


def test_a_changed_policy_selects_the_models_it_governs(repo: Repo) -> None:
    repo.write("policies/fraud.yaml", POLICY.format(name="fraud", min=0.9))
    repo.write("policies/churn.yaml", POLICY.format(name="churn", min=0.9))
    repo.write(".modelgate.yaml", "policies: [policies]\n")
    two_models(repo)
    repo.write("policies/fraud.yaml", POLICY.format(name="fraud", min=0.99))
    repo.commit("fraud's bar goes up")
    code, report, out = check(repo, "--changed", "--base", "main")
    assert (code, selected(report)) == (0, ["fraud/modelgate.yaml"]), out  # judged by the base's policy
    assert "policy-changed: policies/fraud.yaml differs from the base" in out
    # Without a base the edit, not yet committed, applies at once and fails what it governs.
    repo.git("reset", "-q", "--soft", "HEAD~1")
    code, report, out = check(repo, "--changed")
    assert code == 1, out
    assert selected(report) == ["fraud/modelgate.yaml"]
    assert failed(report) == [("metric-threshold", "fraud/modelgate.yaml")]


def test_a_policy_whose_match_changed_selects_every_manifest(repo: Repo) -> None:
    repo.write("policies/fraud.yaml", POLICY.format(name="fraud", min=0.9))
    repo.write(".modelgate.yaml", "policies: [policies/fraud.yaml]\n")
    two_models(repo)
    # It governed fraud; now it governs churn too, and fraud falls back: both change hands.
    repo.write("policies/fraud.yaml", POLICY.format(name="churn", min=0.9))
    repo.commit("the policy moves to another model")
    code, report, out = check(repo, "--changed", "--base", "main")
    assert (code, selected(report)) == (0, ["churn/modelgate.yaml", "fraud/modelgate.yaml"]), out


def test_a_schema_file_a_rule_names_selects_the_models_of_that_policy(repo: Repo) -> None:
    policy = POLICY.format(name="fraud", min=0.9) + "  - {check: schema, with: {file: policies/tags.json}}\n"
    repo.write("policies/fraud.yaml", policy)
    repo.write("policies/tags.json", "{}\n")
    repo.write(".modelgate.yaml", "policies: [policies/fraud.yaml]\n")
    two_models(repo)
    repo.write("policies/tags.json", '{"required": ["tags"]}\n')
    repo.commit("the schema asks for tags")
    code, report, out = check(repo, "--changed", "--base", "main")
    assert (code, selected(report)) == (0, ["fraud/modelgate.yaml"]), out


def test_a_renamed_artifact_selects_its_manifest(repo: Repo) -> None:
    two_models(repo)
    repo.git("mv", "fraud/model.bin", "fraud/weights.bin")
    repo.commit("artifact renamed, manifest not updated")
    code, report, out = check(repo, "--changed", "--base", "main")
    assert code == 1, out
    assert selected(report) == ["fraud/modelgate.yaml"]
    assert ("artifact-hash", "fraud/modelgate.yaml") in failed(report)


def test_a_deleted_artifact_selects_its_manifest(repo: Repo) -> None:
    two_models(repo)
    repo.git("rm", "-q", "churn/model.bin")
    repo.commit("artifact deleted")
    code, report, out = check(repo, "--changed", "--base", "main")
    assert code == 1, out
    assert selected(report) == ["churn/modelgate.yaml"]
    assert ("artifact-hash", "churn/modelgate.yaml") in failed(report)


def test_an_artifact_behind_a_changed_symlink_selects_its_manifest(repo: Repo) -> None:
    repo.write("store/a.bin", b"weights of fraud")
    repo.write("store/b.bin", b"other weights")
    repo.manifest("fraud", name="fraud", artifact_bytes=b"weights of fraud", **staging_fields())
    (repo.root / "fraud" / "model.bin").unlink()
    (repo.root / "fraud" / "model.bin").symlink_to("../store/a.bin")
    repo.manifest("churn", name="churn", **staging_fields())
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")
    (repo.root / "fraud" / "model.bin").unlink()
    (repo.root / "fraud" / "model.bin").symlink_to("../store/b.bin")
    repo.commit("the link points elsewhere")
    code, report, out = check(repo, "--changed", "--base", "main")
    assert code == 1, out
    assert selected(report) == ["fraud/modelgate.yaml"]
    repo.git("reset", "-q", "--hard", "main")
    repo.write("store/a.bin", b"tampered")
    repo.commit("the target changes")
    code, report, out = check(repo, "--changed", "--base", "main")
    assert (code, selected(report)) == (1, ["fraud/modelgate.yaml"]), out


def test_a_dvc_record_of_an_artifact_selects_its_manifest(repo: Repo) -> None:
    repo.write("fraud/model.bin.dvc", "outs:\n- md5: 0\n  path: model.bin\n")
    repo.write("dvc.lock", "schema: '2.0'\nstages: {}\n")
    two_models(repo)
    repo.write("fraud/model.bin.dvc", "outs:\n- md5: 1\n  path: model.bin\n")
    repo.commit("dvc record")
    code, report, out = check(repo, "--changed", "--base", "main")
    assert (code, selected(report)) == (0, ["fraud/modelgate.yaml"]), out
    repo.write("dvc.lock", "schema: '2.0'\nstages: {train: {cmd: x}}\n")
    repo.commit("dvc.lock at the root")
    code, report, out = check(repo, "--changed", "--base", "main")
    assert (code, selected(report)) == (0, ["churn/modelgate.yaml", "fraud/modelgate.yaml"]), out


def test_a_renamed_manifest_is_still_judged(repo: Repo) -> None:
    two_models(repo, **production_fields())
    repo.git("mv", "fraud/modelgate.yaml", "fraud/fraud.modelgate.yaml")
    repo.commit("manifest renamed")
    code, report, out = check(repo, "--changed", "--base", "main")
    assert (code, selected(report)) == (0, ["fraud/fraud.modelgate.yaml"]), out
    # Renamed to a name that is no manifest's: the production version is gone.
    repo.git("mv", "fraud/fraud.modelgate.yaml", "fraud/modelgate.yml")
    repo.commit("renamed away")
    code, report, out = check(repo, "--changed", "--base", "main")
    assert code == 1, out
    assert failed(report) == [("manifest-removed", "fraud/modelgate.yaml")]


def test_a_deleted_manifest_is_judged_and_selects_its_models_other_versions(repo: Repo) -> None:
    repo.manifest("fraud", name="fraud", **production_fields())
    repo.manifest("fraud2", name="fraud", version="2.0.0", artifact_bytes=b"v2", **staging_fields())
    repo.manifest("churn", name="churn", **staging_fields())
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.git("rm", "-q", "-r", "fraud")
    repo.commit("production manifest deleted")
    code, report, out = check(repo, "--changed", "--base", "main")
    assert code == 1, out
    assert selected(report) == ["fraud2/modelgate.yaml"]
    assert failed(report) == [("manifest-removed", "fraud/modelgate.yaml")]


def test_changed_keeps_the_files_named_on_the_command_line(repo: Repo) -> None:
    repo.manifest("fraud", name="fraud", **staging_fields())
    repo.manifest("churn", name="churn", **staging_fields())
    repo.write("README.md", "models\n")
    repo.commit("base")
    repo.write("fraud/model.bin", b"tampered")
    repo.commit("tampered, committed past the hook")
    # Nothing differs from HEAD, but a named file is part of the selection.
    code, report, out = check(repo, "--changed", "fraud/model.bin", "README.md")
    assert code == 1, out
    assert selected(report) == ["fraud/modelgate.yaml"]
    assert failed(report) == [("artifact-hash", "fraud/modelgate.yaml")]
    code, report, out = check(repo, "--changed", "churn/modelgate.yaml")
    assert (code, selected(report)) == (0, ["churn/modelgate.yaml"]), out
    # A named folder limits git's changes to it: nothing under churn/ changed.
    repo.write("fraud/model.bin", b"edited again, not committed")
    code, report, out = check(repo, "--changed", "churn")
    assert (code, selected(report)) == (0, []), out
    code, report, out = check(repo, "--changed", "fraud")
    assert (code, selected(report)) == (1, ["fraud/modelgate.yaml"]), out


def test_pre_commits_range_selects_what_it_deleted(repo: Repo) -> None:
    repo.manifest("fraud", name="fraud", **staging_fields())
    first = repo.commit("base")
    repo.git("rm", "-q", "fraud/model.bin")
    second = repo.commit("artifact deleted past the hook")
    env = {"PRE_COMMIT_FROM_REF": first, "PRE_COMMIT_TO_REF": second}
    code, report, out = check(repo, "--changed", env=env)
    assert code == 1, out
    assert selected(report) == ["fraud/modelgate.yaml"]
    code, report, out = check(repo, "--changed")
    assert (code, selected(report)) == (0, []), out  # vs HEAD alone: nothing changed
    code, report, out = check(repo, "--changed", env={**env, "PRE_COMMIT_FROM_REF": "--output=x"})
    assert code == 4 and "PRE_COMMIT_FROM_REF" in out, out
    assert not (repo.root / "x").exists()


# -- the prefilter: which manifests could a changed path reach, told from their bytes -----


def _reaching(repo: Repo) -> None:
    """Manifests that read their inputs every way a manifest can: its own folder, a folder
    above, the root, a subfolder, a tracked symlink, a symlink in an ignored folder, data
    folders by name and by dots, DVC records and git attributes above, an escape."""
    import os

    repo.write(".gitignore", "cache/\n")
    repo.write("store/v1/model.bin", b"v1")
    repo.write("store/v2/model.bin", b"v2")
    repo.write("shared/vocab.txt", "vocab\n")
    repo.write("data/train/part-0.parquet", "rows\n")
    repo.write("deep/a/notes.txt", "notes\n")
    repo.write("env/requirements.lock", "numpy==2\n")
    repo.write("plain/model.bin.dvc", "outs:\n- md5: 0\n  path: model.bin\n")
    repo.write("nested/dvc.lock", "schema: '2.0'\n")
    repo.write("nested/.gitattributes", "*.bin -text\n")

    def manifest(folder: str, artifact: str, **extra: Any) -> None:
        repo.manifest(folder, name=folder.replace("/", "-") or "root", **staging_fields(**extra))
        if artifact != "model.bin":
            data = json.loads((repo.root / folder / "modelgate.yaml").read_text())
            data["artifacts"][0]["path"] = artifact
            repo.write(f"{folder}/modelgate.yaml", json.dumps(data, indent=2) + "\n")

    manifest("plain", "model.bin")
    manifest("linked", "weights/model.bin")
    os.symlink("../store/v1", repo.root / "linked" / "weights")
    manifest("ignored", "cache/model.bin")
    manifest("hub", "cache/link/model.bin")
    manifest("datauri", "model.bin", lineage={"data": [{"name": "t", "uri": "data/train", "revision": "1"}]})
    manifest("deep/a/b", "model.bin", lineage={"data": [{"name": "t", "uri": "..", "revision": "1"}]})
    manifest("dot", "model.bin", lineage={"data": [{"name": "t", "uri": ".", "revision": "1"}]})
    manifest(
        "sub",
        "model.bin",
        lineage={
            "data": [{"name": "v", "uri": "shared/vocab.txt", "revision": "1"}],
            "environment": {"lockfile": {"path": "../env/requirements.lock", "sha256": "0" * 64}},
        },
    )
    manifest("nested/x", "model.bin")
    plain = (repo.root / "plain" / "modelgate.yaml").read_text()
    repo.write("modelgate.yaml", plain.replace('"plain"', '"root"').replace('"model.bin"', '"plain/model.bin"'))
    repo.write("escaped/modelgate.yaml", plain.replace('"plain"', '"escap\\u0065d"'))
    repo.commit("base")
    # Untracked links: "cache/" ignores folders, so git lists this link as untracked; and a
    # real folder it ignores, whose link inside git does not list at all.
    os.symlink("../store/v2", repo.root / "ignored" / "cache")
    (repo.root / "hub" / "cache").mkdir()
    os.symlink("../../store/v1", repo.root / "hub" / "cache" / "link")


def test_the_bytes_prefilter_keeps_every_manifest_a_change_can_reach(repo: Repo, monkeypatch: Any) -> None:
    """For every file and folder of the repository as the one changed path, the manifests
    the prefilter keeps (read as bytes, unparsed) include every manifest the selection
    itself chooses among all of them, parsed."""
    from modelgate.pipeline.selection import Selector
    from modelgate.pipeline.session import open_session
    from modelgate.pipeline.workspace import Options
    from modelgate.plugins import make_plugin_manager

    _reaching(repo)
    monkeypatch.chdir(repo.root)
    head = repo.git("rev-parse", "HEAD")
    paths = {
        repo.git("ls-files", "--others", "--exclude-standard"),
        *repo.git("ls-files").splitlines(),
        "ignored/cache",
        "ignored/cache/model.bin",
        "hub/cache/link",
        "hub/cache/link/model.bin",
    }
    paths |= {"/".join(p.split("/")[:end]) for p in list(paths) for end in range(1, p.count("/") + 1)}
    paths.discard("")
    with open_session(
        Options(changed=True, env={}), make_plugin_manager(autoload=False), root=str(repo.root)
    ) as session:
        context = session.context
        selector = Selector(
            session.root,
            context.config,
            session.policies,
            lambda name: session.rules.governing(name, session.policies),
            context.artifact_path,
            context.git,
            [head],
            [],
        )  # type: ignore[arg-type]
        docs = context.registry()
        rels = {doc.path: doc.abspath for doc in docs}
        kept_somewhere = set()
        for path in sorted(paths):
            chosen, _ = selector.affected({path}, docs)
            kept = selector.candidates({path}, rels, lambda rel: context.index.raw(rels[rel]))
            assert kept is not None, path
            assert {doc.path for doc in chosen} <= set(kept), (path, kept)
            kept_somewhere.update(doc.path for doc in chosen)
        # The test reaches what it means to: every manifest is chosen by some path.
        assert kept_somewhere == set(rels)
        # And the prefilter is a filter: a file one manifest names keeps that one, the ones
        # whose paths climb or that escape (which could name anything), the root's, and the
        # one above an ignored folder git lists without its contents (hub/cache: a link
        # inside may lead anywhere). Not "ignored", which writes "cache" too, but no path
        # from the root to there.
        vocab = selector.candidates({"shared/vocab.txt"}, rels, lambda rel: context.index.raw(rels[rel]))
        assert vocab == [
            "deep/a/b/modelgate.yaml",
            "dot/modelgate.yaml",
            "escaped/modelgate.yaml",
            "hub/modelgate.yaml",
            "modelgate.yaml",
            "sub/modelgate.yaml",
        ], vocab
        # A file every manifest names in its own folder ("model.bin") keeps only its own.
        bins = selector.candidates({"plain/model.bin"}, rels, lambda rel: context.index.raw(rels[rel]))
        assert bins is not None and "datauri/modelgate.yaml" not in bins and "plain/modelgate.yaml" in bins


def test_an_artifact_through_an_ignored_symlink_selects_its_manifest(repo: Repo) -> None:
    repo.write(".gitignore", "cache\n")
    repo.write("store/model.bin", b"weights of fraud")
    repo.manifest("fraud", name="fraud", artifact_bytes=b"weights of fraud", **staging_fields())
    data = json.loads((repo.root / "fraud" / "modelgate.yaml").read_text())
    data["artifacts"][0]["path"] = "cache/model.bin"
    repo.write("fraud/modelgate.yaml", json.dumps(data))
    repo.manifest("churn", name="churn", **staging_fields())
    repo.commit("base")
    (repo.root / "fraud" / "cache").symlink_to("../store")  # ignored: no change git reports
    repo.git("checkout", "-q", "-b", "feature")
    code, report, out = check(repo, "--changed", "--base", "main")
    assert (code, selected(report)) == (0, []), out
    repo.write("store/model.bin", b"tampered")
    repo.commit("the file behind the ignored link changes")
    code, report, out = check(repo, "--changed", "--base", "main")
    assert (code, selected(report)) == (1, ["fraud/modelgate.yaml"]), out
    assert ("artifact-hash", "fraud/modelgate.yaml") in failed(report)
