"""Where modelgate finds its settings: flag > environment (MODELGATE_*) > config file > default.

The config file is ``.modelgate.yaml`` at the repository root, or ``[tool.modelgate]`` in
``pyproject.toml`` (not both). With a base commit, it is read from the base, like policies.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import field
from typing import Any

from modelgate.datamodel import globs, strictyaml
from modelgate.datamodel.records import record
from modelgate.errors import ConfigError, InputError, Problem

CONFIG_FILE = ".modelgate.yaml"
_KEYS = {"manifests", "policies", "plugins", "base", "approvals", "audit"}
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
    audit: dict[str, Any] = field(default_factory=dict)  # {allowed_signers: PATH}: who may sign audit notes
    path: str | None = None  # the config file read, repo-relative
    folder: str = ""  # its folder: the part of the repository it governs ("" is all of it)


def _read(reader: Reader, path: str) -> bytes | None:
    try:
        return reader(path)
    except FileNotFoundError:
        return None


def load(reader: Reader, env: Mapping[str, str], flags: Mapping[str, Any], folder: str = "") -> Config:
    """Merge the config file in ``folder`` (repo-relative; "" is the root), ``env`` and
    ``flags`` (None values mean "not given").

    Paths in a config file are relative to its folder, as a ``.gitignore``'s are: policy
    files, local plugins and ``manifests`` globs are made repo-relative here, and a config
    in a subfolder governs the manifests below it (a monorepo's ``ml/.modelgate.yaml``).
    """
    settings: dict[str, Any] = {}
    path = None
    yaml_raw = _read(reader, _join(folder, CONFIG_FILE))
    toml_raw = _read(reader, _join(folder, "pyproject.toml"))
    toml_settings = _from_pyproject(toml_raw, _join(folder, "pyproject.toml")) if toml_raw is not None else None
    if yaml_raw is not None and toml_settings is not None:
        raise ConfigError(f"both {CONFIG_FILE} and [tool.modelgate] in pyproject.toml exist; keep one")
    if yaml_raw is not None:
        settings, path = _from_yaml(yaml_raw, _join(folder, CONFIG_FILE)), CONFIG_FILE
    elif toml_settings is not None:
        settings, path = toml_settings, "pyproject.toml"
    if folder:
        settings = _from_folder(settings, folder)
        path = _join(folder, path) if path else None

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
        audit=dict(settings.get("audit", {})),
        path=path,
        folder=folder,
    )


def _join(folder: str, name: str) -> str:
    return f"{folder}/{name}" if folder else name


def _from_folder(settings: dict[str, Any], folder: str) -> dict[str, Any]:
    """The settings of the config file in ``folder`` with their paths made repo-relative."""
    import posixpath

    found = dict(settings)
    found["policies"] = [
        p if p.startswith("builtin:") else posixpath.normpath(_join(folder, p))
        for p in settings.get("policies", ["builtin:default"])
    ]
    found["plugins"] = [
        posixpath.normpath(_join(folder, p)) if p.endswith(".py") else p for p in settings.get("plugins", [])
    ]
    found["manifests"] = [scoped_glob(folder, g) for g in settings.get("manifests", ["**"])]
    return found


def scoped_glob(folder: str, pattern: str) -> str:
    """A gitignore-style ``pattern`` written in ``folder``, as the same pattern written at the
    root: one with a ``/`` before its end is anchored at its folder, one without matches at
    any depth below it (git reads a ``.gitignore`` in a subfolder the same way)."""
    negate = pattern.startswith("!")
    body = pattern[1:] if negate else pattern
    anchored = body == "**" or "/" in body.rstrip("/")  # else it matches at any depth below
    return ("!" if negate else "") + (f"{folder}/{body.lstrip('/')}" if anchored else f"{folder}/**/{body}")


def _from_yaml(raw: bytes, display: str = CONFIG_FILE) -> dict[str, Any]:
    doc = strictyaml.parse(raw, display)
    data = doc.data if doc.data is not None else {}
    if not isinstance(data, dict):
        raise InputError([Problem(display, 1, 1, "config must be a YAML mapping")])
    problems = _check(data, doc.location, display, "")
    problems += _text_problems(data, (), doc.location, display, "")
    if problems:
        raise InputError(problems)
    return data


def _from_pyproject(raw: bytes, display: str = "pyproject.toml") -> dict[str, Any] | None:
    import tomllib  # here: only repositories with a pyproject.toml pay for it

    try:
        text = raw.decode("utf-8")
        table = tomllib.loads(text)
    except UnicodeDecodeError as exc:
        raise InputError(
            [Problem(display, 1, 1, f"invalid UTF-8 at byte {exc.start}; save the file as UTF-8")]
        ) from None
    except RecursionError:
        raise InputError([Problem(display, 1, 1, "nested too deeply")]) from None
    except tomllib.TOMLDecodeError as exc:
        at = re.fullmatch(r"(.*) \(at line (\d+), column (\d+)\)", str(exc), re.S)
        if at is None:
            raise ConfigError(f"{display}: {exc}") from None
        raise InputError([Problem(display, int(at[2]), int(at[3]), f"invalid TOML: {at[1]}")]) from None
    where = _toml_locations(text)
    tool = table.get("tool")
    if tool is None:
        return None
    if not isinstance(tool, dict):
        raise InputError([Problem(display, *where(()), "tool must be a table ([tool])")])
    section = tool.get("modelgate")
    if section is None:
        return None
    if not isinstance(section, dict):
        raise InputError([Problem(display, *where(()), "[tool.modelgate] must be a table")])
    problems = _check(section, where, display, "tool.modelgate.")
    problems += _text_problems(section, (), where, display, "tool.modelgate.")
    if problems:
        raise InputError(problems)
    return section


_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
# The settings the built-in approvals providers read; another provider's settings are its own.
_BUILTIN_PROVIDERS = {"github": {"token_env"}, "signed-commits": {"allowed_signers"}}
_APPROVAL_KEYS = {"provider", *(key for keys in _BUILTIN_PROVIDERS.values() for key in keys)}


def _check(
    data: dict[str, Any], where: Callable[[tuple[str, ...]], tuple[int, int]], path: str, prefix: str
) -> list[Problem]:
    """Every key known and of the right shape; ``prefix`` names the table in messages."""
    problems = []
    for key, value in data.items():
        line, column = where((key,))
        if key not in _KEYS:
            problems.append(Problem(path, line, column, f"unknown key {prefix + key!r}; known: {sorted(_KEYS)}"))
        elif key in _LISTS and not (isinstance(value, list) and all(isinstance(v, str) and v for v in value)):
            problems.append(Problem(path, line, column, f"{prefix}{key} must be a list of strings"))
        elif key == "manifests" and (bad := next(filter(None, map(globs.problem, value)), None)):
            problems.append(Problem(path, line, column, f"{prefix}{bad}"))
        elif key == "base" and not (isinstance(value, str) and value):
            problems.append(Problem(path, line, column, f"{prefix}base must be a string (a git ref)"))
        elif key == "approvals":
            if isinstance(value, dict):
                problems += _check_approvals(value, where, path, prefix)
            else:
                problems.append(Problem(path, line, column, f"{prefix}approvals must be a mapping"))
        elif key == "audit":
            problems += _check_audit(value, where, path, prefix)
    return problems


def _check_audit(
    settings: Any, where: Callable[[tuple[str, ...]], tuple[int, int]], path: str, prefix: str
) -> list[Problem]:
    """``audit: {allowed_signers: PATH}``: the keys that may sign audit notes."""
    if not isinstance(settings, dict):
        return [Problem(path, *where(("audit",)), f"{prefix}audit must be a mapping")]
    problems = []
    for key, value in settings.items():
        line, column = where(("audit", key))
        if key != "allowed_signers":
            name = f"{prefix}audit.{key}"
            problems.append(Problem(path, line, column, f"unknown key {name!r}; known: ['allowed_signers']"))
        elif not (isinstance(value, str) and _repo_path(value)):
            problems.append(
                Problem(
                    path,
                    line,
                    column,
                    f"{prefix}audit.allowed_signers must be a repository-relative"
                    " path without '..', such as .github/audit_signers",
                )
            )
    return problems


def _check_approvals(
    settings: dict[str, Any], where: Callable[[tuple[str, ...]], tuple[int, int]], path: str, prefix: str
) -> list[Problem]:
    """The settings the built-in providers read must have their shape; another provider
    (a plugin) may take settings of its own."""
    problems = []
    provider = settings.get("provider")
    builtin = provider is None or (isinstance(provider, str) and provider in _BUILTIN_PROVIDERS)
    for key, value in settings.items():
        line, column = where(("approvals", key))
        name = f"{prefix}approvals.{key}"
        problem = None
        if key == "provider" and not (isinstance(value, str) and _NAME.match(value)):
            problem = f"{name} must be a provider name such as github or signed-commits"
        elif key == "token_env" and not (isinstance(value, str) and _ENV_NAME.match(value)):
            problem = f"{name} must be the name of an environment variable, such as GITHUB_TOKEN"
        elif key == "allowed_signers" and not (isinstance(value, str) and _repo_path(value)):
            problem = f"{name} must be a repository-relative path without '..', such as .github/allowed_signers"
        elif key not in _APPROVAL_KEYS and builtin:
            problem = f"unknown key {name!r}; known: {sorted(_APPROVAL_KEYS)}"
        if problem is not None:
            problems.append(Problem(path, line, column, problem))
    return problems


def _text_problems(
    value: Any, keys: tuple[str, ...], where: Callable[[tuple[str, ...]], tuple[int, int]], path: str, prefix: str
) -> list[Problem]:
    """Control and bidi characters in keys and strings (TOML's escapes can write any
    character), and line breaks or tabs: no setting (a glob, a path, a ref, a name) is
    more than one line, and messages quote them."""
    if isinstance(value, dict):
        items = [((*keys, str(key)), key, item) for key, item in value.items()]
    elif isinstance(value, list):
        items = [(keys, None, item) for item in value]
    else:
        return []
    found = []
    for inner, key, item in items:
        texts = [t for t in (key, item) if isinstance(t, str)]
        problem = next(filter(None, (strictyaml.forbidden(t) for t in texts)), None)
        if problem is None and any(c in t for t in texts for c in "\t\n\r"):
            problem = "line breaks and tabs are not allowed in a setting"
        if problem is not None:
            found.append(Problem(path, *where(inner), f"{prefix}{'.'.join(inner)}: {problem}"))
        else:
            found += _text_problems(item, inner, where, path, prefix)
    return found


def _repo_path(value: str) -> bool:
    parts = value.split("/")
    return (
        bool(value)
        and not value.startswith("/")
        and "\\" not in value
        and ".." not in parts
        and not any(c < " " or c == "\x7f" for c in value)
    )


# One part of a TOML key: bare, "basic" or 'literal'; a key is parts joined by dots.
_PART = r"""[A-Za-z0-9_-]+|"(?:[^"\\\n]|\\.)*"|'[^'\n]*'"""
_KEY = rf"""(?:{_PART})(?:\s*\.\s*(?:{_PART}))*"""
_HEADER = re.compile(rf"""\[\[?\s*({_KEY})\s*\]""")
_ASSIGNMENT = re.compile(rf"""({_KEY})\s*=""")


