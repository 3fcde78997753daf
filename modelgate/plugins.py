"""Building the plugin manager: built-ins, installed entry points, local modules.

A fresh manager per ``main()`` call: no global state, so tests can run ``main`` in-process.
Built-in plugins are registered exactly like third-party ones, under short names that
``-p no:NAME`` can disable.
"""

from __future__ import annotations

import importlib
import linecache
import os
import re
import types
from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pluggy

from modelgate import hookspecs
from modelgate.checkapi.decorator import Check
from modelgate.errors import PluginError

if TYPE_CHECKING:
    from modelgate.git.trees import Tree

BUILTINS = {
    "collector": "modelgate.checkapi.collector",
    "manifest": "modelgate.checks.manifest",
    "artifacts": "modelgate.checks.artifacts",
    "lineage": "modelgate.checks.lineage",
    "metrics": "modelgate.checks.metrics",
    "lifecycle": "modelgate.checks.lifecycle",
    "versioning": "modelgate.checks.versioning",
    "governance": "modelgate.checks.governance",
    "changes": "modelgate.checks.changes",
    "schema": "modelgate.checks.schema",
    "interop": "modelgate.checks.crosschecks",
    "signed-commits": "modelgate.approvals.signed_commits",
    "github-reviews": "modelgate.approvals.github",  # approvals provider `github` ("github" is the reporter)
    "terminal": "modelgate.reporters.terminal",
    "json": "modelgate.reporters.json",
    "junitxml": "modelgate.reporters.junit",
    "sarif": "modelgate.reporters.sarif",
    "markdown": "modelgate.reporters.markdown",
    "audit": "modelgate.reporters.audit",
    "github": "modelgate.reporters.github",
}
# Disabling these would let an invalid manifest pass; fail closed.
ESSENTIAL = frozenset({"collector", "manifest"})
GROUP = "modelgate"
LOCAL_PREFIX = "modelgate_local_"  # module names of local plugins (never importable by that name)


class _PluginManager(pluggy.PluginManager):
    """pluggy's manager, looking for hook implementations only among ``modelgate_*`` names,
    as pytest's looks only among ``pytest_*`` ones. pluggy reads every attribute of a plugin
    with ``inspect.getattr_static``, and a built-in check module's attributes are mostly
    what it imports: registering them was about 3% of a 100-model ``modelgate check``."""

    def parse_hookimpl_opts(self, plugin: object, name: str) -> pluggy.HookimplOpts | None:
        if not name.startswith("modelgate_"):
            return None
        return super().parse_hookimpl_opts(plugin, name)


def make_plugin_manager(disabled: Iterable[str] = (), autoload: bool | None = None) -> pluggy.PluginManager:
    pm = _PluginManager("modelgate")
    pm.add_hookspecs(hookspecs)
    disabled = set(disabled)
    for name in disabled & ESSENTIAL:
        raise PluginError(f"-p no:{name}: the {name!r} plugin cannot be disabled")
    for name in disabled:
        pm.set_blocked(name)
    for name, module in BUILTINS.items():
        if name not in disabled:
            pm.register(importlib.import_module(module), name=name)
    if autoload is None:
        autoload = not os.environ.get("MODELGATE_DISABLE_PLUGIN_AUTOLOAD")
    if autoload:
        _load_entry_points(pm, disabled)
    return pm


def _load_entry_points(pm: pluggy.PluginManager, disabled: set[str]) -> None:
    from modelgate.entrypoints import entry_points  # not importlib.metadata: see there

    for ep in entry_points(GROUP):
        if ep.name in disabled or pm.get_plugin(ep.name) is not None:
            continue
        _register_entry_point(pm, ep)


def _register_entry_point(pm: pluggy.PluginManager, ep: Any) -> None:
    try:
        plugin = ep.load()
    except Exception as exc:
        raise PluginError(
            f"plugin {ep.name!r} ({ep.value}) failed to load: {type(exc).__name__}: {exc};"
            f" fix or uninstall it, or disable it with -p no:{ep.name}"
        ) from None
    _register(pm, plugin, ep.name)


def _register(pm: pluggy.PluginManager, plugin: Any, name: str) -> None:
    """Register a third-party plugin; a hook implementation that does not fit its hook spec
    (an argument the spec does not pass) is the plugin's error, exit 4, not a crash."""
    try:
        pm.register(plugin, name=name)
    except pluggy.PluginValidationError as exc:
        raise PluginError(
            f"plugin {name!r} does not fit modelgate's hooks: {exc}; see docs/hooks.md, or disable it with -p no:{name}"
        ) from None


