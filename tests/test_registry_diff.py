"""``modelgate diff``: base vs head per model version, in the terminal, Markdown and JSON."""

from __future__ import annotations

import json

from tests.conftest import Repo, production_fields, sha256, staging_fields


def _change(repo: Repo) -> None:
    repo.manifest("models/fraud/1.0.0", **production_fields(), artifact_bytes=b"w1")
    repo.manifest("models/churn", **staging_fields(name="churn"))
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")
    fields = staging_fields(version="1.1.0", metrics={"auc": {"value": 0.95, "goal": "maximize"},
                                                      "latency_ms": {"value": 14.0, "goal": "minimize"}})
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
    assert data["models"] == [{"name": "churn", "version": "1.0.0", "manifest": "models/churn/modelgate.yaml",
                               "status": "changed", "compared_with": None,
                               "changes": [{"field": "stage", "before": "staging", "after": "rejected",
                                            "note": None}]}]


def test_nothing_changed(repo: Repo) -> None:
    repo.manifest("m", **staging_fields(name="m"))
    repo.commit("one")
    result = repo.run("diff")
    assert (result.returncode, result.stdout) == (0, "no model changes against HEAD\n")
