"""Replacing a file atomically: written next to its destination, then renamed into place.

A reader never sees half a file, and a failure leaves no temporary file behind. Used for
reports and for manifests edited in place.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from typing import TextIO


def replace(path: str, render: Callable[[TextIO], object]) -> None:
    """Write ``path`` with what ``render`` writes to a UTF-8 text stream (no newline
    translation), keeping the permissions of the file it replaces. Raises ``OSError``."""
    import tempfile  # here: most runs write no file

    folder = os.path.dirname(os.path.abspath(path))
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        mode = 0o644  # mkstemp's 0600 would hide a report from the rest of a CI job
    fd, tmp = tempfile.mkstemp(prefix=".modelgate-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as stream:
            render(stream)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
