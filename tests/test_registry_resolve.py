"""The repository as a registry: ``resolve`` and ``list``, at the work tree and at refs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import modelgate
from modelgate.errors import RegistryError
from tests.conftest import MODELGATE, REPO, Repo, production_fields, staging_fields


@pytest.fixture
def history(repo: Repo) -> Repo:
    """v1: 1.0.0 in production. v2 (tag v2): 1.1.0 in production, 1.0.0 archived, aliases."""
    repo.manifest("models/fraud/1.0.0", **production_fields(), artifact_bytes=b"weights 1.0.0")
    repo.commit("1.0.0 to production")
    repo.git("tag", "v1")
    repo.manifest("models/fraud/1.0.0", **production_fields(stage="archived"), artifact_bytes=b"weights 1.0.0")
    repo.manifest(
        "models/fraud/1.1.0",
        **production_fields(version="1.1.0", aliases=["champion"]),
        artifact_bytes=b"weights 1.1.0",
    )
    repo.manifest("models/churn", **staging_fields(name="churn", version="0.3.0"))
    repo.commit("1.1.0 to production")
    repo.git("tag", "v2")
    return repo


def test_resolve_production_at_different_refs(history: Repo) -> None:
    now = history.run("resolve", "fraud-detector@production")
    assert now.returncode == 0, now.stderr
    assert now.stdout.splitlines()[:2] == [
        "fraud-detector@1.1.0 production aliases: champion",
        "manifest: models/fraud/1.1.0/modelgate.yaml",
    ]
    before = history.run("resolve", "fraud-detector@production", "--ref", "v1", "--json")
    assert before.returncode == 0, before.stderr
    data = json.loads(before.stdout)
    assert (data["version"], data["manifest"], data["commit"]) == (
        "1.0.0",
        "models/fraud/1.0.0/modelgate.yaml",
        history.git("rev-parse", "v1"),
    )
    assert data["artifacts"][0]["path"] == "models/fraud/1.0.0/model.bin"


def test_resolve_by_version_alias_and_stage(history: Repo) -> None:
    def version(selector: str) -> str:
        result = history.run("resolve", selector, "--json")
        assert result.returncode == 0, result.stderr
        return str(json.loads(result.stdout)["version"])

    assert version("fraud-detector@1.0.0") == "1.0.0"
    assert version("fraud-detector@champion") == "1.1.0"
    assert version("fraud-detector@archived") == "1.0.0"
    assert version("churn") == "0.3.0"  # a single version needs no selector


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        (
            "fraud-detector",
            "2 versions of fraud-detector match any version: 1.0.0, 1.1.0;"
            " ask for one: fraud-detector@VERSION, @STAGE or @ALIAS",
        ),
        (
            "fraud-detector@staging",
            "no version of fraud-detector has stage 'staging'; versions: 1.0.0 (archived), 1.1.0 (production)",
        ),
        ("nope@production", "no model named 'nope'; models: churn, fraud-detector"),
    ],
)
def test_no_single_answer_is_an_error(history: Repo, selector: str, message: str) -> None:
    result = history.run("resolve", selector)
    assert result.returncode == 1
    assert result.stderr == f"modelgate: error: {message}\n"


def test_python_api(history: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    found = modelgate.resolve("fraud-detector", stage="production", root=history.root, verify=True)
    assert (found.version, found.verified) == ("1.1.0", True)
    assert Path(found.path).read_bytes() == b"weights 1.1.0"
    assert modelgate.resolve("fraud-detector", stage="production", ref="v1", root=history.root).version == "1.0.0"
    monkeypatch.chdir(history.root / "models")  # the default root: the repository around the cwd
    assert modelgate.resolve("churn").manifest == os.path.join(history.root, "models/churn/modelgate.yaml")
    with pytest.raises(RegistryError, match="no version of churn has stage 'production'"):
        modelgate.resolve("churn", stage="production")


def test_verify_fails_on_changed_bytes(history: Repo) -> None:
    (history.root / "models/fraud/1.1.0/model.bin").write_bytes(b"tampered")
    result = history.run("resolve", "fraud-detector@production", "--verify")
    assert result.returncode == 1
    assert result.stderr.startswith(
        "modelgate: error: models/fraud/1.1.0/model.bin: does not match"
        " models/fraud/1.1.0/modelgate.yaml: expected sha256 "
    )
    assert "file has" in result.stderr and "(8 bytes)" in result.stderr


def test_an_invalid_manifest_that_may_be_the_answer_is_refused(history: Repo) -> None:
    history.write("models/fraud/1.2.0/modelgate.yaml", "name: fraud-detector\nstage: production\n")
    result = history.run("resolve", "fraud-detector@production")
    assert result.returncode == 1
    assert "models/fraud/1.2.0/modelgate.yaml is not a valid manifest" in result.stderr
    assert history.run("resolve", "churn").returncode == 0  # another model's name: not in the way


def test_a_bad_ref_is_a_usage_error(history: Repo) -> None:
    result = history.run("resolve", "churn", "--ref", "no-such-branch")
    assert result.returncode == 4
    assert "ref 'no-such-branch' is not a commit in this repository" in result.stderr


def test_list(history: Repo) -> None:
    result = history.run("list")
    assert result.returncode == 0
    assert result.stdout == (
        "MODEL           VERSION  STAGE       ALIASES   MANIFEST\n"
        "churn           0.3.0    staging     -         models/churn/modelgate.yaml\n"
        "fraud-detector  1.0.0    archived    -         models/fraud/1.0.0/modelgate.yaml\n"
        "fraud-detector  1.1.0    production  champion  models/fraud/1.1.0/modelgate.yaml\n"
    )
    at_v1 = json.loads(history.run("list", "--ref", "v1", "--stage", "production", "--json").stdout)
    assert [(m["name"], m["version"]) for m in at_v1["models"]] == [("fraud-detector", "1.0.0")]


# -- @latest, and errors that say how a word was taken --------------------------------------


@pytest.fixture
def releases(repo: Repo) -> Repo:
    """Versions whose SemVer order differs from their text order, prereleases, retired ones."""
    for version, stage in [
        ("1.1.0", "production"),
        ("1.9.0", "staging"),
        ("1.10.0-rc.9", "none"),
        ("1.10.0-rc.10", "none"),
        ("1.10.0-beta.2", "staging"),
        ("2.0.0", "rejected"),
        ("3.0.0", "archived"),
    ]:
        fields = production_fields if stage in ("production", "archived") else staging_fields
        repo.manifest(
            f"models/fraud/{version}", **fields(version=version, stage=stage), artifact_bytes=version.encode()
        )
    repo.commit("releases")
    return repo


def test_latest_is_the_highest_semver_precedence_not_archived_or_rejected(releases: Repo) -> None:
    result = releases.run("resolve", "fraud-detector@latest", "--json")
    assert result.returncode == 0, result.stderr
    # Not 3.0.0 (archived) nor 2.0.0 (rejected); 1.10 > 1.9 and rc.10 > rc.9 > beta.2 as numbers and
    # identifiers compare under SemVer 2.0.0, where a text sort says 1.9.0 and rc.9.
    assert json.loads(result.stdout)["version"] == "1.10.0-rc.10"
    releases.manifest("models/fraud/1.10.0", **staging_fields(version="1.10.0"), artifact_bytes=b"final")
    assert json.loads(releases.run("resolve", "fraud-detector@latest", "--json").stdout)["version"] == "1.10.0"
    found = modelgate.resolve("fraud-detector", latest=True, root=releases.root, ref="HEAD")
    assert found.version == "1.10.0-rc.10"  # at HEAD, before 1.10.0 was committed


def test_latest_with_no_single_answer_is_an_error(repo: Repo) -> None:
    repo.manifest("a", **staging_fields(version="1.0.0+build.1"), artifact_bytes=b"a")
    repo.manifest("b", **staging_fields(version="1.0.0+build.2"), artifact_bytes=b"b")
    result = repo.run("resolve", "fraud-detector@latest")
    assert (result.returncode, result.stderr) == (
        1,
        (
            "modelgate: error: 2 versions of fraud-detector share the highest SemVer precedence (build metadata"
            " does not count): 1.0.0+build.1, 1.0.0+build.2; ask for one: fraud-detector@VERSION\n"
        ),
    )
    repo.manifest("b", **staging_fields(version="1.0.0+build.2", stage="rejected"), artifact_bytes=b"b")
    repo.manifest("c", **staging_fields(version="v2"), artifact_bytes=b"c")
    result = repo.run("resolve", "fraud-detector@latest")
    assert (result.returncode, result.stderr) == (
        1,
        (
            "modelgate: error: c/modelgate.yaml: version 'v2' is not SemVer 2.0.0, so the latest version of"
            " fraud-detector cannot be told; fix it (`modelgate check`)\n"
        ),
    )
    repo.manifest("a", **staging_fields(version="1.0.0+build.1", stage="archived"), artifact_bytes=b"a")
    repo.manifest("c", **staging_fields(version="v2", stage="rejected"), artifact_bytes=b"c")
    result = repo.run("resolve", "fraud-detector@latest")
    assert result.returncode == 1
    assert result.stderr.startswith(
        "modelgate: error: no version of fraud-detector has a stage other than archived or rejected; versions: "
    )


def test_latest_that_is_also_an_alias_is_ambiguous(repo: Repo) -> None:
    repo.manifest("a", **staging_fields(version="1.0.0", aliases=["latest"]), artifact_bytes=b"a")
    repo.manifest("b", **staging_fields(version="1.1.0"), artifact_bytes=b"b")
    result = repo.run("resolve", "fraud-detector@latest")
    assert (result.returncode, result.stderr) == (
        1,
        (
            "modelgate: error: fraud-detector@latest is ambiguous: 'latest' is also an alias of fraud-detector;"
            " rename it (latest means the highest version not archived or rejected)\n"
        ),
    )


VERSIONS = "versions: 1.0.0 (archived), 1.1.0 (production)"


@pytest.mark.parametrize(
    ("word", "message"),
    [
        (
            "prodution",
            f"'prodution' is not a stage of policy default (did you mean 'production'?), a version or an"
            f" alias of fraud-detector; {VERSIONS}",
        ),
        (
            "champio",
            f"'champio' is not a stage of policy default, a version or an alias (did you mean 'champion'?)"
            f" of fraud-detector; {VERSIONS}",
        ),
        (
            "1.1",
            f"'1.1' is not a stage of policy default, a version (did you mean '1.1.0'?) or an alias of"
            f" fraud-detector; {VERSIONS}",
        ),
        ("1.1.1", f"no version of fraud-detector has version 1.1.1 (did you mean '1.1.0'?); {VERSIONS}"),
        ("staging", f"no version of fraud-detector has stage 'staging'; {VERSIONS}"),
        ("xyzzy", f"'xyzzy' is not a stage of policy default, a version or an alias of fraud-detector; {VERSIONS}"),
    ],
)
def test_an_unknown_word_says_how_it_was_taken(history: Repo, word: str, message: str) -> None:
    result = history.run("resolve", f"fraud-detector@{word}")
    assert (result.returncode, result.stderr) == (1, f"modelgate: error: {message}\n")


def test_the_readme_example(tmp_path: Path) -> None:
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    result = subprocess.run(
        [MODELGATE, "resolve", "fraud-detector@prodution"], cwd=tmp_path / "examples", capture_output=True, text=True
    )
    assert result.returncode == 1
    shown = f"$ modelgate resolve fraud-detector@prodution\n{result.stderr}```\n"
    assert shown in (REPO / "README.md").read_text()


def test_did_you_mean_for_names_and_refs(history: Repo) -> None:
    result = history.run("resolve", "fraud-detectr@production")
    assert (result.returncode, result.stderr) == (
        1,
        "modelgate: error: no model named 'fraud-detectr' (did you"
        " mean 'fraud-detector'?); models: churn, fraud-detector\n",
    )
    result = history.run("resolve", "churn", "--ref", "mian")
    assert (result.returncode, result.stderr) == (
        4,
        "modelgate: error: ref 'mian' is not a commit in this"
        " repository; check the name, or `git fetch` it (did you"
        " mean 'main'?)\n",
    )


def test_stages_are_the_governing_policys(history: Repo) -> None:
    history.write(
        "policies/acme.yaml",
        """\
        apiVersion: modelgate/v1
        kind: Policy
        name: acme
        match: {names: ["fraud-*"]}
        stages: [draft, candidate, live, retired]
        transitions: {draft: [candidate], candidate: [live], live: [retired], retired: [live]}
        """,
    )
    history.write(".modelgate.yaml", "policies: [policies/acme.yaml]\n")
    result = history.run("resolve", "fraud-detector@lve")
    assert (result.returncode, result.stderr) == (
        1,
        (
            f"modelgate: error: 'lve' is not a stage of policy acme (did you mean 'live'?), a version or an alias"
            f" of fraud-detector; {VERSIONS}\n"
        ),
    )
    result = history.run("resolve", "fraud-detector@live")  # a stage of acme, at no version: taken as a stage
    assert result.stderr == f"modelgate: error: no version of fraud-detector has stage 'live'; {VERSIONS}\n"
    result = history.run("resolve", "churn@prodution")  # acme does not match churn: builtin:default governs it
    assert "is not a stage of policy default (did you mean 'production'?)" in result.stderr
    # At a ref, the policy configured there: v2 has no configuration.
    result = history.run("resolve", "fraud-detector@lve", "--ref", "v2")
    assert result.stderr.startswith("modelgate: error: 'lve' is not a stage of policy default, a version")
    with pytest.raises(RegistryError, match=r"^'lve' is not a stage of policy acme \(did you mean 'live'\?\);"):
        modelgate.resolve("fraud-detector", stage="lve", root=history.root)
