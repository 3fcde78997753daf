"""``modelgate export --format cyclonedx``: a CycloneDX 1.6 ML-BOM that CycloneDX's own
JSON schema (shipped in cyclonedx-python-lib, read offline) accepts."""

from __future__ import annotations

import json

import pytest

from tests.conftest import Repo, production_fields, sha256, staging_fields


def _validate(text: str) -> None:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    assert error is None, str(error)[:2000]


@pytest.fixture
def models(repo: Repo) -> Repo:
    fields = production_fields(
        description="Gradient-boosted fraud classifier",
        signature={
            "inputs": [{"name": "amount", "type": "float64"}],
            "outputs": [{"name": "score", "type": "float64"}],
        },
        metrics={"auc": {"value": 0.931, "goal": "maximize", "dataset": "holdout-2026-10"}, "f1": 0.88},
    )
    fields["lineage"]["code"]["repo"] = "https://github.com/acme/fraud"
    fields["lineage"]["data"].append({"name": "holdout", "uri": "s3://acme/holdout.parquet", "sha256": "b" * 64})
    repo.manifest("models/fraud", **fields, artifact_bytes=b"fraud weights")
    repo.manifest("models/churn", **staging_fields(name="churn", license="proprietary"))
    repo.commit("models")
    return repo


def test_export_validates_against_the_cyclonedx_1_6_schema(models: Repo) -> None:
    result = models.run("export", "--format", "cyclonedx", env={"SOURCE_DATE_EPOCH": "1790000000"})
    assert result.returncode == 0, result.stderr
    _validate(result.stdout)
    bom = json.loads(result.stdout)
    assert (bom["bomFormat"], bom["specVersion"]) == ("CycloneDX", "1.6")
    assert bom["metadata"]["timestamp"] == "2026-09-21T14:13:20Z"
    assert [c["bom-ref"] for c in bom["components"]] == ["churn@1.0.0", "fraud-detector@1.0.0"]
    fraud = bom["components"][1]
    assert fraud["type"] == "machine-learning-model"
    assert fraud["hashes"] == [{"alg": "SHA-256", "content": sha256(b"fraud weights")}]
    assert fraud["licenses"] == [{"expression": "Apache-2.0"}]
    assert fraud["externalReferences"] == [{"type": "vcs", "url": "https://github.com/acme/fraud"}]
    card = fraud["modelCard"]
    assert card["quantitativeAnalysis"]["performanceMetrics"] == [
        {"type": "auc", "value": "0.931", "slice": "holdout-2026-10"},
        {"type": "f1", "value": "0.88"},
    ]
    assert card["modelParameters"]["datasets"] == [
        {
            "type": "dataset",
            "name": "train",
            "contents": {"url": "data/train.parquet", "properties": [{"name": "revision", "value": "2026-10-01"}]},
        },
        {
            "type": "dataset",
            "name": "holdout",
            "contents": {"url": "s3://acme/holdout.parquet", "properties": [{"name": "sha256", "value": "b" * 64}]},
        },
    ]
    assert card["modelParameters"]["inputs"] == [{"format": "amount: float64"}]
    assert {"name": "modelgate:stage", "value": "production"} in fraud["properties"]
    assert fraud["components"][0]["name"] == "models/fraud/model.bin"
    assert bom["components"][0]["licenses"] == [{"license": {"name": "proprietary"}}]


def test_export_is_reproducible_and_selectable(models: Repo) -> None:
    env = {"SOURCE_DATE_EPOCH": "1790000000"}
    first = models.run("export", "fraud-detector@production", env=env)
    second = models.run("export", "-o", "bom.json", "fraud-detector@production", env=env)
    assert first.returncode == second.returncode == 0
    assert (models.root / "bom.json").read_text() == first.stdout
    _validate(first.stdout)
    assert [c["name"] for c in json.loads(first.stdout)["components"]] == ["fraud-detector"]
    staging = json.loads(models.run("export", "--stage", "staging", env=env).stdout)
    assert [c["name"] for c in staging["components"]] == ["churn"]


def test_a_bom_the_schema_rejects_is_noticed() -> None:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    bad = {"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"type": "mlmodel", "name": "x"}]}
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(bad)) is not None


def test_the_card_becomes_cyclonedx_model_card_considerations(repo: Repo) -> None:
    card = {
        "model_type": "gradient-boosted trees",
        "intended_use": "Score card payments for fraud review",
        "limitations": "Not validated outside the EU; <script> stays text",
        "changelog": "1.0.0: first",
    }
    repo.manifest("m", **production_fields(card=card, review_by="2027-06-30"))
    repo.manifest("n", **staging_fields(name="churn", card={"intended_use": "retention offers"}))
    repo.commit("models")
    result = repo.run("export", "--format", "cyclonedx", env={"SOURCE_DATE_EPOCH": "1790000000"})
    assert result.returncode == 0, result.stderr
    _validate(result.stdout)
    churn, fraud = json.loads(result.stdout)["components"]
    model_card = fraud["modelCard"]
    assert model_card["modelParameters"]["architectureFamily"] == "gradient-boosted trees"
    assert model_card["considerations"] == {
        "useCases": ["Score card payments for fraud review"],
        "technicalLimitations": ["Not validated outside the EU; <script> stays text"],
    }
    assert model_card["properties"] == [{"name": "modelgate:card:changelog", "value": "1.0.0: first"}]
    assert {"name": "modelgate:review_by", "value": "2027-06-30"} in fraud["properties"]
    assert churn["modelCard"]["considerations"] == {"useCases": ["retention offers"]}
    assert "architectureFamily" not in churn["modelCard"].get("modelParameters", {})
    assert "properties" not in churn["modelCard"]
