"""Manifest v1: the pydantic models, and loading a manifest file into them.

The models are frozen and strict (no coercion: a number is not a string, ``"0.95"`` is
not a number) and forbid unknown keys. The committed JSON Schema in
``modelgate/schemas/manifest.json`` is generated from them (``modelgate schema manifest``).
"""

from __future__ import annotations

import difflib
import hashlib
import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)
from typing_extensions import TypeAliasType

from modelgate import yamldoc
from modelgate.errors import InputError, Problem

NAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,127}$"
SHA256_PATTERN = r"^[0-9a-f]{64}$"
COMMIT_PATTERN = r"^[0-9a-f]{40}$"
REF_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,127}@[^@\s]+$"

Sha256 = Annotated[str, StringConstraints(pattern=SHA256_PATTERN)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=4096)]
# Recursive JSON-like values for free-form params.
if TYPE_CHECKING:  # mypy does not follow recursive TypeAliasType
    Param: TypeAlias = Any
else:
    Param = TypeAliasType(
        "Param",
        Union[str, int, float, bool, list["Param"], dict[str, "Param"], None],  # noqa: UP007
    )


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, populate_by_name=False, defer_build=True)


class Artifact(_Strict):
    path: Text = Field(description="Path relative to the manifest's folder; must stay inside the repo.")
    sha256: Sha256 = Field(description="64 lowercase hex characters.")
    size: int = Field(ge=0, description="Size in bytes.")


class CodeLineage(_Strict):
    commit: Annotated[str, StringConstraints(pattern=COMMIT_PATTERN)] = Field(
        description="Full 40-hex git commit of the training code."
    )
    repo: Text | None = None
    paths: list[Text] = Field(default_factory=list)


class DataLineage(_Strict):
    name: Text
    uri: Text
    sha256: Sha256 | None = None
    revision: Text | None = Field(default=None, description="An immutable revision or snapshot id.")


class Framework(_Strict):
    name: Text
    version: Text


class Lockfile(_Strict):
    path: Text
    sha256: Sha256


class Environment(_Strict):
    python: Text | None = None
    framework: Framework | None = None
    lockfile: Lockfile | None = None


class RunRef(_Strict):
    tracker: Text
    id: Text
    url: Text | None = None


class Lineage(_Strict):
    code: CodeLineage | None = None
    data: list[DataLineage] = Field(default_factory=list)
    params: dict[str, Param] | None = None
    environment: Environment | None = None
    parent: Annotated[str, StringConstraints(pattern=REF_PATTERN)] | None = Field(
        default=None, description="The model version this one was derived from, name@version."
    )
    run: RunRef | None = None


class IOField(_Strict):
    name: Text
    type: Text
    shape: list[int] | None = None


class Signature(_Strict):
    inputs: list[IOField] = Field(default_factory=list)
    outputs: list[IOField] = Field(default_factory=list)


class Metric(_Strict):
    value: float
    goal: Literal["maximize", "minimize"] | None = None
    dataset: Text | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        # ``auc: 0.93`` is shorthand for ``auc: {value: 0.93}``.
        if isinstance(data, int | float) and not isinstance(data, bool):
            return {"value": float(data)}
        return data


def _metric_shorthand(schema: dict[str, Any]) -> None:
    # The validator accepts ``auc: 0.93``; say so in the published schema too.
    schema["additionalProperties"] = {"anyOf": [{"type": "number"}, schema["additionalProperties"]]}


class Manifest(_Strict):
    """One model version: what it is, where its bytes are, and how it was made."""

    api_version: Literal["modelgate/v1"] = Field(alias="apiVersion")
    kind: Literal["Model"]
    name: Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
    version: Annotated[str, StringConstraints(min_length=1, max_length=256)] = Field(
        description="A SemVer 2.0.0 string; quote it in YAML."
    )
    stage: Annotated[str, StringConstraints(min_length=1, max_length=64)] = Field(
        description="One of the governing policy's stages."
    )
    description: Text | None = None
    owners: Annotated[list[Text], Field(min_length=1)]
    license: Annotated[str, StringConstraints(max_length=256)] | None = Field(
        default=None, description='An SPDX license expression, or "proprietary".'
    )
    artifacts: Annotated[list[Artifact], Field(min_length=1)]
    lineage: Lineage | None = None
    signature: Signature | None = None
    metrics: dict[str, Metric] = Field(default_factory=dict, json_schema_extra=_metric_shorthand)
    aliases: list[Annotated[str, StringConstraints(pattern=NAME_PATTERN)]] = Field(
        default_factory=list
    )
    tags: dict[str, Annotated[str, StringConstraints(max_length=4096)]] = Field(
        default_factory=dict
    )

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"


@dataclass(frozen=True)
class ManifestDoc:
    """A manifest file as found: its repo-relative path, bytes digest, and parsed model.

    ``model`` is None when the file is invalid; ``problems`` then says why.
    """

    path: str
    abspath: str
    sha256: str
    model: Manifest | None
    problems: tuple[Problem, ...]
    doc: yamldoc.YamlDoc | None

    @property
    def label(self) -> str:
        return self.model.ref if self.model else self.path

    @property
    def folder(self) -> str:
        return os.path.dirname(self.abspath)

    def location(self, at: str | tuple[str | int, ...] | None) -> tuple[int, int]:
        if self.doc is None or at is None:
            return (1, 1)
        return self.doc.location(parse_keypath(at) if isinstance(at, str) else at)


