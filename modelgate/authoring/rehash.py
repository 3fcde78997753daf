"""``modelgate hash``: recompute the hashes a manifest records, and with ``--update``
rewrite only the values that changed (see ``editing``: every other byte is kept).

Covered: each artifact's ``sha256``, ``size`` and ``md5``; the environment lockfile's
``sha256``; and each ``lineage.data`` entry whose ``uri`` is a path in the repository (no
scheme; relative to the manifest's folder, ``..`` allowed inside the repository): its
``sha256``, and its ``size`` when it has one. ``md5`` is DVC's digest: recorded for a file a
``.dvc`` file or ``dvc.lock`` tracks (and kept up to date wherever it is written), so that
``check`` can verify the file in a clone without ``dvc pull``. A DVC-tracked file that is not
pulled gets DVC's md5 and size; its sha256 is kept, and the output says so. Nothing is
skipped silently: a data uri that is not a path in the repository is listed as not hashed,
with the reason. A manifest with placeholder hashes (``sha256: TODO``) is fine to update;
YAML that the strict loader refuses (anchors, tags, duplicate keys...) is not edited.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any

from modelgate import confine
from modelgate.authoring.scaffold import file_digest
from modelgate.authoring.yamledit import Edit, EditError, KeyPath, apply, read_text, write_text
from modelgate.datamodel import strictyaml
from modelgate.datamodel.manifest import SHA256_PATTERN, format_keypath
from modelgate.datamodel.records import record
from modelgate.errors import ModelgateError
from modelgate.git.lfs import tracked_by
from modelgate.hashing.digest import Hasher
from modelgate.interop import mapping
from modelgate.pipeline.paths import ArtifactPathError, MissingFile, is_repository_path, resolve

if TYPE_CHECKING:
    from modelgate.interop.dvc import Record


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
    problems: tuple[str, ...]  # files that could not be hashed: the command fails
    hashed: int
    notes: tuple[str, ...] = ()  # entries (or values) not hashed, and why: not failures


def inspect(root: str, abspath: str, display: str, hasher: Hasher) -> RehashReport:
    """Compare what the manifest records with the files it names."""
    # Strict YAML (hostile files are refused), but no schema: placeholders are what this fixes.
    data = strictyaml.parse(confine.read(root, abspath, display, links=False), display).data
    if not isinstance(data, dict):
        raise EditError(f"{display}: not a YAML mapping; nothing to hash")
    folder = os.path.dirname(abspath)
    real_root, real_dir = os.path.realpath(root), os.path.realpath(folder)
    lfs = tracked_by(root)
    stale: list[Stale] = []
    problems: list[str] = []
    notes: list[str] = []
    hashed = 0

    def record_value(at: KeyPath, entry: dict[str, Any], key: str, actual: str | int) -> None:
        if entry.get(key) != actual:
            stale.append(Stale((*at, key), entry.get(key), actual))

    def dvc_says(path: str, where: str) -> list[Record] | None:
        """What DVC records of the file itself; None (a problem noted) when unreadable."""
        from modelgate.interop import dvc

        try:
            return [r for r in dvc.records(root, path) if not r.within]
        except ModelgateError as exc:
            problems.append(f"{where}: a DVC file cannot be read: {exc}")
            return None

    def absent(rel: str, at: KeyPath, entry: dict[str, Any], kind: str, missing: MissingFile) -> None:
        where = f"{format_keypath(at)} {rel}"
        found = dvc_says(missing.real, where)
        if found is None:
            return
        md5s = {r.out.md5 for r in found if r.out.md5}
        if not md5s:
            problems.append(f"{where}: {missing}")
            return
        if len(md5s) > 1:
            problems.append(
                f"{where}: not in the work tree, and {', '.join(r.source for r in found)} record"
                " different md5s; run `dvc repro` or `dvc commit`"
            )
            return
        md5 = md5s.pop()
        if isinstance(entry.get("md5"), str) and entry["md5"] != md5:
            # Other bytes than the manifest's: its sha256 is stale, and there is nothing to
            # hash. Taking DVC's md5 alone would pin new bytes under the old sha256.
            problems.append(
                f"{where}: {found[0].source} records md5 {md5}, the manifest {entry['md5']}, and the"
                " file is not here to hash: run `dvc pull`, then `modelgate hash --update`"
            )
            return
        record_value(at, entry, "md5", md5)
        sizes = {r.out.size for r in found if r.out.size is not None}
        if len(sizes) == 1 and (kind == "artifact" or "size" in entry):
            record_value(at, entry, "size", sizes.pop())
        if isinstance(entry.get("sha256"), str) and re.match(SHA256_PATTERN, entry["sha256"]):
            notes.append(
                f"{where}: sha256 kept, not recomputed: the file is not in the work tree;"
                f" md5 and size are {found[0].source}'s (`dvc pull` to hash the file itself)"
            )
        elif kind == "artifact":
            problems.append(
                f"{where}: no sha256 to keep and no file to hash: run `dvc pull`, then `modelgate hash --update`"
            )

    def compare(rel: Any, at: KeyPath, entry: dict[str, Any], kind: str) -> None:
        nonlocal hashed
        if not isinstance(rel, str):
            problems.append(f"{format_keypath(at)}: no {'uri' if kind == 'data' else 'path'}")
            return
        where = f"{format_keypath(at)} {rel}"
        try:
            path = resolve(root, folder, rel, real_root, real_dir, kind)
        except MissingFile as exc:
            absent(rel, at, entry, kind, exc)
            return
        except ArtifactPathError as exc:
            problems.append(f"{where}: {exc}")
            return
        # DVC's md5 where DVC tracks the file, or where the manifest already keeps one.
        md5 = kind != "lockfile" and ("md5" in entry or bool(dvc_says(path, where)))
        try:
            # A lockfile is no LFS pointer's stand-in: `check` hashes the lockfile itself.
            digest = file_digest(path, hasher, lfs=_never if kind == "lockfile" else lfs, md5=md5)
        except ModelgateError as exc:
            problems.append(f"{where}: {exc}")
            return
        hashed += 1
        record_value(at, entry, "sha256", digest.sha256)
        if kind == "artifact" or (kind == "data" and "size" in entry):
            record_value(at, entry, "size", digest.size)
        if md5 and digest.md5 is not None:
            record_value(at, entry, "md5", digest.md5)
        elif md5:
            notes.append(f"{where}: md5 kept, not recomputed: a Git LFS pointer, whose content is not here")

    for index, artifact in enumerate(_list(data.get("artifacts"))):
        if isinstance(artifact, dict):
            compare(artifact.get("path"), ("artifacts", index), artifact, "artifact")
    lineage = mapping(data.get("lineage"))
    environment = mapping(lineage.get("environment"))
    lockfile = environment.get("lockfile")
    if isinstance(lockfile, dict):
        compare(lockfile.get("path"), ("lineage", "environment", "lockfile"), lockfile, "lockfile")
    elif lockfile is not None:  # a value this command cannot hash must not read as "all match"
        problems.append("lineage.environment.lockfile: not a mapping with path and sha256")
    for index, entry in enumerate(_list(lineage.get("data"))):
        at: KeyPath = ("lineage", "data", index)
        uri = entry.get("uri") if isinstance(entry, dict) else None
        if not isinstance(entry, dict) or not isinstance(uri, str):
            problems.append(f"{format_keypath(at)}: no uri")
        elif not is_repository_path(uri):
            notes.append(
                f"{format_keypath(at)}: not hashed: {uri} has a scheme, so it names no file in the"
                " repository (a revision or sha256 you record pins it)"
            )
        else:
            compare(uri, at, entry, "data")
    return RehashReport(display, tuple(stale), tuple(problems), hashed, tuple(notes))


def _never(path: str) -> bool:
    return False


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


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
