"""Lineage from the tools people already use: DVC, MLflow and Hugging Face model cards.

Each importer reads its tool's files (never imports the tool) and returns an
:class:`Imported`: the manifest fields it could fill. ``modelgate init`` merges them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from modelgate.datamodel import strictyaml
from modelgate.errors import InputError, UsageError


@dataclass
class Imported:
    """Manifest fields found in one tool's files; None or empty where it had nothing."""

    source: str
    params: dict[str, Any] | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    data: list[dict[str, Any]] = field(default_factory=list)
    signature: dict[str, Any] | None = None
    run: dict[str, Any] | None = None
    environment: dict[str, Any] | None = None
    commit: str | None = None
    license: str | None = None
    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)


def read_yaml(path: str, display: str | None = None) -> Any:
    """A tool's YAML file through the strict loader (1 MiB, no tags or aliases)."""
    shown = display or path
    if not os.path.isfile(path):
        raise UsageError(f"{shown}: no such file")
    return strictyaml.load_file(path, shown).data


def mapping(value: Any) -> dict[str, Any]:
    """``value`` if it is a mapping, else an empty one (tools' files are read leniently)."""
    return value if isinstance(value, dict) else {}


def parse_yaml(raw: bytes, display: str) -> Any:
    return strictyaml.parse(raw, display).data


def scalar(text: str) -> Any:
    """A value a tool stored as text (MLflow params): a number or boolean if it reads as one."""
    stripped = text.strip()
    if stripped in ("True", "true"):
        return True
    if stripped in ("False", "false"):
        return False
    if stripped in ("None", "null", ""):
        return None
    try:
        return int(stripped)
    except ValueError:
        pass
    try:
        number = float(stripped)
    except ValueError:
        return text
    return number if number == number and number not in (float("inf"), float("-inf")) else text


def flatten(params: Any, prefix: str = "") -> dict[str, Any]:
    """``{train: {lr: 0.1}}`` -> ``{"train.lr": 0.1}``; how DVC names params."""
    if not isinstance(params, dict):
        return {prefix: params} if prefix else {}
    flat: dict[str, Any] = {}
    for key, value in params.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict) and value:
            flat.update(flatten(value, name))
        else:
            flat[name] = value
    return flat


def unflatten(flat: dict[str, Any]) -> dict[str, Any]:
    """``{"train.lr": 0.1}`` -> ``{train: {lr: 0.1}}``, for a readable manifest."""
    nested: dict[str, Any] = {}
    for dotted, value in flat.items():
        parts = dotted.split(".")
        node = nested
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):  # "a" and "a.b" both set: keep the dotted key
                node = {}
                break
            node = child
        else:
            node[parts[-1]] = value
            continue
        nested[dotted] = value
    return nested


__all__ = ["Imported", "InputError", "flatten", "mapping", "parse_yaml", "read_yaml", "scalar", "unflatten"]
