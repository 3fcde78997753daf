"""``@record``: a frozen dataclass that is cheap to declare.

``dataclasses`` writes and compiles every generated method on its own; a frozen class has
six, and a class without a docstring is described by ``inspect.signature``. A run declares
some seventy records at start-up, and declaring them was the largest part of its imports
(74 classes, 67-84 ms of a 100-model ``modelgate check`` on the slow benchmark machine).
A record is a dataclass (``dataclasses.fields``, ``replace`` and pydantic see it as one)
declared without any generated method. The rest comes from here, one implementation for
all: ``__eq__`` and ``__hash__`` by the fields that ``compare``, ``__repr__`` of the fields
that ``repr``, and immutability: a field is set once, by ``__init__``, and never again
(``FrozenInstanceError``, as for a frozen dataclass).

``__init__`` is written and compiled when the class is first built, as ``dataclasses``
would write it for a frozen class: fields set with ``object.__setattr__`` rather than
through a ``__setattr__`` written in Python, which makes building a record 2-4 times faster
(20,000 results: 194 ms -> 46-83 ms), and a run over a large registry builds tens of
thousands. A class that a run never builds is never compiled. (No ``InitVar``: a record's
``__post_init__`` takes no arguments.)
"""

from __future__ import annotations

import dataclasses
import inspect
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
        if klass.__doc__ is None:  # what dataclasses would make of inspect.signature(), for less
            klass.__doc__ = f"{klass.__name__}({', '.join(inspect.get_annotations(klass))})"
        made = dataclasses.dataclass(kw_only=kw_only, init=False, repr=False, eq=False)(klass)
        made.__init__ = _compile_on_first_use(made)  # type: ignore[method-assign]
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


def _compile_on_first_use(cls: type) -> Callable[..., None]:
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        init = _compiled_init(cls)
        cls.__init__ = init  # type: ignore[misc]
        init(self, *args, **kwargs)

    return __init__


_FACTORY = object()  # the default of a parameter whose field has a default_factory


def _compiled_init(cls: type) -> Callable[..., None]:
    """The ``__init__`` ``dataclasses`` writes for a frozen class, compiled once."""
    positional: list[str] = []
    keyword: list[str] = []
    body: list[str] = []
    names: dict[str, Any] = {"_set": object.__setattr__, "_FACTORY": _FACTORY}
    for f in dataclasses.fields(cls):
        factory = f.default_factory is not dataclasses.MISSING
        if factory:
            names[f"_factory_{f.name}"] = f.default_factory
        elif f.default is not dataclasses.MISSING:
            names[f"_default_{f.name}"] = f.default
        if not f.init:  # not a parameter: its default, or left unset as dataclasses leaves it
            if factory:
                body.append(f"    _set(self, {f.name!r}, _factory_{f.name}())")
            elif f.default is not dataclasses.MISSING:
                body.append(f"    _set(self, {f.name!r}, _default_{f.name})")
            continue
        if factory:
            param, value = f"{f.name}=_FACTORY", f"_factory_{f.name}() if {f.name} is _FACTORY else {f.name}"
        elif f.default is not dataclasses.MISSING:
            param, value = f"{f.name}=_default_{f.name}", f.name
        else:
            param, value = f.name, f.name
        (keyword if f.kw_only else positional).append(param)
        body.append(f"    _set(self, {f.name!r}, {value})")
    if hasattr(cls, "__post_init__"):
        body.append("    self.__post_init__()")
    params = ", ".join(["self", *positional, *(["*", *keyword] if keyword else [])])
    exec(f"def __init__({params}) -> None:\n" + "\n".join(body or ["    pass"]) + "\n", names)
    init: Callable[..., None] = names["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init
