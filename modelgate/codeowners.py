"""GitHub CODEOWNERS: who owns a path, so ``init`` can fill ``owners``.

GitHub reads the first of ``.github/CODEOWNERS``, ``CODEOWNERS`` and ``docs/CODEOWNERS``;
each line is a gitignore-style pattern and owners; the last matching line wins.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable

from modelgate import confine

LOCATIONS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")


def owners_of(root: str, rel: str) -> list[str]:
    """The owners the repository's CODEOWNERS gives ``rel`` (repo-relative), or []. A
    CODEOWNERS that is a link out of the repository or into ``.git`` is an InputError."""
    for location in LOCATIONS:
        path = os.path.join(root, location)
        if os.path.isfile(path) and os.path.getsize(path) <= 3 << 20:
            raw = confine.read(root, location, location, 3 << 20)
            return _match(raw.decode("utf-8", "replace"), rel)
    return []


def owners_in(read: Callable[[str], bytes], rel: str) -> list[str]:
    """The owners of ``rel`` by the CODEOWNERS that ``read`` finds (``read`` raises
    FileNotFoundError for an absent file): the approvals rule reads the base commit's."""
    for location in LOCATIONS:
        try:
            raw = read(location)
        except FileNotFoundError:
            continue
        return _match(raw.decode("utf-8", "replace"), rel)
    return []


def _match(text: str, rel: str) -> list[str]:
    found: list[str] = []
    for line in text.splitlines():
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        pattern, *owners = line.split()
        if _regex(pattern).search(rel):
            found = [o for o in owners if o.startswith("@") or "@" in o]
    return found


def _regex(pattern: str) -> re.Pattern[str]:
    anchored = pattern.startswith("/") or "/" in pattern.rstrip("/")
    body = pattern.strip("/")
    parts = []
    index = 0
    while index < len(body):
        if body.startswith("**", index):
            parts.append(".*")
            index += 2
        elif body[index] == "*":
            parts.append("[^/]*")
            index += 1
        elif body[index] == "?":
            parts.append("[^/]")
            index += 1
        else:
            parts.append(re.escape(body[index]))
            index += 1
    start = "^" if anchored else "(^|/)"
    # A pattern matches the path itself or anything below it (a folder).
    return re.compile(start + "".join(parts) + "(/|$)")
