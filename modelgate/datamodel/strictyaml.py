"""Strict YAML: plain data plus the line and column of every key.

We compose our own tree from libyaml's event stream (``yaml.parse`` with ``CSafeLoader``)
instead of using a loader: events expose anchors, tags and scalar styles, which a loader
hides, and we resolve plain scalars ourselves with the few types a manifest needs. Anything
ambiguous (YAML 1.1 booleans and numbers, timestamps used as numbers), unsafe (tags,
anchors, aliases, merge keys) or unbounded (size, depth, integer digits) is a problem.
All problems are collected; a parse error from libyaml ends collection at that point.
"""

from __future__ import annotations

import math
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import field
from sys import intern
from typing import Any

import yaml

from modelgate.datamodel.records import record
from modelgate.errors import InputError, Problem

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 64
MAX_INT_DIGITS = 19

KeyPath = tuple[str | int, ...]

_INT = re.compile(r"[-+]?(0|[1-9][0-9]*)")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|(0|[1-9][0-9]*)(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_NONFINITE = re.compile(r"[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)")
# Forms YAML 1.1 reads as numbers but a reader may not: 0x1F, 0o17, 017, 1_000, 1:30.
_AMBIGUOUS_NUMBER = re.compile(
    r"[-+]?(0[xX][0-9a-fA-F_]+|0[oO]?[0-7_]+|0[bB][01_]+|[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?"
    r"|[0-9][0-9_]*_[0-9_]*(\.[0-9_]*)?([eE][-+]?[0-9]+)?)"
)
_YAML11_BOOL = frozenset(
    (
        "y",
        "Y",
        "yes",
        "Yes",
        "YES",
        "n",
        "N",
        "no",
        "No",
        "NO",
        "True",
        "TRUE",
        "False",
        "FALSE",
        "on",
        "On",
        "ON",
        "off",
        "Off",
        "OFF",
    )
)
_NULL = frozenset(["", "~", "null", "Null", "NULL"])
_WORDS = _YAML11_BOOL | {"true", "false"}
# The first characters of anything _INT, _FLOAT, _NONFINITE or _AMBIGUOUS_NUMBER match.
_NUMBER_STARTS = frozenset("0123456789+-.")
# Control characters (tab and newline aside), surrogates, and the bidi controls that make
# text read differently from what it is (CVE-2021-42574).
_FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


@record
class YamlDoc:
    """A parsed YAML document: ``data`` and a 1-based (line, column) per key path.

    The data and the positions are kept as long as someone needs them, and made again from
    ``raw`` when asked for after :meth:`forget`: a run that loads thousands of manifests
    keeps their validated models, asks for the positions of the few that fail, and
    keeping the data and a position map of every document cost more memory than the
    models themselves.
    """

    path: str
    raw: bytes | None = field(default=None, repr=False)
    # "data", and "located" (locations, literals), while they are kept.
    _kept: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def data(self) -> Any:
        """The document's plain data."""
        if "data" not in self._kept:
            composer = _Composer(self.path, located=False)
            self._kept["data"] = _compose(self.raw, composer) if self.raw is not None else None
        return self._kept["data"]

    @property
    def locations(self) -> dict[KeyPath, tuple[int, int]]:
        """Where each key path starts."""
        locations: dict[KeyPath, tuple[int, int]] = self._positions()[0]
        return locations

    @property
    def literals(self) -> dict[KeyPath, str]:
        """Source text of scalars that became numbers or booleans, so that a type error can
        quote what the user wrote (``1.10``) rather than what it became (``1.1``)."""
        literals: dict[KeyPath, str] = self._positions()[1]
        return literals

    def forget(self) -> None:
        """Let go of the data and positions (made again from ``raw`` if asked for)."""
        if self.raw is not None:
            self._kept.clear()

    def _positions(self) -> tuple[dict[KeyPath, tuple[int, int]], dict[KeyPath, str]]:
        if "located" not in self._kept:
            composer = _Composer(self.path, located=True)
            if self.raw is not None:
                _compose(self.raw, composer)
            self._kept["located"] = (composer.locations, composer.literals)
        located: tuple[dict[KeyPath, tuple[int, int]], dict[KeyPath, str]] = self._kept["located"]
        return located

    def location(self, keypath: KeyPath) -> tuple[int, int]:
        """The position of ``keypath``, or of its nearest ancestor that has one."""
        locations = self.locations
        for end in range(len(keypath), -1, -1):
            found = locations.get(tuple(keypath[:end]))
            if found is not None:
                return found
        return (1, 1)


def read_limited(path: str | os.PathLike[str], display: str, limit: int = MAX_BYTES) -> bytes:
    """Read a regular file of at most ``limit`` bytes, from one descriptor.

    ``O_NONBLOCK`` keeps a FIFO named like a manifest from hanging us before we can see
    what it is.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise InputError([Problem(display, 1, 1, f"cannot read: {exc.strerror}")]) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise InputError([Problem(display, 1, 1, "not a regular file")])
        if st.st_size > limit:
            raise InputError([_too_big(display, limit)])
        chunks = []
        remaining = limit + 1
        while remaining > 0:
            chunk = os.read(fd, min(remaining, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        raw = b"".join(chunks)
    except OSError as exc:
        raise InputError([Problem(display, 1, 1, f"cannot read: {exc.strerror}")]) from None
    finally:
        os.close(fd)
    if len(raw) > limit:
        raise InputError([_too_big(display, limit)])
    return raw


def _too_big(display: str, limit: int) -> Problem:
    return Problem(display, 1, 1, f"file is larger than {limit // 1024} KiB; a manifest is metadata")


def load_file(path: str | os.PathLike[str], display: str) -> YamlDoc:
    return parse(read_limited(path, display), display)


def parse(raw: bytes, display: str, keys: frozenset[str] | None = None) -> YamlDoc:
    """Parse one strict YAML document from ``raw`` bytes; raise ``InputError`` on any problem.

    ``keys``: only the values of these top-level keys are read; another key's value is
    passed over (None in the data), its YAML parsed but not its content checked. For
    states in the history, of which the rules about change read a few fields.
    """
    composer = _Composer(display, located=False, keys=keys)
    data = _compose(raw, composer)
    doc = YamlDoc(display, raw, {"data": data})
    if composer.problems:
        # The partial document lets a caller validate what did parse, so that one bad
        # scalar does not hide the schema problems after it.
        raise InputError(composer.problems, partial=doc if composer.complete else None)
    return doc


def _compose(raw: bytes, composer: _Composer) -> Any:
    """The document's data; problems go to ``composer.problems``."""
    display = composer.display
    if len(raw) > MAX_BYTES:
        composer.problems.append(_too_big(display, MAX_BYTES))
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        composer.problems.append(Problem(display, line, column, "invalid UTF-8; save the file as UTF-8"))
        return None
    if text.startswith("\ufeff"):
        text = text[1:]
    parser = yaml.CSafeLoader(text)
    try:
        # get_event returns None after the stream's end: no generator between us and libyaml.
        return composer.compose(iter(parser.get_event, None))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        composer.problems.append(Problem(display, line, column, f"invalid YAML: {exc.problem}"))
    except yaml.reader.ReaderError as exc:
        line, column = _position(text, exc.position)
        composer.problems.append(Problem(display, line, column, f"invalid YAML: {exc.reason}"))
    except yaml.YAMLError as exc:
        composer.problems.append(Problem(display, 1, 1, f"invalid YAML: {exc}"))
    except _Abort:
        pass
    except (RecursionError, MemoryError):
        composer.problems.append(Problem(display, 1, 1, "document too complex to parse"))
    except StopIteration:  # libyaml ends a stream only after its closing events; never a crash here
        composer.problems.append(Problem(display, 1, 1, "invalid YAML: the document ends unexpectedly"))
    finally:
        parser.dispose()
    return None


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _mark(event: Any) -> tuple[int, int]:
    mark = event.start_mark
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


class _Abort(Exception):
    """Stop composing: the rest of the stream cannot be trusted (depth, documents)."""


_Scalar, _Alias = yaml.ScalarEvent, yaml.AliasEvent
_SequenceStart, _SequenceEnd = yaml.SequenceStartEvent, yaml.SequenceEndEvent
_MappingStart, _MappingEnd = yaml.MappingStartEvent, yaml.MappingEndEvent


class _Composer:
    """Plain data from libyaml's events, every problem with its position.

    ``located``: also record where each key path starts and the source text of numbers
    (:attr:`YamlDoc.locations`, :attr:`YamlDoc.literals`). Loading does without them (they
    are most of a document's memory and a good part of its parsing time); a document asked
    where something is parses again with them. Both ways compose the same data and find the
    same problems: the only difference is what is recorded on the side.
    """

    def __init__(self, display: str, located: bool = True, keys: frozenset[str] | None = None) -> None:
        self.display = display
        self.located = located
        self.keys = keys  # the top-level keys whose values are read (None: all)
        self.problems: list[Problem] = []
        self.locations: dict[KeyPath, tuple[int, int]] = {}
        self.literals: dict[KeyPath, str] = {}
        self.complete = False

    def problem(self, event: Any, message: str) -> None:
        line, column = _mark(event)
        self.problems.append(Problem(self.display, line, column, message))

    def compose(self, events: Iterator[Any]) -> Any:
        self.next = events.__next__
        documents = 0
        data: Any = None
        for event in events:
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    self.problem(event, "more than one YAML document; a file holds exactly one")
                    raise _Abort
                data = self.node(self.next(), (), 1)
            elif isinstance(event, yaml.StreamEndEvent) and documents == 0:
                self.problem(event, "empty file; expected a YAML mapping")
        self.complete = True
        return data

    def node(self, event: Any, path: KeyPath, depth: int) -> Any:
        if depth > MAX_DEPTH:
            self.problem(event, f"nesting deeper than {MAX_DEPTH} levels")
            raise _Abort
        kind = type(event)
        if kind is _Scalar:
            if event.anchor is not None or event.tag is not None:
                self.decorated(event)
            value = self.scalar(event)
            if self.located and isinstance(value, int | float):
                self.literals[path] = event.value
            return value
        if kind is _Alias:
            self.problem(event, f"alias *{event.anchor} is not allowed; write the value out")
            return None
        if event.anchor is not None or event.tag is not None:
            self.decorated(event)
        if kind is _MappingStart:
            if self.located:
                self.locations.setdefault(path, _mark(event))
            return self.mapping(path, depth)
        if kind is _SequenceStart:
            return self.sequence(path, depth)
        raise _Abort  # pragma: no cover - libyaml emits only the events above here

    def decorated(self, event: Any) -> None:
        if event.anchor is not None:
            self.problem(event, f"anchor &{event.anchor} is not allowed; write the value out")
        if event.tag is not None:
            self.problem(event, f"tag {event.tag} is not allowed; plain YAML values only")

    def sequence(self, path: KeyPath, depth: int) -> list[Any]:
        items: list[Any] = []
        next_event, node, located = self.next, self.node, self.located
        index = 0
        while True:
            item = next_event()
            if type(item) is _SequenceEnd:
                return items
            if located:
                sub = (*path, index)
                self.locations[sub] = _mark(item)
                items.append(node(item, sub, depth + 1))
            else:
                items.append(node(item, path, depth + 1))
            index += 1

    def mapping(self, path: KeyPath, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        next_event, node, located = self.next, self.node, self.located
        while True:
            key_event = next_event()
            if type(key_event) is _MappingEnd:
                return result
            key = self.key(key_event, depth)
            value_event = next_event()
            if key is None:
                node(value_event, path, depth + 1)
                continue
            if key in result:
                self.problem(key_event, f"duplicate key {key!r}; each key may appear once")
            if self.keys is not None and depth == 1 and key not in self.keys:
                self.skip(value_event)
                result[key] = None
                continue
            if located:
                sub = (*path, key)
                self.locations.setdefault(sub, _mark(key_event))
                result[key] = node(value_event, sub, depth + 1)
            else:
                result[key] = node(value_event, path, depth + 1)

    def skip(self, event: Any) -> None:
        """Pass over a value no one reads: its events, not its content."""
        if type(event) is _MappingStart or type(event) is _SequenceStart:
            next_event, open_ = self.next, 1
            while open_:
                kind = type(next_event())
                if kind is _MappingStart or kind is _SequenceStart:
                    open_ += 1
                elif kind is _MappingEnd or kind is _SequenceEnd:
                    open_ -= 1

    def key(self, event: Any, depth: int) -> str | None:
        if type(event) is not _Scalar:
            self.problem(event, "complex mapping key; keys must be plain strings")
            self.node(event, (), depth + 1)
            return None
        if event.anchor is not None or event.tag is not None:
            self.problem(event, "anchors and tags are not allowed on keys")
        value: str = event.value
        if event.style == "" and value == "<<":
            self.problem(event, "merge key '<<' is not allowed; write the keys out")
            return None
        if not (value.isascii() and value.isprintable()):
            self.text(event, value)
        return intern(value) if len(value) <= 32 else value

    def scalar(self, event: Any) -> Any:
        value: str = event.value
        if event.style != "":  # quoted or a block: a string as written
            return self.text(event, value)
        if value[:1] not in _NUMBER_STARTS and value not in _NULL and value not in _WORDS:
            return self.text(event, value)  # the common case, a plain word: no number can start so
        if value in _NULL:
            return None
        if value in ("true", "false"):
            return value == "true"
        if value in _YAML11_BOOL:
            self.problem(event, f"ambiguous value {value!r}: quote it for a string, or use true/false")
            return None
        if _NONFINITE.fullmatch(value):
            self.problem(event, f"non-finite number {value!r} is not allowed")
            return None
        if _INT.fullmatch(value):
            if len(value.lstrip("+-")) > MAX_INT_DIGITS:
                self.problem(event, f"integer with more than {MAX_INT_DIGITS} digits is not allowed")
                return None
            return int(value)
        if _FLOAT.fullmatch(value):
            if len(value) > 64:
                self.problem(event, "number literal longer than 64 characters is not allowed")
                return None
            number = float(value)
            if not math.isfinite(number):
                self.problem(event, f"number {value!r} is out of range")
                return None
            return number
        if _AMBIGUOUS_NUMBER.fullmatch(value):
            self.problem(event, f"ambiguous number {value!r}: quote it for a string, or write it in decimal")
            return None
        return self.text(event, value)

    def text(self, event: Any, value: str) -> str:
        if value.isascii() and value.isprintable():
            # Short words repeat across a registry's manifests (types, goals, feature
            # names): one copy of each, however many manifests keep it.
            return intern(value) if len(value) <= 32 else value
        problem = forbidden(value)
        if problem is not None:
            self.problem(event, problem)
        return value


def forbidden(value: str) -> str | None:
    """Why ``value`` may not be text in an input file (a control or bidi character), or None."""
    found = _FORBIDDEN.search(value)
    return None if found is None else f"control or bidi character U+{ord(found.group()):04X} is not allowed in text"