_SEGMENT = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def parse_keypath(dotted: str) -> tuple[str | int, ...]:
    """``"artifacts[0].sha256"`` -> ``("artifacts", 0, "sha256")``."""
    return tuple(int(idx) if idx else name for name, idx in _SEGMENT.findall(dotted))


def format_keypath(keypath: tuple[Any, ...]) -> str:
    """``("artifacts", 0, "sha256")`` -> ``"artifacts[0].sha256"``."""
    out = ""
    for part in keypath:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def load(abspath: str, display: str) -> ManifestDoc:
    """Load one manifest file. Never raises for bad content: problems go into the result."""
    try:
        raw = yamldoc.read_limited(abspath, display)
    except InputError as exc:
        return ManifestDoc(display, abspath, "", None, tuple(exc.problems), None)
    return from_bytes(raw, display, abspath)


def from_bytes(raw: bytes, display: str, abspath: str) -> ManifestDoc:
    """A manifest from its bytes (a blob at the base commit, say); ``abspath`` locates its folder."""
    digest = hashlib.sha256(raw).hexdigest()
    try:
        doc = yamldoc.parse(raw, display)
    except InputError as exc:
        problems = list(exc.problems)
        if exc.partial is not None:
            problems += _schema_problems_beside(exc.partial, problems)
        problems.sort(key=lambda p: (p.line, p.column))
        return ManifestDoc(display, abspath, digest, None, tuple(problems), exc.partial)
    try:
        model = validate(doc)
    except InputError as exc:
        return ManifestDoc(display, abspath, digest, None, tuple(exc.problems), doc)
    return ManifestDoc(display, abspath, digest, model, (), doc)


def _schema_problems_beside(partial: yamldoc.YamlDoc, known: list[Problem]) -> list[Problem]:
    """Schema problems of a document that also had YAML problems, minus the lines those
    already explain (a rejected ``.nan`` would otherwise also be "not a number")."""
    try:
        validate(partial)
    except InputError as exc:
        lines = {p.line for p in known}
        return [p for p in exc.problems if p.line not in lines]
    return []


def validate(doc: yamldoc.YamlDoc) -> Manifest:
    if not isinstance(doc.data, dict):
        raise InputError([Problem(doc.path, 1, 1, "a manifest must be a YAML mapping")])
    try:
        return Manifest.model_validate(doc.data)
    except ValidationError as exc:
        raise InputError(problems_from(exc, doc, Manifest)) from None


_PATTERN_HINTS = {
    "sha256": "must be 64 lowercase hex characters (a sha256 digest)",
    "commit": "must be a full 40-character lowercase hex git commit",
    "name": "must match ^[a-z0-9][a-z0-9._-]{0,127}$ (lowercase, digits, . _ -)",
    "parent": "must be name@version",
}


def problems_from(
    exc: ValidationError, doc: yamldoc.YamlDoc, model: type[BaseModel]
) -> list[Problem]:
    """Turn pydantic errors into ``path:line:col`` problems, in file order."""
    problems = []
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        line, column = doc.location(loc)
        problems.append(Problem(doc.path, line, column, _describe(error, loc, doc, model)))
    return sorted(set(problems), key=lambda p: (p.line, p.column, p.message))


def _describe(error: Any, loc: tuple[Any, ...], doc: yamldoc.YamlDoc, model: type[BaseModel]) -> str:
    kind = error["type"]
    where = format_keypath(loc) or "document"
    last = str(loc[-1]) if loc else ""
    if kind == "missing":
        return f"missing required key {where!r}"
    if kind == "extra_forbidden":
        known = _known_keys(model, loc[:-1])
        close = difflib.get_close_matches(last, known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"unknown key {where!r}{hint}"
    literal = doc.literals.get(loc)
    if kind == "string_type" and literal is not None:
        return f"{where} must be a string, got {literal}; quote it: \"{literal}\""
    if kind == "string_pattern_mismatch":
        return f"{where} {_PATTERN_HINTS.get(last, error['msg'].lower())}"
    if kind in ("model_type", "model_attributes_type"):
        if len(loc) == 2 and loc[0] == "metrics":
            return f"{where} must be a number or a mapping {{value, goal, dataset}}"
        return f"{where} must be a mapping"
    if kind == "float_type" and isinstance(error.get("input"), str):
        return f"{where} must be a number, got the string {error['input']!r}; remove the quotes"
    return f"{where}: {error['msg']}"


def _known_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    current: type[BaseModel] | None = model
    for part in loc:
        assert current is not None
        fields = {f.alias or name: f for name, f in current.model_fields.items()}
        if part in fields:  # otherwise a list index or a dict key: same model below
            current = _model_in(fields[part].annotation)
        if current is None:
            return []
    assert current is not None
    return [f.alias or name for name, f in current.model_fields.items()]


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def json_schema() -> dict[str, Any]:
    schema = Manifest.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://modelgate.dev/schemas/manifest-v1.json"
    return schema
