"""Git LFS pointers: verify an artifact against the pointer git stores, without the content.

A CI clone without ``git lfs pull`` has, in place of each large file, a small pointer:

    version https://git-lfs.github.com/spec/v1
    oid sha256:<64 hex>
    size <bytes>

Its oid *is* the sha256 of the content, so the manifest's sha256 and size can be checked
against it without downloading anything. ``--deep`` hashes the content instead, from the
local LFS object store.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable

from modelgate.datamodel.records import record

VERSION = b"version https://git-lfs.github.com/spec/v1\n"
MAX_POINTER = 1024
_LINE = re.compile(rb"^([a-z0-9.-]+) ([^\n]*)$")


class LfsError(Exception):
    """A file that starts like an LFS pointer but is not a valid one."""


@record
class Pointer:
    oid: str
    size: int


def read_pointer(path: str) -> Pointer | None:
    """The pointer in ``path``, None if the file is not one; LfsError if malformed."""
    try:
        if os.stat(path).st_size > MAX_POINTER:
            return None
        with open(path, "rb") as stream:
            data = stream.read(MAX_POINTER + 1)
    except OSError:
        return None
    if not data.startswith(VERSION):
        return None
    return parse(data)


def parse(data: bytes) -> Pointer:
    if not data.endswith(b"\n"):
        raise LfsError("LFS pointer does not end with a newline")
    fields: dict[bytes, bytes] = {}
    keys = []
    for line in data.split(b"\n")[1:-1]:
        match = _LINE.match(line)
        if match is None:
            raise LfsError(f"LFS pointer has a malformed line {line[:40]!r}")
        keys.append(match.group(1))
        fields[match.group(1)] = match.group(2)
    if keys != sorted(keys) or len(set(keys)) != len(keys):
        raise LfsError("LFS pointer keys are not unique and sorted")
    oid = fields.get(b"oid", b"")
    size = fields.get(b"size", b"")
    if not re.fullmatch(rb"sha256:[0-9a-f]{64}", oid):
        raise LfsError("LFS pointer has no valid 'oid sha256:<64 hex>'")
    if not re.fullmatch(rb"(0|[1-9][0-9]{0,18})", size):
        raise LfsError("LFS pointer has no valid 'size'")
    return Pointer(oid[len(b"sha256:") :].decode(), int(size))


def tracked_by(root: str) -> Callable[[str], bool]:
    """Whether git's attributes give a file of the repository at ``root`` (an absolute
    path, symlinks followed) ``filter=lfs``: only there is a pointer the file's stand-in.
    Always False outside a git repository. Asked per file: call it for pointer-shaped
    files only (they are few)."""
    from modelgate.git.repo import GitRepo  # here: most runs never meet a pointer

    repo = GitRepo.at(root)
    if repo is None:
        return lambda path: False
    real_root = os.path.realpath(root)

    def tracked(path: str) -> bool:
        rel = os.path.relpath(os.path.realpath(path), real_root).replace(os.sep, "/")
        return rel in repo.lfs_paths([rel])

    return tracked


def object_path(git_common_dir: str, oid: str) -> str:
    """Where ``git lfs`` keeps the content of ``oid`` in this clone."""
    return os.path.join(git_common_dir, "lfs", "objects", oid[:2], oid[2:4], oid)
