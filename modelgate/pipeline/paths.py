"""Where a path a manifest writes (an artifact, a data file, a lockfile) points, and whether
that is acceptable.

A path is relative to the manifest's folder and uses ``/``. It may climb with ``..`` (a
repository-level ``data/`` folder is ``../../data/train.csv`` from ``models/churn/``), as
long as it stays inside the repository: written out, the path never climbs above the
repository's root, never names ``.git``, and after following symlinks it resolves to a
regular file inside the repository and outside ``.git``. Anything else is refused before
the file is opened: a FIFO would hang a reader, ``/dev/zero`` never ends, and a path out of
the repository or into ``.git`` would let a change vouch for files it does not contain.

A data ``uri`` with a scheme (``s3://``, ``https://``, ``dvc://``, even ``C:``) names no
file of the repository; one without is such a path, and is verified like an artifact.
"""

from __future__ import annotations

import os
import re
import stat

from modelgate.confine import IN_GIT, OUTSIDE, real_below, refusal

_DRIVE = re.compile(r"^[A-Za-z]:")
# "s3://...", "hf://...", "https://...", "file:..." and "C:\..." name no repository path.
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")

# What each kind of path is called in messages, and what to list instead of a folder.
_NOUNS = {
    "artifact": ("artifact path", "artifact file", "artifacts", "list each file as an artifact"),
    "data": ("data path", "data file", "data files", "list each file as a data entry (a folder is not hashed)"),
    "lockfile": ("lockfile path", "lockfile", "lockfiles", "name the lockfile itself"),
}


class ArtifactPathError(Exception):
    """The path is unacceptable; the message says why and what to do."""


class MissingFile(ArtifactPathError):
    """The path is acceptable but no file is there; ``real`` is where it would be (a DVC
    output not pulled, say)."""

    def __init__(self, message: str, real: str) -> None:
        super().__init__(message)
        self.real = real


def _climbs_out(below_root: str, parts: list[str]) -> bool:
    """Whether ``parts``, taken one at a time from a folder ``below_root`` (relative to the
    root), ever step above the root."""
    depth = 0 if below_root == os.curdir else len(below_root.split(os.sep))
    for part in parts:
        depth += -1 if part == ".." else 1
        if depth < 0:
            return True
    return False


def is_repository_path(uri: str) -> bool:
    """Whether a ``lineage.data`` uri names a path in the repository: it has no scheme and
    is not absolute (an absolute path is refused when resolved, not taken for a remote)."""
    return not _SCHEME.match(uri)


def resolve(
    root: str,
    manifest_dir: str,
    path: str,
    real_root: str | None = None,
    real_dir: str | None = None,
    kind: str = "artifact",
) -> str:
    """The real absolute path of the file, or raise :class:`ArtifactPathError`
    (:class:`MissingFile` when only the file is missing).

    ``real_root`` and ``real_dir``, the real paths of ``root`` and ``manifest_dir`` when a
    caller resolving many paths has them already, save a ``realpath`` walk of each.
    ``kind`` (``artifact``, ``data``, ``lockfile``) words the messages.
    """
    named, file, plural, instead = _NOUNS[kind]
    if "\0" in path:
        raise ArtifactPathError(f"{named} contains a NUL character")
    if "\\" in path:
        raise ArtifactPathError(f"{named} contains a backslash; use '/' as separator")
    if path.startswith("/") or _DRIVE.match(path):
        raise ArtifactPathError(f"{named} is absolute; make it relative to the manifest's folder")
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if any(part.lower() == ".git" for part in parts):
        raise ArtifactPathError(f"{named} is inside .git/, which no commit holds; keep {plural} in the work tree")
    real_root = real_root or os.path.realpath(root)
    real_dir = real_dir if real_dir is not None else os.path.realpath(manifest_dir)
    if ".." in parts:
        # Written out, the path never climbs above the root, not even on its way back in:
        # "../../repo/x" names the clone's own folder, which another clone need not share.
        if refusal(real_root, real_dir) == OUTSIDE or _climbs_out(os.path.relpath(real_dir, real_root), parts):
            raise ArtifactPathError(f"{named} leaves the repository ('..' climbs above its root)")
        # The system's meaning: a symlink is followed before the '..' after it applies.
        real = os.path.realpath(os.path.join(real_dir, *parts))
    else:
        real = real_below(real_dir, parts)
    where = refusal(real_root, real)
    if where == IN_GIT:
        raise ArtifactPathError(f"{named} is inside .git/, which no commit holds; keep {plural} in the work tree")
    if where is not None:
        raise ArtifactPathError(f"{named} leaves the repository (through a symlink)")
    try:
        st = os.stat(real)
    except FileNotFoundError:
        raise MissingFile(f"{file} is missing", real) from None
    except OSError as exc:
        raise ArtifactPathError(f"{file} cannot be read: {exc.strerror}") from None
    if stat.S_ISDIR(st.st_mode):
        raise ArtifactPathError(f"{named} is a directory; {instead}")
    if not stat.S_ISREG(st.st_mode):
        raise ArtifactPathError(f"{named} is not a regular file (device, FIFO or socket)")
    return real
