"""Finding manifests: files named ``modelgate.yaml`` or ``<name>.modelgate.yaml``.

Inside a git repository the candidate files come from ``git ls-files`` (tracked plus
untracked-but-not-ignored), so whatever git ignores is ignored; elsewhere a directory
walk that skips ``.git``, ``node_modules`` and virtual environments.
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass

from modelgate.errors import UsageError
from modelgate.gitrepo import GitRepo

MANIFEST_NAME = "modelgate.yaml"
MANIFEST_SUFFIX = ".modelgate.yaml"
_SKIP_DIRS = frozenset({".git", "node_modules", "__pycache__", ".tox", ".nox", ".mypy_cache"})


def is_manifest_name(filename: str) -> bool:
    # ".modelgate.yaml" alone is the config file, not a manifest.
    return filename == MANIFEST_NAME or (
        filename.endswith(MANIFEST_SUFFIX) and len(filename) > len(MANIFEST_SUFFIX)
    )


def find_root(paths: list[str]) -> str:
    """The repository root: the nearest folder above the paths holding ``.git`` or config."""
    start = os.path.commonpath([os.path.abspath(p) for p in paths]) if paths else os.getcwd()
    if not os.path.isdir(start):
        start = os.path.dirname(start)
    folder = start
    while True:
        if os.path.exists(os.path.join(folder, ".git")) or os.path.isfile(
            os.path.join(folder, ".modelgate.yaml")
        ):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return start
        folder = parent


@dataclass(frozen=True)
class Found:
    manifests: tuple[str, ...]  # absolute paths
    others: tuple[str, ...]  # explicitly named files that are not manifests (maybe artifacts)


def relpath(root: str, path: str) -> str:
    return os.path.relpath(path, root).replace(os.sep, "/")


def discover(root: str, paths: list[str], globs: tuple[str, ...] = ()) -> Found:
    """Manifests under ``paths`` (default: ``globs`` from config, else the whole root)."""
    manifests: set[str] = set()
    others: list[str] = []
    folders: list[str] = []
    for path in paths:
        full = os.path.abspath(path)
        if not os.path.lexists(full):
            raise UsageError(f"{path}: no such file or directory")
        inside = os.path.commonpath([root, full]) == root
        if not inside:
            raise UsageError(f"{path}: outside the repository {root}")
        if os.path.isdir(full):
            folders.append(full)
        elif is_manifest_name(os.path.basename(full)):
            manifests.add(full)
        else:
            others.append(full)
    if not paths:
        folders.append(root)
    for path in _files_under(root, folders):
        rel = relpath(root, path)
        if is_manifest_name(os.path.basename(path)) and (
            not globs or any(fnmatch.fnmatchcase(rel, g) for g in globs)
        ):
            manifests.add(path)
    return Found(tuple(sorted(manifests)), tuple(others))


def _files_under(root: str, folders: list[str]) -> list[str]:
    if not folders:
        return []
    repo = GitRepo(root) if os.path.exists(os.path.join(root, ".git")) else None
    if repo is not None:
        specs = [relpath(root, f) or "." for f in folders]
        files = [os.path.join(root, p) for p in repo.list_files(specs)]
        venvs = {os.path.dirname(f) for f in files if os.path.basename(f) == "pyvenv.cfg"}
        return [
            f for f in files
            if os.path.isfile(f)
            and not _SKIP_DIRS.intersection(relpath(root, f).split("/"))
            and not any(f.startswith(v + os.sep) for v in venvs)
        ]
    found: list[str] = []
    for folder in folders:
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames[:] = sorted(
                d for d in dirnames
                if d not in _SKIP_DIRS and not os.path.exists(os.path.join(dirpath, d, "pyvenv.cfg"))
            )
            found.extend(os.path.join(dirpath, name) for name in filenames)
    return found
