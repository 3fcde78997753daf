"""The committed pydantic-core schemas: the validators a run builds from them judge as
pydantic does, they are used only under the code that wrote them, and they name nothing
outside modelgate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from modelgate.datamodel import coreschema, strictyaml, validation
from modelgate.datamodel.manifest import Manifest
from modelgate.datamodel.policy import PolicyFile
from modelgate.errors import InputError

EXAMPLES = Path(__file__).parent / "examples"
POLICIES = Path(__file__).parents[1] / "modelgate" / "policies"


def _documents() -> list[tuple[type, Any]]:
    found: list[tuple[type, Any]] = []
    for path in sorted(EXAMPLES.glob("*/*.yaml")):
        try:
            found.append((Manifest, strictyaml.parse(path.read_bytes(), path.name).data))
        except InputError:  # a YAML-level failure never reaches validation
            continue
    for path in sorted(POLICIES.glob("*.yaml")):
        found.append((PolicyFile, strictyaml.parse(path.read_bytes(), path.name).data))
    # What a pull request could write wrong, field by field.
    manifest = found[0][1]
    found += [
        (Manifest, {**manifest, "version": 1}),
        (Manifest, {**manifest, "surprise": True}),
        (Manifest, {**manifest, "name": "Not A Name"}),
        (Manifest, {**manifest, "license": "mit"}),
        (Manifest, {**manifest, "metrics": {"auc": "high"}}),
        (Manifest, {**manifest, "artifacts": [{"path": "m.bin", "sha256": "00", "size": -1}]}),
        (PolicyFile, {"apiVersion": "modelgate/v1", "kind": "Policy", "name": "p", "match": {"names": "x"}}),
    ]
    return found


@pytest.mark.parametrize("cls, data", _documents())
def test_the_committed_schema_judges_as_pydantic_does(cls: type, data: Any) -> None:
    prebuilt = validation._prebuilt(cls)
    assert prebuilt is not None, "the committed schema is stale: run `python -m modelgate.datamodel.schemas`"
    pydantic = validation._type_adapter(cls)
    text = json.dumps(data)
    assert _errors(prebuilt, text) == _errors(pydantic, text)


def test_some_documents_above_are_invalid() -> None:
    """The comparison above covers errors, not only passes."""
    invalid = [d for cls, d in _documents() if _errors(validation._type_adapter(cls), json.dumps(d))]
    assert len(invalid) >= 7


def _errors(validator: Any, text: str) -> list[dict[str, Any]]:
    from pydantic_core import ValidationError

    try:
        validator.validate_json(text)
    except ValidationError as exc:
        return list(exc.errors(include_url=False))  # type: ignore[arg-type]
    return []


def test_a_schema_written_under_other_code_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    written = json.loads(coreschema.path(Manifest).read_text())
    stale = tmp_path / "manifest.pydantic-core.json"
    stale.write_text(json.dumps({**written, "stamp": "0" * 64}))
    monkeypatch.setattr(coreschema, "path", lambda cls: stale)
    assert validation._prebuilt(Manifest) is None
    assert type(validation._build(Manifest)).__name__ == "TypeAdapter"  # pydantic builds it instead
    stale.write_text(json.dumps(written))
    assert type(validation._build(Manifest)).__name__ == "SchemaValidator"
    stale.write_text("{not json")
    assert validation._prebuilt(Manifest) is None
    stale.write_text("[]")  # JSON, but not what the writer writes
    assert validation._prebuilt(Manifest) is None
    stale.unlink()
    assert validation._prebuilt(Manifest) is None


def test_names_resolve_only_inside_modelgate_or_to_builtin_types() -> None:
    assert coreschema.load({"$python": "modelgate.datamodel.manifest:Manifest"}) is Manifest
    assert coreschema.load([{"$python": "builtins:list"}]) == [list]
    for name in ("os:system", "builtins:eval", "modelgate_evil:x", "modelgate.datamodel.manifest", "builtins:"):
        with pytest.raises(TypeError, match="not a name inside modelgate"):
            coreschema.load({"$python": name})


def test_dump_writes_names_drops_metadata_and_object_ids_and_refuses_what_it_cannot_name() -> None:
    schema = {
        "type": "definitions",
        "schema": {"type": "definition-ref", "schema_ref": "modelgate.x.Y:140234"},
        "definitions": ({"cls": Manifest, "ref": "modelgate.x.Y:140234", "metadata": {"f": print}},),
    }
    dumped = coreschema.dump(schema)
    assert dumped == {
        "type": "definitions",
        "schema": {"type": "definition-ref", "schema_ref": "modelgate.x.Y"},
        "definitions": [{"cls": {"$python": "modelgate.datamodel.manifest:Manifest"}, "ref": "modelgate.x.Y"}],
    }
    assert coreschema.load(json.loads(json.dumps(dumped)))["definitions"][0]["cls"] is Manifest
    with pytest.raises(TypeError, match="cannot name"):
        coreschema.dump({"default_factory": lambda: []})
