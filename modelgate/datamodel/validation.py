"""Plain frozen data, validated by pydantic-core only when the same bytes were never validated.

Manifests, policies and built-in check params are frozen dataclasses (``@record``) deriving
from :class:`Strict`. Their constraints are :class:`Constraint` annotations, which pydantic
reads through its public ``__get_pydantic_core_schema__`` hook to derive each class's
pydantic-core schema. That schema is committed (:mod:`modelgate.datamodel.coreschema`), so
a run validates with pydantic-core alone and imports pydantic only when the committed
schema was written under other code. :func:`load` is the one way in:

* a *miss*: the data is validated (strict, unknown keys forbidden), then
  :func:`~modelgate.datamodel.structure.structure` builds the dataclasses and the verdict
  is remembered;
* a *hit* (a verdict store knows these exact bytes were valid, under this modelgate
  version and this code): ``structure`` alone, validating nothing.

``import pydantic`` plus building a model costs about as much as the rest of a
``modelgate check`` of one manifest, so start-up depends on skipping it. A verdict store
is the per-clone hash cache; CI and ``--no-cache`` run without one and always validate.
"""

from __future__ import annotations

import functools
import hashlib
import json
import sys
import threading
from typing import Any, ClassVar, Protocol, TypeVar

from modelgate.datamodel import structure as structure_module
from modelgate.datamodel.records import record
from modelgate.datamodel.structure import DOES_NOT_FIT, plan, structure, unstructure

T = TypeVar("T")


class Verdicts(Protocol):
    """Remembers which content keys were validated valid (the per-clone hash cache)."""

    def known_valid(self, key: str) -> bool: ...

    def add_valid(self, key: str) -> None: ...


