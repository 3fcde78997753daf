"""``@record``: a frozen dataclass whose ``__eq__``, ``__hash__`` and ``__repr__`` are shared.

``dataclasses`` writes and compiles every generated method on its own, about 0.1 ms each;
with some fifty frozen dataclasses imported on every start, their equality, hash and repr
methods were a seventh of a ``modelgate check``. A record generates only ``__init__`` and
the frozen ``__setattr__``/``__delattr__``, and takes the other three from here: the same
behaviour (compare and hash by the fields that ``compare``, show the fields that ``repr``),
one implementation.
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
        made = dataclasses.dataclass(frozen=True, kw_only=kw_only, repr=False, eq=False)(klass)
        made.__eq__ = _eq  # type: ignore[method-assign]
        made.__hash__ = _hash  # type: ignore[method-assign]
        made.__repr__ = _repr  # type: ignore[method-assign]
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
