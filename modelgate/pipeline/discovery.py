"""Finding manifests: files named ``modelgate.yaml`` or ``<name>.modelgate.yaml``.

Inside a git repository the candidate files come from ``git ls-files`` (tracked plus
untracked-but-not-ignored), so whatever git ignores is ignored; elsewhere a directory
walk. One rule for the work tree and the base: a file git tracks is never skipped, whatever
sits next to it (a change must not hide a manifest from the gate by adding a
``pyvenv.cfg`` beside it, or by moving it under ``node_modules/``). Only untracked places
are skipped: what git ignores, ``.git``, and untracked virtual environments and
``node_modules``. The base side (:mod:`modelgate.pipeline.base`) reads the commit's tree, which holds
tracked files only.

The config's ``manifests`` globs are gitignore-style (``*`` stays within a folder, ``**``
crosses folders, ``!`` excludes again, the last match wins) and select on both sides.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable

from modelgate.datamodel.records import record
from modelgate.errors import UsageError
from modelgate.git.repo import GitRepo

MANIFEST_NAME = "modelgate.yaml"
MANIFEST_SUFFIX = ".modelgate.yaml"
_SKIP_DIRS = frozenset({".git", "node_modules", "__pycache__", ".tox", ".nox", ".mypy_cache"})


def is_manifest_name(filename: str) -> bool:
    # ".modelgate.yaml" alone is the config file, not a manifest.
    return filename == MANIFEST_NAME or (filename.endswith(MANIFEST_SUFFIX) and len(filename) > len(MANIFEST_SUFFIX))


@record
class Found:
    manifests: tuple[str, ...]  # absolute paths
    others: tuple[str, ...]  # explicitly named files that are not manifests (maybe artifacts)


def relpath(root: str, path: str) -> str:
    # The common case, a path that discovery built under root, without os.path.relpath's
    # normalisation (a third of the time of a 1000-manifest run went there).
    if path.startswith(root) and path[len(root) : len(root) + 1] == os.sep:
        parts = path[len(root) + 1 :].split(os.sep)
        if "" not in parts and "." not in parts and ".." not in parts:
            return "/".join(parts)
    return os.path.relpath(path, root).replace(os.sep, "/")


def discover(root: str, paths: list[str], globs: tuple[str, ...] = (), repo: GitRepo | None = None) -> Found:
    """Manifests under ``paths`` (default: ``globs`` from config, else the whole root);
    ``repo``: the run's repository, whose file list is then read once for every question."""
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
    selects = selector(globs)
    for path in _files_under(root, folders, wanted=is_manifest_name, repo=repo):
        if selects(relpath(root, path)):
            manifests.add(path)
    return Found(tuple(sorted(manifests)), tuple(others))


def selector(globs: tuple[str, ...]) -> Callable[[str], bool]:
    """Whether the config's ``manifests`` globs select a repo-relative path (all paths when
    there are none): gitignore's rules (:mod:`modelgate.datamodel.globs`), the same for the work tree
    and the base."""
    from modelgate.datamodel import globs as manifest_globs

    if not globs:
        return lambda path: True
    return lambda path: manifest_globs.matches(path, globs)


def is_manifest_path(path: str) -> bool:
    """A repo-relative path (``/``-separated) with a manifest's file name. Every one ends with
    :data:`MANIFEST_NAME`, asked first: a commit's tree or a history lists thousands of
    other files."""
    return path.endswith(MANIFEST_NAME) and is_manifest_name(path.rpartition("/")[2])


def manifest_selector(globs: tuple[str, ...]) -> Callable[[str], bool]:
    """Whether a repo-relative path is a manifest the globs select (see :func:`selector`)."""
    selects = selector(globs)
    return lambda path: is_manifest_path(path) and selects(path)


def is_selected_manifest(path: str, globs: tuple[str, ...]) -> bool:
    """A repo-relative path (``/``-separated) the globs select with a manifest's name."""
    return manifest_selector(globs)(path)


def _skipped(path: str, venvs: tuple[str, ...]) -> bool:
    """An untracked place discovery skips: a tool's folder, or inside a virtual environment."""
    return bool(_SKIP_DIRS.intersection(path.split("/"))) or path.startswith(venvs)


def _present(path: str) -> bool:
    """Listed and still there (a tracked file may be deleted in the work tree); a symlink
    counts, so that loading it says why it is refused."""
    try:
        return not stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def _files_under(
    root: str, folders: list[str], wanted: Callable[[str], bool], repo: GitRepo | None = None
) -> list[str]:
    """Files under ``folders`` whose base name is ``wanted``."""
    if not folders:
        return []
    if repo is None or repo.root != root:
        repo = GitRepo.at(root)
    if repo is not None:
        specs = [relpath(root, f) or "." for f in folders]
        listed = repo.work_files(specs)
        venvs = tuple(p[: -len("pyvenv.cfg")] for p in listed if p == "pyvenv.cfg" or p.endswith("/pyvenv.cfg"))
        # Names first: a stat per file of a large repository is most of the cost otherwise.
        return [
            os.path.join(root, p)
            for p, tracked in listed.items()
            if wanted(p.rpartition("/")[2]) and (tracked or not _skipped(p, venvs)) and _present(os.path.join(root, p))
        ]
    found: list[str] = []
    for folder in folders:
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames[:] = sorted(
                d
                for d in dirnames
                if d not in _SKIP_DIRS and not os.path.exists(os.path.join(dirpath, d, "pyvenv.cfg"))
            )
            found.extend(os.path.join(dirpath, name) for name in filenames if wanted(name))
    return found
