"""``modelgate diff``: base vs head per model version, in the terminal, Markdown and JSON."""

from __future__ import annotations

import json

import pytest

from tests.conftest import Repo, production_fields, sha256, staging_fields


def _change(repo: Repo) -> None:
    repo.manifest("models/fraud/1.0.0", **production_fields(), artifact_bytes=b"w1")
    repo.manifest("models/churn", **staging_fields(name="churn"))
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")
    fields = staging_fields(
        version="1.1.0",
        metrics={"auc": {"value": 0.95, "goal": "maximize"}, "latency_ms": {"value": 14.0, "goal": "minimize"}},
    )
    fields["lineage"]["params"] = {"learning_rate": 0.03, "depth": 6}
    repo.manifest("models/fraud/1.1.0", **fields, artifact_bytes=b"w2")
    repo.manifest("models/churn", **staging_fields(name="churn", stage="rejected"))


def test_diff_in_the_terminal(repo: Repo) -> None:
    _change(repo)
    result = repo.run("diff", "main")
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "churn@1.0.0 (changed)  models/churn/modelgate.yaml\n"
        "  stage: staging -> rejected\n"
        "fraud-detector@1.1.0 (new; compared with 1.0.0)  models/fraud/1.1.0/modelgate.yaml\n"
        "  version: 1.0.0 -> 1.1.0\n"
        "  stage: production -> staging\n"
        f"  artifacts[model.bin].sha256: {sha256(b'w1')} -> {sha256(b'w2')}\n"
        "  lineage.params.depth: - -> 6\n"
        "  lineage.params.learning_rate: 0.05 -> 0.03\n"
        "  lineage.environment.lockfile.path: requirements.lock -> -\n"
        f"  lineage.environment.lockfile.sha256: {sha256(b'numpy==2.1.2' + bytes([10]))} -> -\n"
        "  metrics.auc: 0.93 -> 0.95  (+0.02 better)\n"
        "  metrics.latency_ms: - -> 14.0\n"
        "2 model versions changed against main\n"
    )


def test_diff_of_one_model_as_markdown_and_json(repo: Repo) -> None:
    _change(repo)
    markdown = repo.run("diff", "main", "churn", "--format", "markdown")
    assert markdown.returncode == 0, markdown.stderr
    assert markdown.stdout == (
        "### Model changes against main\n"
        "\n"
        "#### `churn@1.0.0` (changed)\n"
        "\n"
        "Manifest: `models/churn/modelgate.yaml`\n"
        "\n"
        "| field | base | head | change |\n"
        "|---|---|---|---|\n"
        "| stage | staging | rejected |  |\n"
    )
    data = json.loads(repo.run("diff", "churn", "--format", "json").stdout)  # one word: a model, not a ref
    assert data["base"] == "HEAD"
    assert data["models"] == [
        {
            "name": "churn",
            "version": "1.0.0",
            "manifest": "models/churn/modelgate.yaml",
            "status": "changed",
            "compared_with": None,
            "changes": [{"field": "stage", "before": "staging", "after": "rejected", "note": None}],
        }
    ]


def test_nothing_changed(repo: Repo) -> None:
    repo.manifest("m", **staging_fields(name="m"))
    repo.commit("one")
    result = repo.run("diff")
    assert (result.returncode, result.stdout) == (0, "no model changes against HEAD\n")


# -- any two versions, at any refs: diff [REF:]NAME@A [REF:]NAME@B --------------------------


def _two_versions(repo: Repo) -> None:
    repo.manifest("models/fraud/1.0.0", **production_fields(), artifact_bytes=b"w1")
    repo.commit("1.0.0")
    repo.git("tag", "v1")
    fields = staging_fields(version="1.1.0", metrics={"auc": {"value": 0.95, "goal": "maximize"}})
    fields["lineage"]["params"] = {"learning_rate": 0.03}
    repo.manifest("models/fraud/1.1.0", **fields, artifact_bytes=b"w2")
    repo.commit("1.1.0")


