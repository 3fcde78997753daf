"""``@record``: a frozen dataclass that is cheap to declare.

``dataclasses`` writes and compiles every generated method on its own, and a frozen class
has six of them; some fifty are declared on every start, and declaring them was a fifth of
a ``modelgate check``. A record lets ``dataclasses`` generate only ``__init__`` (and the
frozen ``__setattr__`` and ``__delattr__``, which are replaced) and takes the rest from
here, one implementation for all: ``__eq__`` and ``__hash__`` by the fields that
``compare``, ``__repr__`` of the fields that ``repr``, and immutability: a field is set
once, by ``__init__``, and never again (``FrozenInstanceError``, as for a frozen dataclass).

``frozen=True`` is asked for its ``__init__``, which sets fields with ``object.__setattr__``
rather than through a ``__setattr__`` written in Python: building a record is 2-4 times
faster (20,000 results: 194 ms -> 46-83 ms on the slow benchmark machine), and a run over a
large registry builds tens of thousands (results, history entries), for about 13 ms more
at start-up.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar, dataclass_transform, overload

T = TypeVar("T")


@overload
def record(cls: type[T], /) -> type[T]: ...


@overload
def record(*, kw_only: bool = False) -> Callable[[type[T]], type[T]]: ...


@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field, dataclasses.Field))
def record(cls: type[T] | None = None, /, *, kw_only: bool = False) -> Any:
    """``@record`` or ``@record(kw_only=True)`` on a class, as ``@dataclass(frozen=True)``."""

    def wrap(klass: type[T]) -> type[T]:
        made = dataclasses.dataclass(kw_only=kw_only, repr=False, eq=False, frozen=True)(klass)
        made.__eq__ = _eq  # type: ignore[method-assign]
        made.__hash__ = _hash  # type: ignore[method-assign]
        made.__repr__ = _repr  # type: ignore[method-assign]
        made.__setattr__ = _set_once  # type: ignore[method-assign]
        made.__delattr__ = _no_delete  # type: ignore[method-assign]
        return made

    return wrap if cls is None else wrap(cls)


def _compared(self: Any) -> tuple[Any, ...]:
    return tuple(getattr(self, f.name) for f in dataclasses.fields(self) if f.compare)


def _eq(self: Any, other: object) -> Any:  # bool, or NotImplemented
    if other.__class__ is not self.__class__:
        return NotImplemented
    return _compared(self) == _compared(other)


def _hash(self: Any) -> int:
    return hash(_compared(self))


def _repr(self: Any) -> str:
    shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in dataclasses.fields(self) if f.repr)
    return f"{self.__class__.__qualname__}({shown})"


def _set_once(self: Any, name: str, value: Any) -> None:
    if name in self.__dict__ or name not in self.__dataclass_fields__:
        raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")
    object.__setattr__(self, name, value)


def _no_delete(self: Any, name: str) -> None:
    raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")
