"""``modelgate hash``: recompute the hashes a manifest records, and with ``--update``
rewrite only the values that changed (see ``editing``: every other byte is kept).

Covered: each artifact's ``sha256`` and ``size``, the environment lockfile's ``sha256``,
and the ``sha256`` of each ``lineage.data`` entry whose ``uri`` is a file in the repository.
A manifest with placeholder hashes (``sha256: TODO``) is fine to update; YAML that the
strict loader refuses (anchors, tags, duplicate keys...) is not edited.
"""

from __future__ import annotations

import os
from typing import Any

from modelgate import confine
from modelgate.authoring.scaffold import file_digest
from modelgate.authoring.yamledit import Edit, EditError, KeyPath, apply, read_text, write_text
from modelgate.datamodel import strictyaml
from modelgate.datamodel.manifest import format_keypath
from modelgate.datamodel.records import record
from modelgate.errors import ModelgateError
from modelgate.git.lfs import tracked_by
from modelgate.hashing.digest import Hasher
from modelgate.interop import mapping
from modelgate.pipeline.paths import ArtifactPathError, resolve


@record
class Stale:
    """One recorded value that differs from the file."""

    at: KeyPath
    recorded: Any
    actual: str | int

    def describe(self) -> str:
        return f"{format_keypath(self.at)}: {self.recorded!r} -> {self.actual!r}"


@record
class RehashReport:
    path: str  # repo-relative
    stale: tuple[Stale, ...]
    problems: tuple[str, ...]  # files that could not be hashed
    hashed: int


def inspect(root: str, abspath: str, display: str, hasher: Hasher) -> RehashReport:
    """Compare what the manifest records with the files it names."""
    # Strict YAML (hostile files are refused), but no schema: placeholders are what this fixes.
    data = strictyaml.parse(confine.read(root, abspath, display, links=False), display).data
    if not isinstance(data, dict):
        raise EditError(f"{display}: not a YAML mapping; nothing to hash")
    folder = os.path.dirname(abspath)
    lfs = tracked_by(root)
    stale: list[Stale] = []
    problems: list[str] = []
    hashed = 0

    def compare(rel: Any, at: KeyPath, entry: dict[str, Any], with_size: bool) -> None:
        nonlocal hashed
        if not isinstance(rel, str):
            problems.append(f"{format_keypath(at)}: no path")
            return
        try:
            # Only an artifact may stand in as a pointer: `check` hashes lockfiles and data.
            digest = file_digest(resolve(root, folder, rel), hasher, lfs=lfs if with_size else _never)
        except (ArtifactPathError, ModelgateError) as exc:
            problems.append(f"{format_keypath(at)} {rel}: {exc}")
            return
        hashed += 1
        if entry.get("sha256") != digest.sha256:
            stale.append(Stale((*at, "sha256"), entry.get("sha256"), digest.sha256))
        if with_size and entry.get("size") != digest.size:
            stale.append(Stale((*at, "size"), entry.get("size"), digest.size))

    for index, artifact in enumerate(_list(data.get("artifacts"))):
        if isinstance(artifact, dict):
            compare(artifact.get("path"), ("artifacts", index), artifact, True)
    lineage = mapping(data.get("lineage"))
    environment = mapping(lineage.get("environment"))
    lockfile = environment.get("lockfile")
    if isinstance(lockfile, dict):
        compare(lockfile.get("path"), ("lineage", "environment", "lockfile"), lockfile, False)
    elif lockfile is not None:  # a value this command cannot hash must not read as "all match"
        problems.append("lineage.environment.lockfile: not a mapping with path and sha256")
    for index, entry in enumerate(_list(lineage.get("data"))):
        uri = entry.get("uri") if isinstance(entry, dict) else None
        if not isinstance(uri, str):
            problems.append(f"{format_keypath(('lineage', 'data', index))}: no uri")
        elif isinstance(entry, dict) and _local(root, folder, uri):
            compare(uri, ("lineage", "data", index), entry, False)
    return RehashReport(display, tuple(stale), tuple(problems), hashed)


def _never(path: str) -> bool:
    return False


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _local(root: str, folder: str, uri: str) -> bool:
    """A data ``uri`` that names a file in the repository (not ``s3://``, not a folder)."""
    if "://" in uri or uri.startswith("/"):
        return False
    try:
        resolve(root, folder, uri)
    except ArtifactPathError:
        return False
    return True


def update(root: str, abspath: str, outcome: RehashReport) -> bool:
    """Write the actual values in place of the stale ones; True when the file changed."""
    if not outcome.stale:
        return False
    text, bom = read_text(abspath, outcome.path, root=root)
    new = apply(text, [Edit(s.at, s.actual) for s in outcome.stale], outcome.path)
    if new == text:
        return False
    write_text(abspath, new, bom)
    return True
