"""MG010: declarative checks in policy YAML, as an extra JSON Schema."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from modelgate.checkapi.decorator import Fail, check
from modelgate.checks import DOCS
from modelgate.datamodel.records import record
from modelgate.datamodel.validation import Strict

MODELGATE_DOCS = DOCS  # each check's section there is its SARIF helpUri

if TYPE_CHECKING:
    from modelgate.datamodel.manifest import Manifest
    from modelgate.pipeline.context import Context


@record(kw_only=True)
class SchemaParams(Strict):
    schema: dict[str, Any] | None = None
    file: str | None = None
    message: str | None = None

    def __post_init__(self) -> None:
        if (self.schema is None) == (self.file is None):
            raise ValueError("give exactly one of `schema` (inline) or `file` (a repo-relative JSON Schema)")


@check(
    "MG010",
    name="schema",
    needs_rule=True,
    params=SchemaParams,
    hint="add or fix the field the policy's schema asks for",
)
def schema(manifest: Manifest, params: SchemaParams, context: Context) -> Iterator[Fail]:
    """The manifest also satisfies a JSON Schema given in the policy.

    For the common rules that need no Python: ``with: {schema: {required: [tags],
    properties: {tags: {required: [cost_center]}}}}`` inline, or ``with: {file:
    policies/production.schema.json}`` (read from the same trusted tree as the policy,
    the base commit when there is one). Validated with jsonschema (draft 2020-12 unless
    the schema says otherwise), compiled once per rule; each violation points at its key.
    """
    from referencing.exceptions import Unresolvable  # jsonschema's own dependency; imported with it

    from modelgate.errors import ConfigError

    validator = context.schema_validator(params.schema, params.file)
    data = manifest.to_dict(exclude_none=True)
    try:
        errors = list(validator.iter_errors(data))
    except Unresolvable as exc:
        # Nothing is fetched: a $ref to anything outside the schema is the policy's mistake.
        raise ConfigError(
            f"schema {params.file or '(inline)'}: {exc}; a $ref may point only inside the schema (#/...)"
        ) from None
    except RecursionError:
        raise ConfigError(f"schema {params.file or '(inline)'}: refers to itself without end") from None
    for error in sorted(errors, key=lambda e: [str(p) for p in e.absolute_path]):
        keypath = tuple(error.absolute_path)
        if error.validator == "required" and isinstance(error.instance, dict):
            missing = [k for k in error.validator_value if k not in error.instance]
            where = ".".join(map(str, (*keypath, missing[0]))) if missing else ".".join(map(str, keypath))
            text = f"{where} is required by the policy's schema"
        else:
            text = f"{'.'.join(map(str, keypath)) or 'manifest'}: {error.message}"
        yield Fail(params.message or text, at=keypath or None)  # type: ignore[arg-type]
