"""A class's pydantic-core schema as JSON, so that a run validates without importing pydantic.

``import pydantic`` and building a class's validator with it (``TypeAdapter``) is most of
what a small ``modelgate check`` in CI costs beyond reading the files: 180 ms on a slow
2-core machine, against under a millisecond for pydantic-core to build the same validator
from the schema pydantic derives (benchmarks/monorepo.py, 100 models). So that schema is
committed next to the published JSON Schemas (``python -m modelgate.datamodel.schemas``
writes it) and stamped with the code that decides validity
(:func:`modelgate.datamodel.validation.code_digest`: modelgate's, pydantic's and
pydantic-core's releases and the source of the modules involved). A run uses it only
under the same stamp and asks pydantic otherwise; a test keeps it equal to what pydantic
derives today.

What JSON cannot hold is written by name: a class or function as
``{"$python": "module:qualname"}`` (resolved only inside modelgate, or a built-in type
such as ``list`` for a default: the file ships with the package, and nothing else is
meant to be named in it), a definition's reference
without the object id pydantic appends to it. ``metadata`` (pydantic's hints for its JSON
Schema, never read when validating) is left out.
"""

from __future__ import annotations

import builtins
import importlib
import re
from pathlib import Path
from typing import Any

_NAME = "$python"
_REF_ID = re.compile(r":\d+$")
_FOLDER = Path(__file__).parent / "schemas"


def path(cls: type) -> Path:
    """Where the committed schema of ``cls`` is (it may not exist)."""
    return _FOLDER / f"{cls.__name__.lower()}.pydantic-core.json"


def dump(schema: Any) -> Any:
    """``schema`` as plain JSON data; raises ``TypeError`` for a value it cannot name."""
    if isinstance(schema, dict):
        out = {}
        for key, value in schema.items():
            if key == "metadata":
                continue
            if key in ("ref", "schema_ref") and isinstance(value, str):
                value = _REF_ID.sub("", value)
            out[key] = dump(value)
        return out
    if isinstance(schema, list | tuple):
        return [dump(item) for item in schema]
    if schema is None or isinstance(schema, str | int | float | bool):
        return schema
    name = f"{getattr(schema, '__module__', '')}:{getattr(schema, '__qualname__', '')}"
    try:
        named = _resolve(name) == schema
    except (TypeError, AttributeError, ImportError):
        named = False
    if not named:  # a lambda, a closure, something outside modelgate
        raise TypeError(f"cannot name {schema!r} in a schema file")
    return {_NAME: name}


def load(data: Any) -> Any:
    """The schema :func:`dump` wrote, its names resolved again."""
    if isinstance(data, dict):
        if len(data) == 1 and _NAME in data:
            return _resolve(data[_NAME])
        return {key: load(value) for key, value in data.items()}
    if isinstance(data, list):
        return [load(item) for item in data]
    return data


def _resolve(name: str) -> Any:
    module, _, qualname = name.partition(":")
    if module == "builtins" and isinstance(getattr(builtins, qualname, None), type):
        return getattr(builtins, qualname)  # a default factory: list, dict
    if not qualname or (module != "modelgate" and not module.startswith("modelgate.")):
        raise TypeError(f"{name!r} is not a name inside modelgate")
    found: Any = importlib.import_module(module)
    for part in qualname.split("."):
        found = getattr(found, part)
    return found
