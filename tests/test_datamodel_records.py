"""``@record`` behaves as ``@dataclass(frozen=True)`` does, with shared eq, hash and repr."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from modelgate.datamodel.records import record


@record
class Point:
    x: int
    y: int = 0
    note: str = dataclasses.field(default="", compare=False, repr=False)


@record(kw_only=True)
class Named:
    name: str
    tags: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True)
class Reference:
    x: int
    y: int = 0
    note: str = dataclasses.field(default="", compare=False, repr=False)


@pytest.mark.parametrize("make", [Point, Reference], ids=["record", "dataclass"])
def test_same_behaviour_as_a_frozen_dataclass(make: Callable[..., object]) -> None:
    a, b, c = make(1, 2, "one"), make(1, 2, "other"), make(1, 3)
    assert a == b and a != c and hash(a) == hash(b)
    assert {a, b, c} == {a, c}
    assert repr(a).endswith("(x=1, y=2)")
    assert a != (1, 2) and (a == object()) is False
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.x = 5  # type: ignore[attr-defined]
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.note = "set after __init__"  # type: ignore[attr-defined]
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.extra = 1  # type: ignore[attr-defined]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del a.y  # type: ignore[attr-defined]
    assert dataclasses.replace(a, y=9) == make(1, 9)  # type: ignore[type-var]
    assert dataclasses.asdict(a) == {"x": 1, "y": 2, "note": "one"}  # type: ignore[call-overload]


def test_copies_and_pickles_stay_frozen() -> None:
    import copy
    import pickle

    point = Point(1, 2, "n")
    for twin in (copy.copy(point), copy.deepcopy(point), pickle.loads(pickle.dumps(point))):
        assert twin == point and twin.note == "n"
        with pytest.raises(dataclasses.FrozenInstanceError):
            twin.x = 3  # type: ignore[misc]


def test_a_record_of_another_class_is_not_equal() -> None:
    assert Point(1, 2) != Reference(1, 2)
    assert Point(1) == Point(1, 0)


def test_keyword_only_records() -> None:
    with pytest.raises(TypeError):
        Named("n")  # type: ignore[misc]
    named = Named(name="n")
    assert named == Named(name="n", tags=[]) and repr(named) == "Named(name='n', tags=[])"
    with pytest.raises(TypeError):
        hash(named)  # a list field: unhashable, as with a dataclass
