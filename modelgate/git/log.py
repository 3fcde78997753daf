"""What ``git log --raw`` says each commit of a first-parent line changed.

Read with ``-z``: every field ends with a NUL, which git never prints inside an author name
(it accepts any other control character there, SOH and ESC included), so the fields are
read by position: a commit's three, then ``:meta`` and path pairs until the next commit's
SHA. Output of any other shape is an error, never a guess.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from modelgate.datamodel.records import record
from modelgate.errors import GitError
from modelgate.git.catfile import OBJECT_ID


@record
class FileChange:
    """One file touched by one commit, from ``git log --raw``."""

    commit: str
    timestamp: int
    author: str
    path: str
    blob: str  # the new blob; all zeros when the file was deleted
    status: str
    mode: str = "100644"  # the new mode: 120000 is a symlink, whose blob holds a path, not content


def log_arguments(rev: str, pathspecs: Sequence[str]) -> list[str]:
    """The ``git log`` whose output :func:`parse_changes` reads: ``rev``'s first-parent line,
    a merge as one change against its first parent. Newest first, as git walks: with
    ``--reverse`` git holds the whole walk before it prints, and the log cost it a fifth
    more (2,000 commits, benchmarks/monorepo.py); :func:`parse_changes` turns it around."""
    return [
        "log",
        "--first-parent",
        "--diff-merges=first-parent",
        "--format=%H%x00%ct%x00%an <%ae>",
        "--raw",
        "--no-abbrev",
        "--no-renames",
        "-z",
        rev,
        "--",
        *pathspecs,
    ]


def parse_changes(out: bytes, keep: Callable[[str], bool] | None = None) -> Iterator[FileChange]:
    """The files each commit changed, oldest commit first, from :func:`log_arguments`'
    output; with ``keep``, only the paths it keeps (the others' lines are skipped unread)."""
    fields = out.decode("utf-8", "surrogateescape").split("\0")
    if fields and fields[-1] == "":
        fields.pop()
    commits: list[list[FileChange]] = []
    index = 0
    while index < len(fields):
        if index + 3 > len(fields) or not OBJECT_ID.match(fields[index]) or not fields[index + 1].isdigit():
            raise GitError(f"git log printed something unexpected at field {index}; cannot read the history")
        commit, timestamp, author = fields[index], int(fields[index + 1]), fields[index + 2]
        index += 3
        changes: list[FileChange] = []
        # --raw output begins on a new line: "\n:100644 100644 <old> <new> M".
        while index + 1 < len(fields) and fields[index].startswith(("\n:", ":")):
            path = fields[index + 1]
            if keep is None or keep(path):  # the others' lines are only skipped
                parts = fields[index].lstrip("\n").lstrip(":").split()
                if len(parts) != 5 or not OBJECT_ID.match(parts[3]):
                    raise GitError(f"git log printed an unexpected change line {fields[index][:80]!r}")
                changes.append(FileChange(commit, timestamp, author, path, parts[3], parts[4], parts[1]))
            index += 2
        if changes:
            commits.append(changes)
    for changes in reversed(commits):
        yield from changes
