"""MG010: declarative checks in policy YAML, as an extra JSON Schema."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from modelgate.checkapi import Fail, check

if TYPE_CHECKING:
    from modelgate.context import Context
    from modelgate.manifest import Manifest


class SchemaParams(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)
    # `schema` in YAML; another attribute name, since BaseModel.schema exists.
    json_schema: dict[str, Any] | None = Field(default=None, alias="schema")
    file: str | None = None
    message: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> SchemaParams:
        if (self.json_schema is None) == (self.file is None):
            raise ValueError("give exactly one of `schema` (inline) or `file` (a repo-relative JSON Schema)")
        return self


@check("MG010", name="schema", needs_rule=True, params=SchemaParams,
       hint="add or fix the field the policy's schema asks for")
def schema(manifest: Manifest, params: SchemaParams, context: Context) -> Iterator[Fail]:
    """The manifest also satisfies a JSON Schema given in the policy.

    For the common rules that need no Python: ``with: {schema: {required: [tags],
    properties: {tags: {required: [cost_center]}}}}`` inline, or ``with: {file:
    policies/production.schema.json}`` (read from the same trusted tree as the policy,
    the base commit when there is one). Validated with jsonschema (draft 2020-12 unless
    the schema says otherwise), compiled once per rule; each violation points at its key.
    """
    validator = context.schema_validator(params.json_schema, params.file)
    data = manifest.model_dump(by_alias=True, exclude_none=True)
    for error in sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path]):
        keypath = tuple(error.absolute_path)
        if error.validator == "required" and isinstance(error.instance, dict):
            missing = [k for k in error.validator_value if k not in error.instance]
            where = ".".join(map(str, (*keypath, missing[0]))) if missing else ".".join(map(str, keypath))
            text = f"{where} is required by the policy's schema"
        else:
            text = f"{'.'.join(map(str, keypath)) or 'manifest'}: {error.message}"
        yield Fail(params.message or text, at=keypath or None)  # type: ignore[arg-type]
