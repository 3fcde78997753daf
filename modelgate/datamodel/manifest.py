"""Manifest v1: the frozen dataclasses checks receive, and loading a manifest file into them.

Validation is strict (no coercion: a number is not a string, ``"0.95"`` is not a number) and
forbids unknown keys; it is pydantic's, run only on bytes not validated before (see
:mod:`modelgate.datamodel.validation`). The committed JSON Schema in ``modelgate/datamodel/schemas/manifest.json``
is generated from these classes (``python -m modelgate.datamodel.schemas``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from dataclasses import field
from typing import Annotated, Any, Literal

from modelgate import confine
from modelgate.datamodel import licenses, strictyaml, structure, validation
from modelgate.datamodel.records import record
from modelgate.datamodel.validation import Constraint, Invalid, Strict, Verdicts
from modelgate.errors import InputError, Problem

NAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,127}$"
SHA256_PATTERN = r"^[0-9a-f]{64}$"
MD5_PATTERN = r"^[0-9a-f]{32}$"
COMMIT_PATTERN = r"^[0-9a-f]{40}$"
REF_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,127}@[^@\s]+$"

Sha256 = Annotated[str, Constraint(pattern=SHA256_PATTERN, description="64 lowercase hex characters.")]
# DVC's digest of a file: with it, a DVC-tracked file is verified against dvc.lock or its
# .dvc file without `dvc pull`; with the file present, the file's own md5 must equal it.
Md5 = Annotated[
    str,
    Constraint(
        pattern=MD5_PATTERN,
        description=(
            "DVC's md5 of the file, 32 lowercase hex characters: verifies a DVC-tracked file without `dvc pull`."
        ),
    ),
]
Text = Annotated[str, Constraint(min_length=1, max_length=4096)]
# A free-form param: any JSON value, which is anything the strict YAML loader can produce.
Param = Any


@record(kw_only=True)
class Artifact(Strict):
    path: Annotated[
        str,
        Constraint(
            min_length=1,
            max_length=4096,
            description=(
                "Path relative to the manifest's folder ('..' allowed); must resolve inside the repo, outside .git/."
            ),
        ),
    ]
    sha256: Sha256
    size: Annotated[int, Constraint(ge=0, description="Size in bytes.")]
    md5: Md5 | None = None


@record(kw_only=True)
class CodeLineage(Strict):
    commit: Annotated[
        str, Constraint(pattern=COMMIT_PATTERN, description="Full 40-hex git commit of the training code.")
    ]
    repo: Text | None = None
    paths: list[Text] = field(default_factory=list)


@record(kw_only=True)
class DataLineage(Strict):
    name: Text
    uri: Annotated[
        str,
        Constraint(
            min_length=1,
            max_length=4096,
            description=(
                "Where the data is: a URI with a scheme (s3://, https://, dvc://...), or a path in the repository"
                " relative to the manifest's folder ('..' allowed), whose file is then verified."
            ),
        ),
    ]
    sha256: Sha256 | None = None
    size: Annotated[int | None, Constraint(ge=0, description="Size in bytes of a data file in the repository.")] = None
    md5: Md5 | None = None
    revision: Annotated[
        str | None, Constraint(min_length=1, max_length=4096, description="An immutable revision or snapshot id.")
    ] = None


@record(kw_only=True)
class Framework(Strict):
    name: Text
    version: Text


@record(kw_only=True)
class Lockfile(Strict):
    path: Text
    sha256: Sha256


@record(kw_only=True)
class Environment(Strict):
    python: Text | None = None
    framework: Framework | None = None
    lockfile: Lockfile | None = None


@record(kw_only=True)
class RunRef(Strict):
    tracker: Text
    id: Text
    url: Text | None = None


@record(kw_only=True)
class Lineage(Strict):
    code: CodeLineage | None = None
    data: list[DataLineage] = field(default_factory=list)
    params: dict[str, Param] | None = None
    environment: Environment | None = None
    parent: Annotated[
        str | None,
        Constraint(pattern=REF_PATTERN, description=("The model version this one was derived from, name@version.")),
    ] = None
    run: RunRef | None = None


@record(kw_only=True)
class IOField(Strict):
    name: Text
    type: Text
    shape: list[int] | None = None


@record(kw_only=True)
class Signature(Strict):
    inputs: list[IOField] = field(default_factory=list)
    outputs: list[IOField] = field(default_factory=list)


@record(kw_only=True)
class Metric(Strict):
    value: float
    goal: Literal["maximize", "minimize"] | None = None
    dataset: Text | None = None

    @classmethod
    def from_shorthand(cls, data: Any) -> Any:
        """``auc: 0.93`` is shorthand for ``auc: {value: 0.93}``."""
        if isinstance(data, int | float) and not isinstance(data, bool):
            return {"value": float(data)}
        return data

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> Any:
        return {"anyOf": [{"type": "number"}, handler(core_schema)]}


@record(kw_only=True)
class ModelCard(Strict):
    """What a reader of the model card needs beyond the numbers; exported to CycloneDX's
    ``modelCard`` (``model_type`` -> ``modelParameters.architectureFamily``, ``intended_use``
    -> ``considerations.useCases``, ``limitations`` -> ``considerations.technicalLimitations``,
    ``changelog`` -> a ``modelgate:card:changelog`` property)."""

    model_type: Annotated[
        str | None,
        Constraint(min_length=1, max_length=4096, description=("The kind of model, e.g. gradient-boosted trees.")),
    ] = None
    intended_use: Annotated[
        str | None, Constraint(min_length=1, max_length=16384, description=("What the model is for, and for whom."))
    ] = None
    limitations: Annotated[
        str | None,
        Constraint(min_length=1, max_length=16384, description=("Known limitations: where it must not be relied on.")),
    ] = None
    changelog: Annotated[
        str | None, Constraint(min_length=1, max_length=65536, description=("What changed from the previous version."))
    ] = None


@record(kw_only=True)
class Manifest(Strict):
    """One model version: what it is, where its bytes are, and how it was made."""

    __pydantic_config__ = Strict.renamed(api_version="apiVersion")
    # The licence check's code and its SPDX License List decide validity too.
    __verdict_modules__ = ("modelgate.datamodel.licenses",)
    __verdict_releases__ = ("license_expression",)

    api_version: Literal["modelgate/v1"]
    kind: Literal["Model"]
    name: Annotated[str, Constraint(pattern=NAME_PATTERN)]
    version: Annotated[
        str, Constraint(min_length=1, max_length=256, description="A SemVer 2.0.0 string; quote it in YAML.")
    ]
    stage: Annotated[str, Constraint(min_length=1, max_length=64, description="One of the governing policy's stages.")]
    description: Text | None = None
    owners: Annotated[list[Text], Constraint(min_length=1)]
    license: Annotated[
        str | None, Constraint(max_length=256, description=licenses.DESCRIPTION), licenses.SpdxLicense()
    ] = None
    artifacts: Annotated[list[Artifact], Constraint(min_length=1)]
    lineage: Lineage | None = None
    signature: Signature | None = None
    metrics: dict[str, Metric] = field(default_factory=dict)
    aliases: list[Annotated[str, Constraint(pattern=NAME_PATTERN)]] = field(default_factory=list)
    tags: dict[str, Annotated[str, Constraint(max_length=4096)]] = field(default_factory=dict)
    review_by: Annotated[
        dt.date | None,
        Constraint(
            description=(
                "A production version is reviewed again by this date (YYYY-MM-DD): the revalidation check warns"
                " within 30 days of it and fails after it."
            )
        ),
    ] = None
    card: ModelCard | None = None

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"


@record
class ManifestDoc:
    """A manifest file as found: its repo-relative path, bytes digest, and parsed model.

    ``model`` is None when the file is invalid; ``problems`` then says why.
    """

    path: str
    abspath: str
    sha256: str
    model: Manifest | None
    problems: tuple[Problem, ...]
    doc: strictyaml.YamlDoc | None

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


def load(
    abspath: str,
    display: str,
    verdicts: Verdicts | None = None,
    *,
    root: str,
    real_root: str | None = None,
    real: str | None = None,
) -> ManifestDoc:
    """Load one manifest file of the repository at ``root``. Never raises for bad content:
    problems go into the result. A symlink, or a path that leads out of the repository or
    into ``.git``, is a problem and is not read (``real_root``, ``real``: see
    :func:`modelgate.confine.read`)."""
    try:
        raw = confine.read(root, abspath, display, links=False, real_root=real_root, real=real)
    except InputError as exc:
        return ManifestDoc(display, abspath, "", None, tuple(exc.problems), None)
    return from_bytes(raw, display, abspath, verdicts)


def refused(display: str, abspath: str, message: str) -> ManifestDoc:
    """An invalid manifest that was not read, for ``message`` (a symlink, say)."""
    return ManifestDoc(display, abspath, "", None, (Problem(display, 1, 1, message),), None)


def from_bytes(raw: bytes, display: str, abspath: str, verdicts: Verdicts | None = None) -> ManifestDoc:
    """A manifest from its bytes (a blob at the base commit, say); ``abspath`` locates its folder."""
    digest = hashlib.sha256(raw).hexdigest()
    try:
        doc = strictyaml.parse(raw, display)
    except InputError as exc:
        problems = list(exc.problems)
        if exc.partial is not None:
            problems += _schema_problems_beside(exc.partial, problems)
        problems.sort(key=lambda p: (p.line, p.column))
        return ManifestDoc(display, abspath, digest, None, tuple(problems), exc.partial)
    try:
        model = validate(doc, verdicts, digest)
    except InputError as exc:
        return ManifestDoc(display, abspath, digest, None, tuple(exc.problems), doc)
    # The model holds what was validated: the plain data is made again if anyone asks.
    doc.forget()
    return ManifestDoc(display, abspath, digest, model, (), doc)


def _schema_problems_beside(partial: strictyaml.YamlDoc, known: list[Problem]) -> list[Problem]:
    """Schema problems of a document that also had YAML problems, minus the lines those
    already explain (a rejected ``.nan`` would otherwise also be "not a number")."""
    try:
        validate(partial)
    except InputError as exc:
        lines = {p.line for p in known}
        return [p for p in exc.problems if p.line not in lines]
    return []


def validate(doc: strictyaml.YamlDoc, verdicts: Verdicts | None = None, digest: str | None = None) -> Manifest:
    """The document as a :class:`Manifest`; ``digest`` (of its bytes) lets ``verdicts`` skip
    validating bytes already found valid."""
    if not isinstance(doc.data, dict):
        raise InputError([Problem(doc.path, 1, 1, "a manifest must be a YAML mapping")])
    try:
        return validation.load(Manifest, doc.data, verdicts, digest)
    except Invalid as exc:
        raise InputError(problems_from(exc.errors, doc, Manifest)) from None


_PATTERN_HINTS = {
    "sha256": "must be 64 lowercase hex characters (a sha256 digest)",
    "md5": "must be 32 lowercase hex characters (the md5 DVC records)",
    "commit": "must be a full 40-character lowercase hex git commit",
    "name": "must match ^[a-z0-9][a-z0-9._-]{0,127}$ (lowercase, digits, . _ -)",
    "parent": "must be name@version",
}
_UNKNOWN_KEY = ("extra_forbidden", "unexpected_keyword_argument")
_NOT_A_MAPPING = ("model_type", "model_attributes_type", "dataclass_type", "dataclass_args_type")


def problems_from(errors: list[dict[str, Any]], doc: strictyaml.YamlDoc, root: type) -> list[Problem]:
    """Turn pydantic's errors into ``path:line:col`` problems, in file order."""
    problems = []
    for error in errors:
        loc = tuple(error["loc"])
        line, column = doc.location(loc)
        problems.append(Problem(doc.path, line, column, _describe(error, loc, doc, root)))
    return sorted(set(problems), key=lambda p: (p.line, p.column, p.message))


