"""Verifying a file a manifest pins by digest: an artifact, or a data file in the repository.

The evidence, strongest first:

- the file itself: sha256 and size (and md5, when the manifest records DVC's) from one read;
- a Git LFS pointer where git's attributes say ``filter=lfs`` (a clone without ``git lfs
  pull``): the pointer's oid and size must be the manifest's sha256 and size;
- DVC's record, for a file a ``.dvc`` file or ``dvc.lock`` tracks and the work tree lacks
  (a clone without ``dvc pull``): the md5 and size DVC recorded must be the manifest's. An md5
  is not collision-resistant, so this proves the manifest and DVC name the same content, not
  that the content is what was reviewed: run ``dvc pull`` where that matters, and sha256 is
  checked.

With the file present, a recorded md5 must also be what DVC records for it, so a verdict
does not depend on whether the file was pulled.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING

from modelgate.checkapi.decorator import Fail
from modelgate.datamodel.records import record
from modelgate.errors import ModelgateError
from modelgate.git.lfs import MAX_POINTER, LfsError, Pointer, read_pointer
from modelgate.hashing.digest import HashError
from modelgate.pipeline.paths import ArtifactPathError, MissingFile

if TYPE_CHECKING:
    from modelgate.datamodel.manifest import ManifestDoc
    from modelgate.interop.dvc import Record
    from modelgate.pipeline.context import Context

DVC_PULL = "run `dvc pull` to fetch it, or record DVC's md5 with `modelgate hash --update` to verify it without pulling"
LFS = "lfs"
DVC = "dvc"


@record
class PinnedFile:
    """A file the manifest pins: the path as written, the digests it records, and where."""

    path: str
    sha256: str | None
    size: int | None
    md5: str | None
    at: str  # key path of the entry, "artifacts[0]"
    key: str = "path"  # the entry's key that holds the path
    kind: str = "artifact"  # artifact or data: words the messages


def verify(pinned: PinnedFile, doc: ManifestDoc, context: Context) -> Generator[Fail, None, str | None]:
    """Fail for each way the file disagrees with the manifest; return how it was verified
    when not from its bytes (:data:`LFS`, :data:`DVC`), else None."""
    where = f"{pinned.at}.{pinned.key}"
    try:
        path = context.artifact_path(doc, pinned.path, pinned.kind)
    except MissingFile as exc:
        return (yield from _absent(pinned, exc, context))
    except ArtifactPathError as exc:
        yield Fail(f"{pinned.path}: not verified: {exc}", at=where)
        return None
    try:
        actual = context.digest(path, md5=pinned.md5 is not None)
        mismatch = pinned.sha256 is not None and actual.sha256 != pinned.sha256
        lfs = mismatch and context.lfs_tracked(path)
        pointer = read_pointer(path) if lfs else None
    except (HashError, LfsError) as exc:
        yield Fail(f"{pinned.path}: not verified: {exc}", at=where)
        return None
    if mismatch and not lfs and actual.size <= MAX_POINTER and _pointer_shaped(path):
        yield Fail(
            f"{pinned.path}: looks like a Git LFS pointer, but git's attributes do not give it"
            f" filter=lfs, so it is just bytes: sha256 {actual.sha256} ({actual.size} bytes), manifest"
            f" says {pinned.sha256} ({_size(pinned.size)})",
            at=f"{pinned.at}.sha256",
            hint="track the file with `git lfs track` (.gitattributes), or commit the content itself",
        )
        return None
    if pointer is not None:
        problem = _against_pointer(pinned, pointer, context)
        if problem:
            yield Fail(f"{pinned.path}: {problem}", at=f"{pinned.at}.sha256")
            return None
        yield from _against_dvc(pinned, path, context)
        return LFS
    if mismatch:
        yield Fail(
            f"{pinned.path}: sha256 mismatch: manifest says {pinned.sha256}"
            f" ({_size(pinned.size)}), file has {actual.sha256} ({actual.size} bytes)",
            at=f"{pinned.at}.sha256",
        )
    elif pinned.size is not None and actual.size != pinned.size:
        yield Fail(f"{pinned.path}: size is {actual.size} bytes, manifest says {pinned.size}", at=f"{pinned.at}.size")
    if pinned.md5 is not None and actual.md5 != pinned.md5:
        yield Fail(
            f"{pinned.path}: md5 mismatch: manifest says {pinned.md5}, file has {actual.md5}", at=f"{pinned.at}.md5"
        )
    yield from _against_dvc(pinned, path, context)
    return None


def how_verified(verified: dict[str, list[str]]) -> str | None:
    """The pass message for files verified other than by their bytes (``verify``'s answer ->
    the paths it gave it for)."""
    said = []
    if verified.get(LFS):
        said.append(f"verified by Git LFS pointer, content not downloaded: {', '.join(verified[LFS])}")
    if verified.get(DVC):
        said.append(f"verified by DVC's md5, content not pulled: {', '.join(verified[DVC])}")
    return "; ".join(said) or None


def _size(size: int | None) -> str:
    return f"{size} bytes" if size is not None else "no size"


def _pointer_shaped(path: str) -> bool:
    try:
        return read_pointer(path) is not None
    except LfsError:
        return True


def _against_pointer(pinned: PinnedFile, pointer: Pointer, context: Context) -> str | None:
    """Why the LFS pointer (or, with --deep, its content) disagrees with the manifest."""
    if context.deep:
        content = context.lfs_object(pointer.oid)
        if content is None:
            return "--deep: the LFS content is not in this clone; run `git lfs pull` first"
        actual = context.digest(content)
        if (actual.sha256, actual.size) != (pinned.sha256, pinned.size if pinned.size is not None else actual.size):
            return (
                f"LFS content has sha256 {actual.sha256} ({actual.size} bytes), manifest says"
                f" {pinned.sha256} ({_size(pinned.size)})"
            )
    if pointer.oid != pinned.sha256:
        return f"LFS pointer oid sha256:{pointer.oid} differs from the manifest's sha256 {pinned.sha256}"
    if pinned.size is not None and pointer.size != pinned.size:
        return f"LFS pointer size {pointer.size} differs from the manifest's size {pinned.size}"
    return None


def _records(pinned: PinnedFile, path: str, context: Context) -> Generator[Fail, None, list[Record] | None]:
    """What DVC records about ``path``; None (after a Fail) when a DVC file cannot be read."""
    try:
        return context.dvc_records(path)
    except ModelgateError as exc:
        yield Fail(f"{pinned.path}: not verified: a DVC file cannot be read: {exc}", at=f"{pinned.at}.{pinned.key}")
        return None


def _against_dvc(pinned: PinnedFile, path: str, context: Context) -> Generator[Fail, None, None]:
    """A recorded md5 is DVC's: it must be what DVC records for the file, pulled or not."""
    if pinned.md5 is None:
        return
    for entry in (yield from _records(pinned, path, context)) or ():
        if not entry.within:
            yield from _disagreements(pinned, entry)


