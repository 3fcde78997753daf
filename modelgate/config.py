"""Where modelgate finds its settings: flag > environment (MODELGATE_*) > config file > default.

The config file is ``.modelgate.yaml`` at the repository root, or ``[tool.modelgate]`` in
``pyproject.toml`` (not both). With a base commit, it is read from the base, like policies.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import field
from typing import Any

from modelgate import globs, yamldoc
from modelgate.errors import ConfigError, InputError, Problem
from modelgate.records import record

CONFIG_FILE = ".modelgate.yaml"
_KEYS = {"manifests", "policies", "plugins", "base", "approvals"}
_LISTS = ("manifests", "policies", "plugins")

# (repo-relative path) -> bytes; raises FileNotFoundError when absent.
Reader = Callable[[str], bytes]


@record
class Config:
    manifests: tuple[str, ...] = ()
    policies: tuple[str, ...] = ("builtin:default",)
    plugins: tuple[str, ...] = ()
    base: str | None = None
    approvals: dict[str, Any] = field(default_factory=dict)
    path: str | None = None


def _read(reader: Reader, path: str) -> bytes | None:
    try:
        return reader(path)
    except FileNotFoundError:
        return None


def load(reader: Reader, env: Mapping[str, str], flags: Mapping[str, Any]) -> Config:
    """Merge the config file, ``env`` and ``flags`` (None values mean "not given")."""
    settings: dict[str, Any] = {}
    path = None
    yaml_raw = _read(reader, CONFIG_FILE)
    toml_raw = _read(reader, "pyproject.toml")
    toml_settings = _from_pyproject(toml_raw) if toml_raw is not None else None
    if yaml_raw is not None and toml_settings is not None:
        raise ConfigError(
            f"both {CONFIG_FILE} and [tool.modelgate] in pyproject.toml exist; keep one"
        )
    if yaml_raw is not None:
        settings, path = _from_yaml(yaml_raw), CONFIG_FILE
    elif toml_settings is not None:
        settings, path = toml_settings, "pyproject.toml"

    for key in _LISTS:
        value = env.get(f"MODELGATE_{key.upper()}")
        if value:
            settings[key] = [item.strip() for item in value.split(",") if item.strip()]
    if env.get("MODELGATE_BASE"):
        settings["base"] = env["MODELGATE_BASE"]
    for key, value in flags.items():
        if value is not None:
            settings[key] = value

    defaults = Config()
    return Config(
        manifests=tuple(settings.get("manifests", defaults.manifests)),
        policies=tuple(settings.get("policies") or defaults.policies),
        plugins=tuple(settings.get("plugins", defaults.plugins)),
        base=settings.get("base", defaults.base),
        approvals=dict(settings.get("approvals", {})),
        path=path,
    )


def _from_yaml(raw: bytes) -> dict[str, Any]:
    doc = yamldoc.parse(raw, CONFIG_FILE)
    data = doc.data if doc.data is not None else {}
    if not isinstance(data, dict):
        raise InputError([Problem(CONFIG_FILE, 1, 1, "config must be a YAML mapping")])
    problems = _check(data, lambda key: doc.location((key,)), CONFIG_FILE)
    if problems:
        raise InputError(problems)
    return data


def _from_pyproject(raw: bytes) -> dict[str, Any] | None:
    import tomllib  # here: only repositories with a pyproject.toml pay for it

    try:
        table = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"pyproject.toml: {exc}") from None
    section = table.get("tool", {}).get("modelgate")
    if section is None:
        return None
    if not isinstance(section, dict):
        raise ConfigError("pyproject.toml: [tool.modelgate] must be a table")
    problems = _check(section, lambda key: (1, 1), "pyproject.toml [tool.modelgate]")
    if problems:
        raise InputError(problems)
    return section


def _check(data: dict[str, Any], where: Callable[[str], tuple[int, int]], path: str) -> list[Problem]:
    problems = []
    for key, value in data.items():
        line, column = where(key)
        if key not in _KEYS:
            problems.append(Problem(path, line, column, f"unknown key {key!r}; known: {sorted(_KEYS)}"))
        elif key in _LISTS and not (
            isinstance(value, list) and all(isinstance(v, str) and v for v in value)
        ):
            problems.append(Problem(path, line, column, f"{key} must be a list of strings"))
        elif key == "manifests" and (bad := next(filter(None, map(globs.problem, value)), None)):
            problems.append(Problem(path, line, column, bad))
        elif key == "base" and not isinstance(value, str):
            problems.append(Problem(path, line, column, "base must be a string (a git ref)"))
        elif key == "approvals" and not isinstance(value, dict):
            problems.append(Problem(path, line, column, "approvals must be a mapping"))
    return problems