def _describe(error: Any, loc: tuple[Any, ...], doc: strictyaml.YamlDoc, root: type) -> str:
    kind = error["type"]
    where = format_keypath(loc) or "document"
    last = str(loc[-1]) if loc else ""
    if kind in ("missing", "missing_argument"):
        return f"missing required key {where!r}"
    if kind in _UNKNOWN_KEY:
        import difflib  # here: only an unknown key needs a suggestion

        known = _known_keys(root, loc[:-1])
        close = difflib.get_close_matches(last, known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"unknown key {where!r}{hint}"
    literal = doc.literals.get(loc)
    if kind == "string_type" and literal is not None:
        return f'{where} must be a string, got {literal}; quote it: "{literal}"'
    if kind == "string_pattern_mismatch":
        return f"{where} {_PATTERN_HINTS.get(last, error['msg'].lower())}"
    if kind in _NOT_A_MAPPING:
        if len(loc) == 2 and loc[0] == "metrics":
            return f"{where} must be a number or a mapping {{value, goal, dataset}}"
        return f"{where} must be a mapping"
    if kind == "float_type" and isinstance(error.get("input"), str):
        return f"{where} must be a number, got the string {error['input']!r}; remove the quotes"
    return f"{where}: {error['msg']}"


def _known_keys(root: type, loc: tuple[Any, ...]) -> list[str]:
    """The keys the mapping at ``loc`` may have (for "did you mean")."""
    current: type | None = root
    for part in loc:
        assert current is not None
        fields = structure.field_hints(current)
        if part in fields:  # otherwise a list index or a dict key: same class below
            found = structure.dataclasses_in(fields[part])
            current = found[0] if found else None
        if current is None:
            return []
    assert current is not None
    return list(structure.field_hints(current))


def json_schema() -> dict[str, Any]:
    schema = validation.json_schema(Manifest)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://modelgate.dev/schemas/manifest-v1.json"
    return schema