def _disagreements(pinned: PinnedFile, entry: Record) -> Generator[Fail, None, None]:
    out = entry.out
    if out.md5 is None:
        yield Fail(
            f"{pinned.path}: {entry.source} records no md5 to compare with; re-run `dvc commit`",
            at=f"{pinned.at}.{pinned.key}",
        )
    elif out.md5 != pinned.md5:
        yield Fail(
            f"{pinned.path}: {entry.source} records md5 {out.md5}, manifest says {pinned.md5}",
            at=f"{pinned.at}.md5",
            hint="re-run `dvc add` or `dvc repro`, then `modelgate hash --update`: DVC and the manifest must agree",
        )
    if out.size is not None and pinned.size is not None and out.size != pinned.size:
        yield Fail(
            f"{pinned.path}: {entry.source} records size {out.size}, manifest says {pinned.size}",
            at=f"{pinned.at}.size",
        )


def _absent(pinned: PinnedFile, missing: MissingFile, context: Context) -> Generator[Fail, None, str | None]:
    """The file is not in the work tree: verified by DVC's record when DVC tracks it."""
    where = f"{pinned.at}.{pinned.key}"
    found = yield from _records(pinned, missing.real, context)
    if found is None:
        return None
    exact = [entry for entry in found if not entry.within]
    if not found:
        yield Fail(f"{pinned.path}: not verified: {missing}", at=where)
        return None
    if not exact:
        yield Fail(
            f"{pinned.path}: not in the work tree; {found[0].source} tracks the folder that holds it, and"
            " DVC keeps what a folder holds only in its cache",
            at=where,
            hint="run `dvc pull` to fetch it",
        )
        return None
    if pinned.md5 is None:
        yield Fail(
            f"{pinned.path}: not in the work tree, and the manifest records no md5 to compare with what"
            f" {exact[0].source} records",
            at=where,
            hint=DVC_PULL,
        )
        return None
    failed = False
    for entry in exact:
        for fail in _disagreements(pinned, entry):
            failed = True
            yield fail
    return None if failed else DVC
