"""JSON Schemas that pydantic generates from the manifest and policy classes, committed next to this file.

Editors and other tools read the committed files; ``python -m modelgate.datamodel.schemas``
regenerates them, and a test fails when they drift from the models. The
``*.pydantic-core.json`` files beside them are pydantic's own schemas of the same classes,
which a run builds its validators from (:mod:`modelgate.datamodel.coreschema`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def generate() -> dict[str, dict[str, Any]]:
    from modelgate.datamodel import manifest, policy, validation

    policy_schema = validation.json_schema(policy.PolicyFile)
    policy_schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    policy_schema["$id"] = "https://modelgate.dev/schemas/policy-v1.json"
    return {
        "manifest": manifest.json_schema(),
        "policy": policy_schema,
        # Not for editors: what a run builds its validators from without pydantic.
        "manifest.pydantic-core": validation.prebuilt_schema(manifest.Manifest),
        "policyfile.pydantic-core": validation.prebuilt_schema(policy.PolicyFile),
    }


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def main() -> None:
    folder = Path(__file__).parent
    for kind, schema in generate().items():
        (folder / f"{kind}.json").write_text(render(schema), encoding="utf-8")
