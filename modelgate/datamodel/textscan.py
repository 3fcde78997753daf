"""Questions about a manifest's bytes that are answered without parsing them.

A run that gates one model in a repository of thousands must not parse the thousands to
find the few that matter: the other versions of that model, and the manifests that read a
changed file. These functions read the bytes as text and answer "could this manifest be
one of those?" soundly: they may answer yes for a manifest that turns out not to be (it is
then parsed and found out), never no for one that is. The reasoning, for a document the
strict loader accepts:

- A string value made of *safe* characters (``[A-Za-z0-9._-]``) is written out literally
  in the bytes, unless the document uses a backslash escape (only a double-quoted scalar
  has escapes, and every escape starts with ``\\``): a folded or multi-line scalar puts a
  space or a line break between the lines it joins, and a single-quoted ``''`` gives a
  ``'``, neither of them safe, so no run of safe characters of a value is split in the
  bytes. The run is also *bounded* there: the character before it and after it is not
  safe, for what surrounds a scalar in YAML is white space, a quote, a flow indicator
  (``[]{},``), a ``:`` or ``/`` within a path, or the start or end of the text. A value
  with unsafe characters is only known to hold its runs of safe characters somewhere.
- Manifests use no backslash in practice; a manifest that does is always a candidate.

:func:`guess_name` is different: a fast read of the ``name:`` line, used only where a wrong
guess costs time and never correctness (which CI shard checks a manifest).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")
_SAFE_TEXT = re.compile(r"[A-Za-z0-9._-]+")
_RUNS = re.compile(rb"[A-Za-z0-9._-]+")
# Every byte as a class, for :func:`climbs`: "a" a character of a path component, "." and
# "/" themselves, " " anything else (what can stand before or after a scalar).
_CLASSES = bytes(
    0x61 if c in b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-" else c if c in b"./" else 0x20
    for c in range(256)
)
# Every unsafe byte as a space: the safe runs of a text are then ``translate(...).split()``,
# three times faster than a regular expression's findall (measured on 2.9 KB manifests;
# a large history is thousands of them).
_RUN_BREAKS = bytes(c if c in _SAFE else 0x20 for c in range(256))
_NAME_LINE = re.compile(rb"^name:[ \t]*[\"']?([a-z0-9][a-z0-9._-]{0,127})[\"']?[ \t]*(?:#.*)?\r?$", re.M)


def is_safe(text: str) -> bool:
    """Whether every character of ``text`` is safe (see the module's docstring)."""
    return _SAFE_TEXT.fullmatch(text) is not None


def escaped(raw: bytes) -> bool:
    """Whether the document may use escapes, so that a value need not appear as written."""
    return b"\\" in raw


def may_hold(raw: bytes, value: str) -> bool:
    """Whether a document with these bytes could hold the string ``value`` as a whole
    scalar (a model's name, a version)."""
    if escaped(raw):
        return True
    if is_safe(value):
        return _bounded(raw, value.encode("ascii"))
    return _some_run(raw, value)


def needles(value: str) -> tuple[bytes, ...] | None:
    """Byte strings of which every document that :func:`may_hold` ``value`` contains one:
    a backslash, or the value's longest run of safe characters (the value itself when it
    is safe); None when nothing can be told (no safe character in it). A search for these
    in many documents at once finds a superset of those that may hold it."""
    runs = _RUNS.findall(value.encode("utf-8", "surrogateescape"))
    return (b"\\", max(runs, key=len)) if runs else None


class Values:
    """Many values asked about at once (the names of a shard's models): one pass over a
    document's runs of safe characters answers for all of them."""

    def __init__(self, values: Iterable[str]) -> None:
        self.all = frozenset(values)
        self._safe = {v.encode("ascii") for v in self.all if is_safe(v)}
        self._other = [v for v in self.all if not is_safe(v)]

    def held(self, raw: bytes) -> set[str]:
        """Which of the values a document with these bytes could hold as a whole scalar
        (all of them when it may use escapes)."""
        if escaped(raw):
            return set(self.all)
        found = {run.decode("ascii") for run in self._safe.intersection(raw.translate(_RUN_BREAKS).split())}
        found.update(v for v in self._other if _some_run(raw, v))
        return found


def may_write_component(raw: bytes, component: str, *, ending: bool) -> bool:
    """Whether a document with these bytes could write a path with ``component`` as one of
    its components; ``ending``: as its last one (a path to a folder that holds a changed
    file: ``data``, ``data/``, ``data/.``)."""
    if escaped(raw):
        return True
    if not is_safe(component):
        return _some_run(raw, component)
    return _bounded(raw, component.encode("ascii"), skip=b"./" if ending else b"")


def climbs(raw: bytes) -> bool:
    """Whether the document may write a path that climbs out of where it starts (``..``)
    or names a folder by dots alone (``.``, ``./``): such a path reaches files whose
    names the text need not spell out. (A path that starts with ``/`` is absolute, never
    read.)"""
    if b".." in raw:
        return True
    # Classified, a path of dots alone is " ." then dots and slashes up to the next " ".
    text = b" " + raw.translate(_CLASSES) + b" "
    at = text.find(b" .")
    while at != -1:
        end = at + 2
        while text[end] in (0x2E, 0x2F):
            end += 1
        if text[end] == 0x20:
            return True
        at = text.find(b" .", end)
    return False


def guess_name(raw: bytes) -> str | None:
    """The model name of the one ``name: ...`` line at the start of a line; None when there
    is no such line or more than one. Fast, and right for manifests as people write them,
    but a guess: it may decide where work goes, never a verdict."""
    # The pattern is tried only where a line starts with "name:" (found in C), not at
    # every line start: seven times faster on a 2.9 KB manifest, and a shard reads the
    # name of every manifest in the repository.
    starts = [0] if raw.startswith(b"name:") else []
    at = raw.find(b"\nname:")
    while at != -1:
        starts.append(at + 1)
        at = raw.find(b"\nname:", at + 1)
    found = [match.group(1) for start in starts if (match := _NAME_LINE.match(raw, start)) is not None]
    return found[0].decode("ascii") if len(found) == 1 else None


def _bounded(raw: bytes, needle: bytes, skip: bytes = b"") -> bool:
    """Whether ``needle`` occurs with no safe character just before it and, past any of
    the characters in ``skip``, none just after it."""
    size, end_of_text = len(needle), len(raw)
    start = raw.find(needle)
    while start != -1:
        if start == 0 or raw[start - 1] not in _SAFE:
            end = start + size
            while end < end_of_text and raw[end] in skip:
                end += 1
            if end == end_of_text or raw[end] not in _SAFE:
                return True
        start = raw.find(needle, start + 1)
    return False


def _some_run(raw: bytes, value: str) -> bool:
    """Whether the longest run of safe characters of ``value`` is somewhere in ``raw``
    (True when it has none: then nothing can be told)."""
    runs = _RUNS.findall(value.encode("utf-8", "surrogateescape"))
    return not runs or max(runs, key=len) in raw
