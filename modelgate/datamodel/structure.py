"""Plain data to frozen dataclasses and back, by the classes' type hints, without pydantic.

:func:`structure` builds a dataclass (``@record``) from plain data that is valid already:
:mod:`modelgate.datamodel.validation` validates it first, or knows that these exact bytes
were found valid. It raises one of :data:`DOES_NOT_FIT` when the data does not match the
class, which that module turns into a validation by pydantic, never into a pass.
:func:`unstructure` is the way back, keyed as in YAML.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import inspect  # dataclasses imports it anyway
import sys
import types
import typing
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
Convert = Callable[[Any], Any]
# What building from data that does not match the class raises (and __post_init__'s ValueError).
DOES_NOT_FIT = (TypeError, ValueError, KeyError, AttributeError)
_MISSING = dataclasses.MISSING


def structure(cls: type[T], data: Any) -> T:
    """An instance of the dataclass ``cls`` built from valid plain data, no validation.

    Like pickle, it fills the instance's ``__dict__`` instead of calling ``__init__``: a
    large registry builds tens of thousands of these, and the data is valid already. A
    ``__post_init__`` still runs, so a class's own rules hold on this path too.
    """
    shorthand = getattr(cls, "from_shorthand", None)
    if shorthand is not None:
        data = shorthand(data)
    if not isinstance(data, dict):
        raise TypeError(f"{cls.__name__}: expected a mapping")
    values = {}
    for name, key, convert, default in plan(cls):  # type: ignore[arg-type]  # a class is hashable
        if key in data:
            value = data[key]
            values[name] = value if convert is None or value is None else convert(value)
        elif default is None:
            raise TypeError(f"{cls.__name__}: {key!r} is missing")
        else:
            values[name] = default()
    made = object.__new__(cls)
    slots = getattr(made, "__dict__", None)
    if slots is None:  # a class with __slots__: build it the ordinary way
        return cls(**values)
    slots.update(values)
    post_init = getattr(made, "__post_init__", None)
    if post_init is not None:
        post_init()
    return made


@functools.cache
def plan(cls: type) -> tuple[tuple[str, str, Convert | None, Callable[[], Any] | None], ...]:
    """(attribute, YAML key, converter, default) per field of ``cls``, worked out once per class;
    the default is a function giving the value for a missing key, None for a required one."""
    return tuple((f.name, key, _converter(hint), _default(f)) for f, key, hint in _fields(cls))


def _fields(cls: type) -> list[tuple[dataclasses.Field[Any], str, Any]]:
    """(field, YAML key, type hint) per field of the dataclass ``cls``."""
    hints = _hints(cls)
    alias = getattr(cls, "__pydantic_config__", {}).get("alias_generator") or (lambda name: name)
    return [(f, alias(f.name), hints[f.name]) for f in dataclasses.fields(cls)]


def _hints(cls: type) -> dict[str, Any]:
    """``typing.get_type_hints(cls, include_extras=True)`` for annotations written as
    strings (``from __future__ import annotations``), each distinct string of a module
    compiled once: ``get_type_hints`` compiles every annotation again, 10-16 ms of a
    100-model run for the classes it builds."""
    hints: dict[str, Any] = {}
    for base in reversed(cls.__mro__):
        annotations = inspect.get_annotations(base)
        if not annotations:
            continue
        namespace = sys.modules[base.__module__].__dict__
        local = dict(vars(base))
        for name, value in annotations.items():
            hints[name] = eval(_compiled(value), namespace, local) if isinstance(value, str) else value
    return hints


@functools.cache
def _compiled(annotation: str) -> types.CodeType:
    return compile(annotation, "<annotation>", "eval")


def _default(f: dataclasses.Field[Any]) -> Callable[[], Any] | None:
    if f.default_factory is not _MISSING:
        return f.default_factory
    if f.default is not _MISSING:
        return functools.partial(_constant, f.default)
    return None


def _constant(value: T) -> T:
    return value


def field_hints(cls: type) -> dict[str, Any]:
    """YAML key -> type hint, for each field of the dataclass ``cls``."""
    return {key: hint for _, key, hint in _fields(cls)}


def _converter(hint: Any) -> Convert | None:
    """How to turn a valid plain value into ``hint``'s type; None: use it as it is."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is typing.Annotated:
        return _converter(args[0])
    if origin in (typing.Union, types.UnionType):
        arms = [a for a in args if a is not type(None)]
        return _converter(arms[0]) if len(arms) == 1 else None
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return functools.partial(structure, hint)
    if origin is list:
        item = _converter(args[0])
        if item is None:
            return _list
        return lambda v: [item(x) for x in _list(v)]
    if origin is dict:
        value = _converter(args[1])
        if value is None:
            return _dict
        return lambda v: {k: value(x) for k, x in _dict(v).items()}
    if hint is float:
        return float  # strict validation lets an integer through as a number
    if hint is dt.date:
        return lambda v: v if isinstance(v, dt.date) else dt.date.fromisoformat(v)
    return None


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError("expected a list")
    return value


def _dict(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError("expected a mapping")
    return value


def dataclasses_in(hint: Any) -> list[type]:
    """The dataclasses a type hint mentions (``list[Artifact] | None`` -> ``[Artifact]``)."""
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return [hint]
    return [found for arg in typing.get_args(hint) for found in dataclasses_in(arg)]


def unstructure(value: Any, exclude_none: bool = False) -> Any:
    """Dataclasses back to plain dicts keyed by YAML key; lists and dicts copied."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {}
        for name, key, _, _ in plan(type(value)):
            item = getattr(value, name)
            if item is None and exclude_none:
                continue
            out[key] = unstructure(item, exclude_none)
        return out
    if isinstance(value, list | tuple):
        return [unstructure(v, exclude_none) for v in value]
    if isinstance(value, dict):
        return {k: unstructure(v, exclude_none) for k, v in value.items()}
    return value