def test_diff_of_two_versions_in_the_work_tree(repo: Repo) -> None:
    _two_versions(repo)
    result = repo.run("diff", "fraud-detector@1.0.0", "fraud-detector@latest")
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "fraud-detector@1.0.0 (work tree) -> fraud-detector@1.1.0 (work tree)\n"
        "  manifest: models/fraud/1.0.0/modelgate.yaml -> models/fraud/1.1.0/modelgate.yaml\n"
        "  version: 1.0.0 -> 1.1.0\n"
        "  stage: production -> staging\n"
        f"  artifacts[model.bin].sha256: {sha256(b'w1')} -> {sha256(b'w2')}\n"
        "  lineage.params.learning_rate: 0.05 -> 0.03\n"
        "  lineage.environment.lockfile.path: requirements.lock -> -\n"
        f"  lineage.environment.lockfile.sha256: {sha256(b'numpy==2.1.2' + bytes([10]))} -> -\n"
        "  metrics.auc: 0.93 -> 0.95  (+0.02 better)\n"
        "8 fields differ\n"
    )


def test_diff_of_one_version_at_two_refs(repo: Repo) -> None:
    _two_versions(repo)
    repo.manifest("models/fraud/1.0.0", **production_fields(stage="archived"), artifact_bytes=b"w1")
    # The same version at the tag and in the work tree; a stage in one, a version in the other.
    result = repo.run("diff", "v1:fraud-detector@production", "fraud-detector@1.0.0", "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["a"]["ref"], data["a"]["commit"], data["a"]["version"]) == ("v1", repo.git("rev-parse", "v1"), "1.0.0")
    assert (data["b"]["ref"], data["b"]["commit"]) == (None, None)
    assert data["changes"] == [{"field": "stage", "before": "production", "after": "archived", "note": None}]
    same = repo.run("diff", "v1:fraud-detector@1.0.0", "HEAD:fraud-detector@1.0.0", "--format", "markdown")
    assert same.stdout == (
        "### `fraud-detector@1.0.0` \\(v1\\) → `fraud-detector@1.0.0` \\(HEAD\\)\n\nNo differences.\n"
    )


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (
            ["mian:fraud-detector@1.0.0", "fraud-detector@1.1.0"],
            4,
            "ref 'mian' is not a commit in this repository; check the name, or `git fetch` it (did you mean 'main'?)",
        ),
        (
            ["fraud-detector@1.0.0", "fraud-detector@1.2.0"],
            1,
            "no version of fraud-detector has version 1.2.0 (did you mean '1.1.0'?); versions: 1.0.0 (production),"
            " 1.1.0 (staging)",
        ),
        (["v1:fraud-detector@1.1.0", "fraud-detector@1.1.0"], 1, "no version of fraud-detector has version 1.1.0 at "),
        (["fraud-detector@1.0.0"], 4, "diff NAME@A NAME@B compares two versions: give both"),
        # Without the pair form, a mistyped ref or model name is an error too, never "no model changes".
        (
            ["mian"],
            4,
            "'mian' is neither a commit nor a model at HEAD or in the work tree (did you mean 'main'?);"
            " models: fraud-detector",
        ),
        (
            ["main", "fraud-detectr"],
            1,
            "no model named 'fraud-detectr' at main or in the work tree (did you mean"
            " 'fraud-detector'?); models: fraud-detector",
        ),
        (["mian", "fraud-detector"], 4, "base 'mian' is not a commit in this repository"),
    ],
)
def test_a_mistyped_word_is_an_error_never_no_changes(repo: Repo, args: list[str], code: int, message: str) -> None:
    _two_versions(repo)
    result = repo.run("diff", *args)
    assert (result.returncode, result.stdout) == (code, "")
    assert result.stderr.startswith(f"modelgate: error: {message}"), result.stderr


def test_diff_of_versions_of_two_models_names_both(repo: Repo) -> None:
    _two_versions(repo)
    repo.manifest("models/churn", **staging_fields(name="churn"), artifact_bytes=b"w1")
    data = json.loads(repo.run("diff", "fraud-detector@1.0.0", "churn@latest", "--format", "json").stdout)
    assert data["changes"][:2] == [
        {"field": "name", "before": "fraud-detector", "after": "churn", "note": None},
        {
            "field": "manifest",
            "before": "models/fraud/1.0.0/modelgate.yaml",
            "after": "models/churn/modelgate.yaml",
            "note": None,
        },
    ]
