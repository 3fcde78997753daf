"""The repository as a registry: ``resolve`` and ``list``, at the work tree and at refs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import modelgate
from modelgate.errors import RegistryError
from tests.conftest import Repo, production_fields, staging_fields


@pytest.fixture
def history(repo: Repo) -> Repo:
    """v1: 1.0.0 in production. v2 (tag v2): 1.1.0 in production, 1.0.0 archived, aliases."""
    repo.manifest("models/fraud/1.0.0", **production_fields(), artifact_bytes=b"weights 1.0.0")
    repo.commit("1.0.0 to production")
    repo.git("tag", "v1")
    repo.manifest("models/fraud/1.0.0", **production_fields(stage="archived"), artifact_bytes=b"weights 1.0.0")
    repo.manifest("models/fraud/1.1.0", **production_fields(version="1.1.0", aliases=["champion"]),
                  artifact_bytes=b"weights 1.1.0")
    repo.manifest("models/churn", **staging_fields(name="churn", version="0.3.0"))
    repo.commit("1.1.0 to production")
    repo.git("tag", "v2")
    return repo


def test_resolve_production_at_different_refs(history: Repo) -> None:
    now = history.run("resolve", "fraud-detector@production")
    assert now.returncode == 0, now.stderr
    assert now.stdout.splitlines()[:2] == ["fraud-detector@1.1.0 production aliases: champion",
                                           "manifest: models/fraud/1.1.0/modelgate.yaml"]
    before = history.run("resolve", "fraud-detector@production", "--ref", "v1", "--json")
    assert before.returncode == 0, before.stderr
    data = json.loads(before.stdout)
    assert (data["version"], data["manifest"], data["commit"]) == (
        "1.0.0", "models/fraud/1.0.0/modelgate.yaml", history.git("rev-parse", "v1"))
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


@pytest.mark.parametrize(("selector", "message"), [
    ("fraud-detector", "2 versions of fraud-detector match any version: 1.0.0, 1.1.0;"
                       " ask for one: fraud-detector@VERSION, @STAGE or @ALIAS"),
    ("fraud-detector@staging", "no version of fraud-detector has stage 'staging'; versions: 1.0.0 (archived),"
                               " 1.1.0 (production)"),
    ("nope@production", "no model named 'nope'; models: churn, fraud-detector"),
])
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
    assert result.stderr.startswith("modelgate: error: models/fraud/1.1.0/model.bin: does not match"
                                    " models/fraud/1.1.0/modelgate.yaml: expected sha256 ")
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
