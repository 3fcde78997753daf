"""Which manifests the config's ``manifests`` globs select: gitignore's pattern rules.

``*`` and ``?`` stay within one folder, ``**`` crosses folders, a pattern with a ``/``
before its end is anchored at the repository root, one without matches at any depth, a
pattern that matches a folder selects everything below it, and ``!`` re-excludes what an
earlier pattern selected (the last matching pattern decides). So
``models/*/modelgate.yaml`` selects ``models/a/modelgate.yaml`` but not
``models/a/1.0/modelgate.yaml``. The rules are git's own, as implemented by the
``pathspec`` library; one module so that the work tree, the base commit and the registry
select the same files.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from modelgate.errors import ConfigError


def matches(path: str, patterns: Sequence[str]) -> bool:
    """Whether the repo-relative, ``/``-separated ``path`` is selected; no patterns select all."""
    if not patterns:
        return True
    return bool(_spec(tuple(patterns)).match_file(path))


def problem(pattern: str) -> str | None:
    """Why ``pattern`` is not a gitignore-style pattern, or None when it is one."""
    try:
        _spec((pattern,))
    except ConfigError as exc:
        return str(exc)
    return None


@functools.lru_cache(maxsize=16)
def _spec(patterns: tuple[str, ...]) -> Any:
    import pathspec  # here: only a repository that configures globs pays for the import

    for pattern in patterns:
        if not pattern.strip() or pattern.startswith("#"):
            # gitignore would read these as blank or comment lines, selecting nothing.
            raise ConfigError(f"manifests: {pattern!r} is not a pattern (write a leading # as \\#)")
    try:
        return pathspec.GitIgnoreSpec.from_lines(patterns)
    except ValueError as exc:  # pathspec's GitIgnorePatternError
        raise ConfigError(f"manifests: {exc}; use gitignore-style globs such as models/**/modelgate.yaml") from None
