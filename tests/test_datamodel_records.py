"""``@record`` behaves as ``@dataclass(frozen=True)`` does, with shared eq, hash and repr."""

from __future__ import annotations

import dataclasses
import inspect
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


def test_init_is_written_when_first_built_as_dataclasses_writes_it() -> None:
    @record
    class Late:
        a: int
        b: list[int] = dataclasses.field(default_factory=list)
        c: str = dataclasses.field(default="c", init=False)
        d: dict[str, int] = dataclasses.field(default_factory=dict, init=False)
        e: int = dataclasses.field(default=5, kw_only=True)

        def __post_init__(self) -> None:
            if self.a < 0:
                raise ValueError("a must not be negative")

    stub = Late.__init__
    first = Late(1)
    assert Late.__init__ is not stub  # compiled once, by the first build, for every later one
    params = inspect.signature(Late.__init__).parameters
    assert [(p.name, p.kind.name) for p in params.values()] == [
        ("self", "POSITIONAL_OR_KEYWORD"),
        ("a", "POSITIONAL_OR_KEYWORD"),
        ("b", "POSITIONAL_OR_KEYWORD"),
        ("e", "KEYWORD_ONLY"),
    ]
    assert (first.a, first.b, first.c, first.d, first.e) == (1, [], "c", {}, 5)
    assert Late(1).b is not first.b and Late(1).d is not first.d  # a new list and dict each time
    assert Late(2, [3], e=4) == Late(a=2, b=[3], e=4)
    with pytest.raises(ValueError, match="negative"):
        Late(-1)
    with pytest.raises(TypeError):
        Late(1, [], 4)  # type: ignore[call-arg]  # e is keyword-only
    with pytest.raises(TypeError):
        Late()  # type: ignore[call-arg]
    assert Late.__doc__ == "Late(a, b, c, d, e)"  # no inspect.signature at declaration
