"""Plain data to frozen dataclasses and back (modelgate/datamodel/structure.py): built from
the classes' type hints, with no validation, and the same hints typing reads."""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing
from pathlib import Path
from typing import Annotated

import pytest

from modelgate.checks.governance import ApprovalParams
from modelgate.checks.metrics import ThresholdParams
from modelgate.datamodel import manifest, structure
from modelgate.datamodel.policy import PolicyFile
from modelgate.datamodel.records import record
from modelgate.datamodel.validation import Constraint, Strict


@dataclasses.dataclass(frozen=True, kw_only=True)
class Reading(Strict):
    __pydantic_config__ = Strict.renamed(value_="value")

    value_: float
    unit: str = "ms"
    labels: list[str] = dataclasses.field(default_factory=list)
    taken: dt.date | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class Series(Strict):
    readings: list[Reading]
    named: dict[str, Reading] = dataclasses.field(default_factory=dict)


def test_structure_builds_nested_classes_by_yaml_key_and_unstructure_gives_the_data_back() -> None:
    data = {"readings": [{"value": 1, "taken": "2026-12-01"}], "named": {"p99": {"value": 2.5, "labels": ["t"]}}}
    built = structure.structure(Series, data)
    assert built == Series(
        readings=[Reading(value_=1.0, taken=dt.date(2026, 12, 1))], named={"p99": Reading(value_=2.5, labels=["t"])}
    )
    assert isinstance(built.readings[0].value_, float)  # an integer is a number: built as a float
    assert structure.unstructure(built)["named"] == {
        "p99": {"value": 2.5, "unit": "ms", "labels": ["t"], "taken": None}
    }


@pytest.mark.parametrize(
    "data",
    [{}, {"readings": {"value": 1}}, {"readings": [{"unit": "s"}]}, {"readings": [], "named": ["not", "a", "mapping"]}],
)
def test_data_that_does_not_fit_raises_what_validation_turns_into_a_validation(data: dict[str, object]) -> None:
    with pytest.raises(structure.DOES_NOT_FIT):
        structure.structure(Series, data)


def test_dataclasses_in_finds_only_dataclasses() -> None:
    assert structure.dataclasses_in(list[Reading] | None) == [Reading]
    assert structure.dataclasses_in(dict[str, Series]) == [Series]
    assert structure.dataclasses_in(int) == [] and structure.dataclasses_in(dict[str, int]) == []


def _strict_classes() -> list[type]:
    """Every dataclass reachable from the validated documents and built-in check params."""
    seen: list[type] = []
    todo: list[type] = [manifest.Manifest, PolicyFile, ApprovalParams, ThresholdParams]
    while todo:
        cls = todo.pop()
        if cls not in seen:
            seen.append(cls)
            todo += [found for hint in typing.get_type_hints(cls).values() for found in structure.dataclasses_in(hint)]
    return seen


@pytest.mark.parametrize("cls", _strict_classes(), ids=lambda cls: cls.__qualname__)
def test_field_hints_are_what_typing_reads(cls: type) -> None:
    """Each distinct annotation is compiled once; what it means is typing's reading."""
    assert structure._hints(cls) == typing.get_type_hints(cls, include_extras=True)


def test_field_hints_read_a_subclass_fields_and_its_bases() -> None:
    @record
    class Base(Strict):
        size: Annotated[int, Constraint(ge=0)]
        tags: list[str] | None = None

    @record
    class Child(Base):
        tags: tuple[str, ...] | None = None  # the subclass's own reading wins
        label: str = "x"

    hints = structure._hints(Child)
    assert hints == typing.get_type_hints(Child, include_extras=True)
    fields = {"size": Annotated[int, Constraint(ge=0)], "tags": tuple[str, ...] | None, "label": str}
    assert {name: hints[name] for name in fields} == fields
    # Annotations that are objects already (a class made at run time) are taken as they are.
    assert structure._hints(dataclasses.make_dataclass("Made", [("count", int)])) == {"count": int}


def test_a_verdict_is_for_this_code_that_builds_the_classes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A remembered verdict skips validation and builds with this module alone: its source
    is part of what the verdict is keyed by."""
    from modelgate.datamodel import validation

    copy = tmp_path / "structure.py"
    copy.write_bytes(Path(structure.__file__).read_bytes())
    validation.code_digest.cache_clear()
    monkeypatch.setattr(structure, "__file__", str(copy))
    try:
        before = validation.code_digest(Reading)
        copy.write_bytes(copy.read_bytes() + b"\n# edited\n")
        validation.code_digest.cache_clear()
        assert before is not None and validation.code_digest(Reading) != before
    finally:
        validation.code_digest.cache_clear()
