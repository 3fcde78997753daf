"""GitHub CODEOWNERS: who owns a path, read the way GitHub reads it.

``init`` fills ``owners`` from it, and the approvals rule (``codeowners: true``) reads the
base commit's. The rules are GitHub's ("About code owners" on docs.github.com):

* GitHub uses the first of ``.github/CODEOWNERS``, ``CODEOWNERS`` and ``docs/CODEOWNERS``;
  a file of 3 MB or more is not loaded at all.
* Each line is a pattern and zero or more owners (``@user``, ``@org/team``, an email);
  ``#`` starts a comment, at the start of a line or after whitespace. The last matching
  line wins, and a matching line without owners leaves the path unowned.
* Patterns follow gitignore's rules with GitHub's exceptions: paths are case-sensitive;
  a pattern without a ``/`` before its end (``*.js``, ``apps/``) matches at any depth,
  one with a ``/`` is anchored at the root; a trailing ``/`` means everything below that
  folder; ``*`` and ``?`` stay within one folder and ``**`` crosses folders; a pattern
  ending in a lone ``*`` matches only the folder's direct entries (``docs/*`` owns
  ``docs/getting-started.md`` but not ``docs/build-app/troubleshooting.md``), any other
  pattern also owns everything below what it names.
* GitHub does not support ``!`` negation, ``[ ]`` character ranges or escaping a leading
  ``#`` with ``\\``; it skips such lines, like any other line it cannot read, and shows
  them as errors.

A line GitHub skips is reported as a problem instead of being read some other way: the
approvals rule fails on any (the owners it would name are not what the file's author
meant), and ``init`` asks for ``--owner``.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable

from modelgate import confine
from modelgate.datamodel.records import record
from modelgate.errors import InputError

LOCATIONS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")
MAX_BYTES = 3 * 1000 * 1000  # "CODEOWNERS files must be under 3 MB in size"

_USER = re.compile(r"@[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?")
_TEAM = re.compile(r"@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?/[A-Za-z0-9][A-Za-z0-9_.-]*")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@record
class OwnersRule:
    pattern: str
    owners: tuple[str, ...]
    line: int


@record
class CodeOwners:
    """A parsed CODEOWNERS file: its rules in order, and the lines GitHub would skip."""

    path: str | None  # which location, None when there is no CODEOWNERS
    rules: tuple[OwnersRule, ...]
    problems: tuple[str, ...]

    def owners(self, rel: str) -> list[str]:
        """The owners of the repo-relative path ``rel`` ([] when unowned)."""
        found: tuple[str, ...] = ()
        for rule in self.rules:
            if _regex(rule.pattern).fullmatch(rel):
                found = rule.owners
        return list(found)


NONE = CodeOwners(None, (), ())


def in_work_tree(root: str) -> CodeOwners:
    """The work tree's CODEOWNERS (for ``init``); one that leads outside the repository or
    into ``.git`` is an InputError naming it, never read."""

    def read(location: str) -> bytes:
        if not os.path.isfile(os.path.join(root, location)):
            raise FileNotFoundError(location)
        return confine.read(root, location, location, MAX_BYTES - 1)

    return find(read)


def find(read: Callable[[str], bytes]) -> CodeOwners:
    """The CODEOWNERS that ``read`` finds (``read`` raises FileNotFoundError for an absent
    file): the approvals rule passes the base commit's reader."""
    for location in LOCATIONS:
        try:
            raw = read(location)
        except FileNotFoundError:
            continue
        except InputError as exc:
            return CodeOwners(location, (), (f"{location}: cannot be read ({exc.problems[0].message})",))
        if len(raw) >= MAX_BYTES:
            return CodeOwners(location, (), (f"{location}: 3 MB or more; GitHub does not load it",))
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            return CodeOwners(location, (), (f"{location}: not UTF-8 (byte {exc.start})",))
        return parse(text, location)
    return NONE


def parse(text: str, path: str = "CODEOWNERS") -> CodeOwners:
    rules: list[OwnersRule] = []
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        tokens, why = _tokens(line)
        if why is None and tokens:
            why = _invalid(tokens[0], tokens[1:])
        if why is not None:
            problems.append(f"{path}:{number}: {why}; GitHub skips this line")
        elif tokens:
            rules.append(OwnersRule(tokens[0], tuple(tokens[1:]), number))
    return CodeOwners(path, tuple(rules), tuple(problems))


def _tokens(line: str) -> tuple[list[str], str | None]:
    """The line's whitespace-separated tokens up to a comment (``\\`` escapes a space in
    a pattern), or why the line cannot be read."""
    tokens: list[str] = []
    current: list[str] = []
    index = 0
    while index < len(line):
        char = line[index]
        if char == "\\" and index + 1 < len(line):
            if line[index + 1] == "#":
                return [], "escaping # with \\ is not supported by GitHub"
            current.append(line[index : index + 2])
            index += 2
            continue
        if char in " \t":
            if current:
                tokens.append("".join(current))
                current = []
        elif char == "#":
            if current:
                return [], "a # inside a pattern or owner starts a comment on GitHub; the line is ambiguous"
            break
        else:
            current.append(char)
        index += 1
    if current:
        tokens.append("".join(current))
    return tokens, None


def _invalid(pattern: str, owners: list[str]) -> str | None:
    if pattern.startswith("!"):
        return f"{pattern!r}: negation with ! is not supported by GitHub"
    if "[" in pattern or "]" in pattern:
        return f"{pattern!r}: character ranges with [ ] are not supported by GitHub"
    if "***" in pattern:
        return f"{pattern!r}: three asterisks in a row are not a pattern"
    if pattern.startswith("@"):
        return f"{pattern!r}: a line starts with a file pattern, then its owners"
    if pattern.endswith("\\"):
        return f"{pattern!r}: a pattern cannot end with \\"
    for owner in owners:
        if not (_USER.fullmatch(owner) or _TEAM.fullmatch(owner) or _EMAIL.fullmatch(owner)):
            return f"{owner!r} is not an owner (@user, @org/team or an email)"
    return None


@functools.lru_cache(maxsize=1024)
def _regex(pattern: str) -> re.Pattern[str]:
    """A CODEOWNERS pattern as a regular expression over a whole repo-relative path."""
    if pattern == "/":
        return re.compile(r"(?!)")  # the root itself is not a file
    segments = pattern.split("/")
    if segments[0] == "":
        segments = segments[1:]  # a leading / anchors at the root
    elif (len(segments) == 1 or (len(segments) == 2 and segments[1] == "")) and segments[0] != "**":
        segments = ["**", *segments]  # no / before the end: at any depth
    if len(segments) > 1 and segments[-1] == "":
        segments[-1] = "**"  # a trailing / is everything below
    last = len(segments) - 1
    out: list[str] = []
    slash = False  # whether the next segment needs a / before it
    for index, segment in enumerate(segments):
        if segment == "**":
            if index == 0:
                out.append(".+" if index == last else "(?:.+/)?")
                slash = False
            elif index == last:
                out.append("/.*")
            else:
                out.append("(?:/.+)?")
                slash = True
            continue
        if slash:
            out.append("/")
        slash = True
        if segment == "*":
            out.append("[^/]+")  # a lone * names direct entries only (GitHub's docs/* example)
            continue
        chars = iter(segment)
        for char in chars:
            if char == "\\":
                out.append(re.escape(next(chars, "")))
            elif char == "*":
                out.append("[^/]*")
            elif char == "?":
                out.append("[^/]")
            else:
                out.append(re.escape(char))
        if index == last:
            out.append("(?:/.*)?")  # a file, or a folder and everything below it
    return re.compile("".join(out), re.DOTALL)
