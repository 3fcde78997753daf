"""Manifest v1: the example corpus in tests/examples/{valid,invalid}, and the schema."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from modelgate.datamodel import manifest
from modelgate.datamodel.schemas import generate, render

EXAMPLES = Path(__file__).parent / "examples"
EXPECT = re.compile(r"^# expect: (\d+):(\d+): (.+)$", re.M)


def _cases(kind: str) -> list[Path]:
    return sorted((EXAMPLES / kind).glob("*.yaml"))


@pytest.mark.parametrize("path", _cases("valid"), ids=lambda p: p.name)
def test_valid_examples_load(path: Path) -> None:
    doc = manifest.load(str(path), path.name, root=str(path.parent))
    assert doc.problems == ()
    assert doc.model is not None
    assert doc.model.name == "fraud-detector"


@pytest.mark.parametrize("path", _cases("invalid"), ids=lambda p: p.name)
def test_invalid_examples_report_expected_problems(path: Path) -> None:
    expected = EXPECT.findall(path.read_text(encoding="utf-8"))
    assert expected, f"{path.name} must declare '# expect: LINE:COL: message' lines"
    doc = manifest.load(str(path), path.name, root=str(path.parent))
    assert doc.model is None
    found = [(p.line, p.column, p.message) for p in doc.problems]
    for line, column, message in expected:
        assert any((ln, c) == (int(line), int(column)) and m.startswith(message) for ln, c, m in found), (
            f"expected {line}:{column}: {message!r}; got {found}"
        )


def test_every_problem_is_reported_not_just_the_first(tmp_path: Path) -> None:
    path = tmp_path / "modelgate.yaml"
    path.write_text(
        "apiVersion: modelgate/v1\nkind: Model\nname: Bad Name\nversion: 1.0\n"
        "stage: none\nowners: []\nartifacts: []\nextra: 1\n"
    )
    doc = manifest.load(str(path), "modelgate.yaml", root=str(path.parent))
    lines = sorted({p.line for p in doc.problems})
    assert lines == [3, 4, 6, 7, 8]


def test_metric_shorthand_equals_long_form(tmp_path: Path) -> None:
    base = (EXAMPLES / "valid" / "minimal.modelgate.yaml").read_text()
    short = tmp_path / "a.modelgate.yaml"
    short.write_text(base + "metrics: {auc: 0.9}\n")
    long = tmp_path / "b.modelgate.yaml"
    long.write_text(base + "metrics: {auc: {value: 0.9}}\n")
    a = manifest.load(str(short), "a", root=str(short.parent)).model
    b = manifest.load(str(long), "b", root=str(long.parent)).model
    assert a is not None and b is not None
    assert a.metrics == b.metrics
    assert a.metrics["auc"].value == 0.9


def test_models_are_frozen() -> None:
    path = EXAMPLES / "valid" / "minimal.modelgate.yaml"
    model = manifest.load(str(path), "m", root=str(path.parent)).model
    assert model is not None
    with pytest.raises(dataclasses.FrozenInstanceError):
        model.stage = "production"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        model.artifacts[0].sha256 = "0" * 64  # type: ignore[misc]


def test_location_of_nested_key() -> None:
    path = EXAMPLES / "valid" / "full.modelgate.yaml"
    doc = manifest.load(str(path), "full", root=str(path.parent))
    assert doc.location("metrics.auc") == (27, 3)
    assert doc.location("artifacts[0].sha256") == (12, 5)
    assert doc.location("lineage.code.commit") == (15, 10)


@pytest.mark.parametrize("kind", ["manifest", "policy", "manifest.pydantic-core", "policyfile.pydantic-core"])
def test_committed_schema_matches_models(kind: str) -> None:
    committed = (Path(manifest.__file__).parent / "schemas" / f"{kind}.json").read_text()
    assert committed == render(generate()[kind]), (
        "schema drifted from the models: run `python -m modelgate.datamodel.schemas` and commit"
    )


def test_schema_validates_the_valid_examples() -> None:
    import jsonschema
    import yaml

    schema = json.loads((Path(manifest.__file__).parent / "schemas" / "manifest.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    for path in _cases("valid"):
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
        assert list(validator.iter_errors(data)) == [], path.name
