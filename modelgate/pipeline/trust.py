"""What a change did to the files it is judged by.

With a base, configuration, policies and local plugin modules come from the base commit.
A change that edits them is not judged by its edit; it is told so (``policy-changed``), so
that an author who lowered a threshold is not surprised that the old one still applied.
"""

from __future__ import annotations

from collections.abc import Iterable

from modelgate.datamodel import config
from modelgate.datamodel.policy import Policy
from modelgate.errors import ModelgateError
from modelgate.git.trees import Tree


def edited(settings: config.Config, policies: Iterable[Policy], worktree: Tree, base: Tree) -> list[str]:
    """Repo-relative paths of the trusted files the work tree changes relative to the base."""
    found: list[str] = []
    mine, theirs = _config(worktree, settings.folder), _config(base, settings.folder)
    if mine != theirs:
        # Compare settings, not bytes: pyproject.toml changes for many reasons, and only its
        # [tool.modelgate] table governs the gate.
        found.append(_config_path(mine, theirs))
    paths = [f.path for p in policies for f in p.files if f.source == "base"]
    for ref in settings.policies:
        if not ref.startswith("builtin:"):
            # A policy added to a configured folder would apply after merge too.
            try:
                paths += [p for p in worktree.files_in(ref) or () if p.endswith((".yaml", ".yml"))]
            except ModelgateError:  # the change made the folder a link out of the repository
                found.append(ref)
    paths += [p for p in settings.plugins if p.endswith(".py")]
    for path in dict.fromkeys(paths):
        if path not in found and _bytes(worktree, path) != _bytes(base, path):
            found.append(path)
    return found


def notice(path: str) -> str:
    return (
        f"policy-changed: {path} differs from the base; this check used the base version,"
        " the edit takes effect after merge"
    )


def _config(tree: Tree, folder: str) -> config.Config | None:
    """The tree's own settings in ``folder`` (no environment, no flags); None when they do not load."""
    try:
        return config.load(tree.read, {}, {}, folder)
    except ModelgateError:
        return None


def _config_path(mine: config.Config | None, theirs: config.Config | None) -> str:
    for settings in (theirs, mine):
        if settings is not None and settings.path is not None:
            return settings.path
    return config.CONFIG_FILE


def _bytes(tree: Tree, path: str) -> bytes | None:
    try:
        return tree.read(path)
    except (FileNotFoundError, ModelgateError):
        return None