def load_configured(pm: pluggy.PluginManager, names: Iterable[str], tree: Tree, disabled: set[str]) -> None:
    """Plugins named in config ``plugins:``: repo-relative ``.py`` modules, or entry-point names.

    A module is compiled from the bytes ``tree`` gives, the base commit when there is a
    base: code in the change under review is never imported or executed.
    """
    added = []
    for name in names:
        if name in disabled or pm.get_plugin(name) is not None:
            continue
        added.append(name)
        if name.endswith(".py"):
            _register(pm, _module_from(tree, name), name)
            continue
        from modelgate.entrypoints import entry_points

        found = [ep for ep in entry_points(GROUP) if ep.name == name]
        if not found:
            raise PluginError(f"config plugins: no installed plugin named {name!r} (entry-point group {GROUP!r})")
        _register_entry_point(pm, found[0])
    for name in added:
        plugin = pm.get_plugin(name)
        callers = pm.get_hookcallers(plugin) if plugin is not None else None
        if any(caller.name == "modelgate_addoption" for caller in callers or ()):
            # The command line was parsed before the configuration was read: fail loudly
            # rather than run with an option that silently does not exist.
            raise PluginError(
                f"config plugins: {name} implements modelgate_addoption, but plugins from"
                " the configuration load after the command line is parsed; install it as a"
                " package with a 'modelgate' entry point instead"
            )


def _module_from(tree: Tree, rel: str) -> types.ModuleType:
    if rel.startswith("/") or ".." in rel.split("/"):
        raise PluginError(f"config plugins: {rel!r} must be a path inside the repository")
    try:
        source = tree.read(rel)
    except FileNotFoundError:
        where = "in the base commit" if tree.source == "base" else "in the repository"
        raise PluginError(f"config plugins: local plugin {rel} not found {where}") from None
    filename = f"<{tree.source}>/{rel}"
    module = types.ModuleType(LOCAL_PREFIX + re.sub(r"\W", "_", rel.removesuffix(".py")))
    module.__file__ = filename
    # Assertion explanations read source lines through linecache: give it these bytes.
    text = source.decode("utf-8", "replace")
    linecache.cache[filename] = (len(text), None, text.splitlines(keepends=True), filename)
    try:
        exec(compile(source, filename, "exec"), module.__dict__)
    except SyntaxError as exc:
        raise PluginError(f"local plugin {rel}:{exc.lineno or 1}: {exc.msg}") from None
    except Exception as exc:
        line = _line_in(exc.__traceback__, filename)
        where = f"{rel}:{line}" if line else rel
        raise PluginError(f"local plugin {where} failed to load: {type(exc).__name__}: {exc}") from None
    return module


def _line_in(tb: types.TracebackType | None, filename: str) -> int | None:
    """The deepest line of ``filename`` in a traceback: where the module's own code failed."""
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def doc_anchor(check: Check) -> str:
    """The anchor GitHub gives a section headed ``## MG102 artifact-hash``: ids and names
    are letters, digits and hyphens, so lower case and a hyphen for the space is all."""
    return f"{check.id.lower()}-{check.name}"


def collect_checks(pm: pluggy.PluginManager) -> dict[str, Check]:
    """Every check every plugin provides, by id; a duplicate id is a plugin error."""
    checks: dict[str, Check] = {}
    names: dict[str, str] = {}
    for name, plugin in pm.list_name_plugin():
        if plugin is None:
            continue
        docs = getattr(plugin, "MODELGATE_DOCS", None)
        for found in pm.hook.modelgate_collect_checks(plugin=plugin):
            for check in found or ():
                help_uri = check.help_uri
                if help_uri is None and isinstance(docs, str):
                    help_uri = f"{docs}#{doc_anchor(check)}"
                check = replace(check, plugin=name, help_uri=help_uri)
                for key, seen in ((check.id, checks), (check.name, names)):
                    other = seen.get(key)
                    if other is not None:
                        owner = other.plugin if isinstance(other, Check) else other
                        raise PluginError(f"check {key} is provided by both {owner!r} and {name!r}")
                checks[check.id] = check
                names[check.name] = name
    return checks


def plugin_version(plugin: Any) -> str:
    module = getattr(plugin, "__name__", type(plugin).__module__).split(".")[0]
    if module.startswith(LOCAL_PREFIX):
        return "(local module, from the base commit)" if plugin.__file__.startswith("<base>") else "(local module)"
    if module == "modelgate":
        from modelgate import __version__

        return __version__
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(module)
    except (PackageNotFoundError, ValueError):
        try:
            return str(getattr(importlib.import_module(module), "__version__", "unknown"))
        except ImportError:
            return "unknown"
