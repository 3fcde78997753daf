"""Where a manifest's artifact path points, and whether that is acceptable.

A path is relative to the manifest's folder, uses ``/``, has no ``..``, and resolves
(symlinks included) to a regular file inside the repository and outside ``.git``. Anything
else is refused before the file is opened: a FIFO would hang a reader, ``/dev/zero`` never
ends, and a symlink out of the repository or into ``.git`` would let a change vouch for
files it does not contain.
"""

from __future__ import annotations

import os
import re
import stat

from modelgate.confine import IN_GIT, real_below, refusal

_DRIVE = re.compile(r"^[A-Za-z]:")


class ArtifactPathError(Exception):
    """The artifact path is unacceptable; the message says why and what to do."""


def resolve(root: str, manifest_dir: str, path: str, real_root: str | None = None, real_dir: str | None = None) -> str:
    """The real absolute path of the artifact, or raise :class:`ArtifactPathError`.

    ``real_root`` and ``real_dir``, the real paths of ``root`` and ``manifest_dir`` when a
    caller resolving many artifacts has them already, save a ``realpath`` walk of each.
    """
    if "\0" in path:
        raise ArtifactPathError("artifact path contains a NUL character")
    if "\\" in path:
        raise ArtifactPathError("artifact path contains a backslash; use '/' as separator")
    if path.startswith("/") or _DRIVE.match(path):
        raise ArtifactPathError("artifact path is absolute; make it relative to the manifest's folder")
    if ".." in path.split("/"):
        raise ArtifactPathError("artifact path contains '..'; keep artifacts at or below the manifest's folder")
    parts = [p for p in path.split("/") if p not in ("", ".")]
    real = real_below(real_dir, parts) if real_dir is not None else os.path.realpath(os.path.join(manifest_dir, *parts))
    where = refusal(real_root or os.path.realpath(root), real)
    if where == IN_GIT:
        raise ArtifactPathError("artifact path is inside .git/, which no commit holds; keep artifacts in the work tree")
    if where is not None:
        raise ArtifactPathError("artifact path leaves the repository (through a symlink)")
    try:
        st = os.stat(real)
    except FileNotFoundError:
        raise ArtifactPathError("artifact file is missing") from None
    except OSError as exc:
        raise ArtifactPathError(f"artifact file cannot be read: {exc.strerror}") from None
    if stat.S_ISDIR(st.st_mode):
        raise ArtifactPathError("artifact path is a directory; list each file as an artifact")
    if not stat.S_ISREG(st.st_mode):
        raise ArtifactPathError("artifact path is not a regular file (device, FIFO or socket)")
    return real
