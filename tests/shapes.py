"""Hypothesis strategies for settings of every shape, for the properties "a loader raises
only its own errors" (test_config.py, test_policy.py): a valid config or policy with a few
parts replaced by values of any type, or keys added, rendered as YAML (JSON is YAML) or
as TOML. Starting from valid documents keeps most examples deep enough to reach the
checks' own parameters."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import strategies as st

TEXT = st.text(max_size=12) | st.sampled_from(
    [
        "builtin:default",
        "..",
        "/etc/passwd",
        ".git",
        "\x1b[2J",
        "a\nb",
        "\u202e",
        "github",
        "signed-commits",
        "GITHUB_TOKEN",
        "*",
        "[",
        "",
        "production",
        "MG301",
        "2099-01-01",
        "#/$defs/x",
    ]
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT
)
ANY = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4), max_leaves=12
)

VALID_CONFIGS = st.fixed_dictionaries(
    {},
    optional={
        "manifests": st.just(["models/**"]),
        "policies": st.just(["builtin:default"]),
        "plugins": st.just([]),
        "base": st.just("main"),
        "approvals": st.sampled_from(
            [
                {"provider": "github", "token_env": "TEAMS_TOKEN"},
                {"provider": "signed-commits", "allowed_signers": ".github/allowed_signers"},
                {"provider": "acme-approvals", "endpoint": "https://x"},
            ]
        ),
    },
)

RULES = [
    {"check": "metric-threshold", "stages": ["production"], "with": {"metric": "auc", "min": 0.9}},
    {"check": "required-metrics", "with": {"metrics": ["auc"], "min": 1}},
    {"check": "required-fields", "stages": ["staging"], "with": {"fields": ["license", "lineage.data"]}},
    {"check": "approvals", "stages": ["production"], "with": {"min": 2, "from": ["@a/b"], "provider": "github"}},
    {
        "check": "schema",
        "with": {
            "schema": {
                "required": ["tags"],
                "properties": {"tags": {"$ref": "#/$defs/t"}},
                "$defs": {"t": {"type": "object"}},
            }
        },
    },
    {"check": "no-metric-regression", "with": {"metric": "auc", "tolerance": 0.01}},
    {"check": "dvc-artifact", "with": {"required": True}},
    {"check": "artifact-hash", "severity": "warning"},
    {"check": "required-fields", "stages": ["production"], "with": {"fields": ["description"]}, "replace": True},
    {
        "check": "required-metrics",
        "stages": ["staging", "production", "archived"],
        "with": {"metrics": ["f1"], "min": 2},
    },
]
WAIVER = {
    "check": "no-metric-regression",
    "model": "fraud-detector",
    "version": "1.4.0",
    "reason": "r",
    "expires": "2099-01-01",
    "owner": "ana@acme.io",
}
VALID_POLICIES = st.fixed_dictionaries(
    {"apiVersion": st.just("modelgate/v1"), "kind": st.just("Policy"), "name": st.just("acme")},
    optional={
        "extends": st.sampled_from([["builtin:default"], ["other.yaml"], []]),
        "stages": st.just(["none", "staging", "production", "archived", "rejected"]),
        "transitions": st.just({"none": ["staging"], "staging": ["production", "none"]}),
        "exclusive": st.just(["production"]),
        "branches": st.just({"release": "production"}),
        "match": st.just({"names": ["fraud-*"]}),
        "waivable": st.just(["artifact-hash"]),
        "rules": st.lists(st.sampled_from(RULES), max_size=3),
        "waivers": st.lists(st.just(WAIVER), max_size=2),
    },
)


def _paths(node: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [at]
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        found += _paths(value, (*at, key))
    return found


@st.composite
def mutated(draw: st.DrawFn, valid: st.SearchStrategy[dict[str, Any]]) -> dict[str, Any]:
    """A valid document with up to three parts replaced by anything, or keys added."""
    doc = copy.deepcopy(draw(valid))
    for _ in range(draw(st.integers(0, 3))):
        path = draw(st.sampled_from(_paths(doc)))
        parent: Any = doc
        for key in path[:-1]:
            parent = parent[key]
        if path and draw(st.booleans()):
            parent[path[-1]] = draw(ANY)
        else:
            target = parent[path[-1]] if path else doc
            if isinstance(target, dict):
                target[draw(TEXT)] = draw(ANY)
            elif isinstance(target, list):
                target.append(draw(ANY))
    return doc


CONFIGS = mutated(VALID_CONFIGS)
POLICIES = mutated(VALID_POLICIES)


def yaml_text(data: Any) -> bytes:
    """``data`` as YAML: JSON, which the strict loader reads as YAML."""
    return json.dumps(data, ensure_ascii=False).encode("utf-8", "surrogatepass")


def toml_text(section: dict[str, Any]) -> bytes:
    """``[tool.modelgate]`` holding ``section`` (TOML has no null: None becomes a string)."""
    lines = ["[project]", 'name = "x"', "", "[tool.modelgate]"]
    lines += [f"{json.dumps(k)} = {_toml_value(v)}" for k, v in section.items()]
    return ("\n".join(lines) + "\n").encode("utf-8", "surrogatepass")


def _toml_value(value: Any) -> str:
    if value is None:
        return '"null"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)  # finite floats: "0.5", "1e+16" and "-0.0" are TOML as Python writes them
    if isinstance(value, str):
        return json.dumps(value)  # a basic string: JSON's escapes are TOML's
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"
