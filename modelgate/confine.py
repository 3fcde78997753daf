"""Reading the repository's own files, and nothing else.

A change controls every file it holds, symlinks included, and a config or manifest may
name any path. A link to ``/home/runner/.ssh/id_rsa``, to ``/proc/self/environ`` or into
``.git/`` (which no commit can hold: the clone's config, hooks, the hash cache) must not
make modelgate read that file as a manifest, config, policy, plugin, data file or
artifact, nor put its content in a report. So every such read resolves the path first
(symlinks followed, as the system would) and refuses it unless it stays inside the
repository and out of ``.git``: the refusal names the path the change wrote, never the
target, and the target is never opened.
"""

from __future__ import annotations

import os
import stat

from modelgate.datamodel import strictyaml
from modelgate.errors import InputError, Problem

OUTSIDE = "outside the repository"
IN_GIT = "into .git/"


def refusal(real_root: str, real: str) -> str | None:
    """Where the real path ``real`` leads, if it may not be read (:data:`OUTSIDE` or
    :data:`IN_GIT`) for the repository whose real path is ``real_root``; None if it may."""
    if real == real_root:
        return None
    prefix = real_root.rstrip(os.sep) + os.sep
    if not real.startswith(prefix):
        return OUTSIDE
    # Case-blind, as git is: on a case-insensitive file system .GIT is .git.
    if any(part.lower() == ".git" for part in real[len(prefix) :].split(os.sep)):
        return IN_GIT
    return None


def real_below(real_dir: str, parts: list[str]) -> str:
    """``realpath(real_dir/parts...)`` for a ``real_dir`` without symlinks: one ``lstat`` per
    part instead of one per component from ``/``; any symlink goes the long way."""
    path = real_dir
    for part in parts:
        path = os.path.join(path, part)
        try:
            if stat.S_ISLNK(os.lstat(path).st_mode):
                return os.path.realpath(os.path.join(real_dir, *parts))
        except OSError:
            return os.path.realpath(os.path.join(real_dir, *parts))
    return path


def locate(root: str, path: str, display: str, real_root: str | None = None) -> str:
    """The real path of ``path`` (absolute, or relative to ``root``); InputError naming
    ``display`` when it lies outside the repository or under ``.git``."""
    real_root = real_root or os.path.realpath(root)
    real = os.path.realpath(os.path.join(root, path))
    where = refusal(real_root, real)
    if where is not None:
        raise InputError([Problem(display, 1, 1, refused(where))])
    return real


def refused(where: str) -> str:
    """The message for a path that leads ``where``: it names no target."""
    return f"leads {where}, so it was not opened; keep the file inside the repository, out of .git/"


LINK = "is a symbolic link, so it was not read; a manifest must be a regular file: commit the file itself"


def read(
    root: str,
    path: str,
    display: str,
    limit: int = strictyaml.MAX_BYTES,
    *,
    links: bool = True,
    real_root: str | None = None,
    real: str | None = None,
) -> bytes:
    """The bytes of the repository file ``path`` (at most ``limit``), once it is known to
    resolve inside the repository and out of ``.git``; InputError naming ``display`` if not.

    ``links=False``: ``path`` itself must not be a symlink (a manifest). ``real_root`` and
    ``real``, the real paths of ``root`` and ``path`` when the caller has them, save the
    ``realpath`` walks.
    """
    if not links and os.path.islink(os.path.join(root, path)):
        raise InputError([Problem(display, 1, 1, LINK)])
    if real is None:
        real = locate(root, path, display, real_root)
    else:
        where = refusal(real_root or os.path.realpath(root), real)
        if where is not None:
            raise InputError([Problem(display, 1, 1, refused(where))])
    return strictyaml.read_limited(real, display, limit)