class Invalid(Exception):
    """Validation failed; ``errors`` are pydantic's error dicts (``loc``, ``type``, ``msg``...)."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(errors)} validation error(s)")
        self.errors = errors


class Strict:
    """Base of validated plain data: strict types (``"0.9"`` is not a number) and no unknown keys.

    A subclass may set ``__pydantic_config__ = Strict.renamed(api_version="apiVersion")``
    for YAML keys that are not Python names, and define ``from_shorthand`` (a classmethod:
    raw value -> mapping) to accept a short form such as ``auc: 0.93``.
    """

    __pydantic_config__: ClassVar[dict[str, Any]] = {"strict": True, "extra": "forbid"}
    # What else decides validity, so that a remembered verdict is keyed by it too: modules
    # whose source is read into the key, and installed packages (import names) whose
    # release is (a bundled data file, say).
    __verdict_modules__: ClassVar[tuple[str, ...]] = ()
    __verdict_releases__: ClassVar[tuple[str, ...]] = ()

    @staticmethod
    def renamed(**keys: str) -> dict[str, Any]:
        """The pydantic config for a class whose fields ``keys`` has are spelled so in YAML."""
        return {**Strict.__pydantic_config__, "alias_generator": lambda name: keys.get(name, name)}

    def get(self, key: str) -> Any:
        """The value of the field spelled ``key`` in YAML (``apiVersion``), or None."""
        for name, spelled, _, _ in plan(type(self)):  # type: ignore[arg-type]
            if spelled == key:
                return getattr(self, name)
        return None

    def to_dict(self, exclude_none: bool = False) -> dict[str, Any]:
        """The data as plain dicts and lists, keyed as in YAML (``apiVersion``, ``with``)."""
        result = unstructure(self, exclude_none)
        assert isinstance(result, dict)
        return result

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        schema = handler(source)
        shorthand = getattr(cls, "from_shorthand", None)
        if shorthand is None:
            return schema
        from pydantic_core import core_schema

        return core_schema.no_info_before_validator_function(shorthand, schema)


@record
class Constraint:
    """Bounds on a value, as ``Annotated[str, Constraint(pattern=...)]``; applied by pydantic
    when validating and written into the published JSON Schema."""

    pattern: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    ge: float | None = None
    description: str | None = None

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        schema = handler(source)
        target = schema["schema"] if schema.get("type") == "nullable" else schema
        for key in ("pattern", "min_length", "max_length", "ge"):
            value = getattr(self, key)
            if value is not None:
                target[key] = value
        return schema

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: Any) -> Any:
        schema = handler(core_schema)
        if self.description is not None:
            schema["description"] = self.description
        return schema


def _releases(*packages: str) -> str | None:
    """``pydantic-2.14.4.dist-info pydantic_core-2.50.5.dist-info`` for the installed
    ``packages`` (import names), read from the directory listing rather than from
    importlib.metadata, which is slow to import and to query; None when one cannot be told
    (then nothing is remembered)."""
    import importlib.util
    import os

    found = []
    for package in packages:
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            return None
        site = os.path.dirname(next(iter(spec.submodule_search_locations)))
        try:
            names = [n for n in _listing(site) if n.startswith(f"{package}-") and n.endswith(".dist-info")]
        except OSError:
            return None
        if len(names) != 1:
            return None
        found += names
    return " ".join(sorted(found))


@functools.cache
def _listing(folder: str) -> tuple[str, ...]:
    import os

    return tuple(os.listdir(folder))


def load(
    cls: type[T], data: Any, verdicts: Verdicts | None = None, content: str | None = None, *, shipped: bool = False
) -> T:
    """``data`` as an instance of ``cls``; raises :class:`Invalid`.

    ``content`` names the exact input (the sha256 of a file's bytes, say); with a verdict
    store, input once found valid is not validated again. ``shipped``: the data is part of
    modelgate itself (a built-in policy, the parameters of its rules), which the test suite
    validates with pydantic; it is built without pydantic, whose import and first schema
    are most of a small run's start-up (CI keeps no verdicts). Data that does not fit is
    validated properly: an error, never a pass.
    """
    if shipped:
        try:
            return structure(cls, data)
        except DOES_NOT_FIT:
            pass
    key = verdict_key(cls, content) if verdicts is not None and content is not None else None
    if key is not None and verdicts is not None and verdicts.known_valid(key):
        try:
            return structure(cls, data)
        except DOES_NOT_FIT:
            pass  # the store says valid but the data does not fit: validate it properly
    errors = pydantic_errors(cls, data)
    if errors:
        raise Invalid(errors)
    try:
        result = structure(cls, data)
    except DOES_NOT_FIT as exc:
        # pydantic accepted what this module cannot build: a bug here, never a pass.
        raise Invalid([{"loc": (), "type": "value_error", "msg": f"cannot be read: {exc}", "input": data}]) from None
    if key is not None and verdicts is not None:
        verdicts.add_valid(key)
    return result


def verdict_key(cls: type, content: str) -> str | None:
    """What a verdict on ``content`` as ``cls`` is remembered under; None: not rememberable."""
    code = code_digest(cls)
    return hashlib.sha256(f"{code}\0{cls.__qualname__}\0{content}".encode()).hexdigest() if code else None


@functools.cache
def code_digest(cls: type) -> str | None:
    """A digest of the code that decides what is valid as ``cls``: the modelgate version, the
    installed pydantic and pydantic-core releases, and the source of the module defining
    ``cls`` (its fields, bounds, ``__post_init__``), of this one, of the strict YAML
    loader that turns the bytes into the data validated and of
    :mod:`modelgate.datamodel.structure`, which builds the classes from it, plus what ``cls`` names in
    ``__verdict_modules__`` and ``__verdict_releases__``. Reading a few files costs less
    than describing the classes field by field."""
    import importlib

    from modelgate import __version__
    from modelgate.datamodel import strictyaml

    releases = _releases("pydantic", "pydantic_core", *getattr(cls, "__verdict_releases__", ()))
    if releases is None:
        return None
    digest = hashlib.sha256(f"{__version__}\0{releases}".encode())
    extra = [importlib.import_module(name) for name in getattr(cls, "__verdict_modules__", ())]
    for module in (sys.modules.get(cls.__module__), sys.modules[__name__], strictyaml, structure_module, *extra):
        path = getattr(module, "__file__", None)
        if not path:
            return None
        try:
            with open(path, "rb") as source:
                digest.update(source.read())
        except OSError:
            return None
    return digest.hexdigest()


def pydantic_errors(cls: type, data: Any) -> list[dict[str, Any]]:
    """What pydantic finds wrong with ``data`` as ``cls`` (empty: valid).

    Validated in pydantic's JSON mode, where strict still refuses ``"1"`` for a number but
    accepts a mapping for a dataclass. The data came from YAML, so it is JSON already.
    """
    from modelgate.datamodel.pydanticcore import compiled

    try:
        text = json.dumps(data, allow_nan=False)
    except (TypeError, ValueError) as exc:
        return [{"loc": (), "type": "value_error", "msg": f"not plain data: {exc}", "input": data}]
    try:
        _adapter(cls).validate_json(text)
    except compiled().ValidationError as exc:
        return list(exc.errors(include_url=False))
    return []


def prepare(cls: type) -> None:
    """Begin building the validator of ``cls`` on a background thread: a run that will
    validate documents (CI keeps no verdicts) imports pydantic and builds the schema while
    it waits for git, 7-13% of a CI shard (benchmarks/monorepo.py, paired runs).
    :func:`pydantic_errors` takes that validator, waiting for it if need be."""
    if cls not in _adapters:
        threading.Thread(target=_adapter, args=(cls,), daemon=True).start()


# One validator per class, built once: under the lock, so a run waiting for the one a
# background thread builds takes it.
_adapters: dict[type, Any] = {}
_building = threading.Lock()


def _adapter(cls: type) -> Any:
    with _building:
        found = _adapters.get(cls)
        if found is None:
            found = _adapters[cls] = _build(cls)
        return found


def _build(cls: type) -> Any:
    """The validator of ``cls``: from its committed pydantic-core schema when that was
    written under today's code (:mod:`modelgate.datamodel.coreschema`), else by pydantic."""
    prebuilt = _prebuilt(cls)
    return prebuilt if prebuilt is not None else _type_adapter(cls)


def _prebuilt(cls: type) -> Any:
    from modelgate.datamodel import coreschema

    try:
        written = json.loads(coreschema.path(cls).read_bytes())
    except (OSError, ValueError):
        return None
    stamp = code_digest(cls)
    if stamp is None or not isinstance(written, dict) or written.get("stamp") != stamp:
        return None
    from modelgate.datamodel.pydanticcore import compiled

    return compiled().SchemaValidator(coreschema.load(written["schema"]), written["config"])


def prebuilt_schema(cls: type) -> dict[str, Any]:
    """What :mod:`modelgate.datamodel.coreschema` commits for ``cls``: pydantic's schema of
    it, the config pydantic builds its validator with, and the stamp of today's code."""
    from pydantic._internal._config import ConfigWrapper

    from modelgate.datamodel import coreschema

    return {
        "stamp": code_digest(cls),
        "config": ConfigWrapper(None).core_config(None),
        "schema": coreschema.dump(_type_adapter(cls).core_schema),
    }


def _type_adapter(cls: type) -> Any:
    import os

    from pydantic import TypeAdapter

    # Without pydantic's plugins (the "pydantic" entry points): what is valid is modelgate's
    # own verdict, no installed package looks on, and finding them reads the metadata of
    # every installed package (90 ms of a run in an environment of 200 packages). Set only
    # while the validator is built, which is when pydantic asks: a host process (the pytest
    # plugin) keeps its own setting.
    with _environ:
        previous = os.environ.get(_NO_PLUGINS)
        os.environ[_NO_PLUGINS] = "__all__"
        try:
            return TypeAdapter(cls)
        finally:
            if previous is None:
                del os.environ[_NO_PLUGINS]
            else:
                os.environ[_NO_PLUGINS] = previous


_NO_PLUGINS = "PYDANTIC_DISABLE_PLUGINS"
_environ = threading.Lock()  # one thread at a time sets and puts back the variable above


def json_schema(cls: type) -> dict[str, Any]:
    """The JSON Schema pydantic derives from ``cls`` (keys by alias)."""
    schema: dict[str, Any] = _type_adapter(cls).json_schema(by_alias=True)
    return schema