def _dotted(key: str) -> tuple[str, ...]:
    """The parts of a TOML key as written (``a."b.c"`` -> ("a", "b.c")), decoded by tomllib
    itself, so that escapes in quoted parts compare with the parsed keys."""
    import tomllib

    try:
        table: Any = tomllib.loads(f"{key} = 0")
    except tomllib.TOMLDecodeError:
        return ()
    parts = []
    while isinstance(table, dict) and len(table) == 1:
        [(part, table)] = table.items()
        parts.append(part)
    return tuple(parts)


def _toml_locations(text: str) -> Callable[[tuple[str, ...]], tuple[int, int]]:
    """Where a key of ``[tool.modelgate]`` is written: the 1-based (line, column) of the
    first table header or key line whose full key starts with ``tool.modelgate.<keys>``,
    else of the nearest enclosing one. tomllib gives values, not positions; this reading of
    the text is only for messages."""
    table: tuple[str, ...] = ()
    lines: list[tuple[tuple[str, ...], int, int]] = []
    # Only "\n" ends a TOML line (str.splitlines would also split at U+2028 in a string).
    for number, line in enumerate(text.split("\n"), 1):
        stripped = line.lstrip()
        column = len(line) - len(stripped) + 1
        header = _HEADER.match(stripped)
        if header:
            table = _dotted(header.group(1))
            lines.append((table, number, column))
            continue
        key = _ASSIGNMENT.match(stripped)
        if key:
            lines.append(((*table, *_dotted(key.group(1))), number, column))

    def where(keys: tuple[str, ...]) -> tuple[int, int]:
        wanted = ("tool", "modelgate", *keys)
        for size in range(len(wanted), 0, -1):
            for full, number, column in lines:
                if full[:size] == wanted[:size]:
                    return number, column
        return 1, 1

    return where
