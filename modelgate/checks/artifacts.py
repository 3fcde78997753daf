"""MG1xx: the model's bytes are where the manifest says, and are what it says."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING

from modelgate.checkapi.decorator import Fail, check
from modelgate.checks import DOCS
from modelgate.git.lfs import MAX_POINTER, LfsError, Pointer, read_pointer
from modelgate.hashing.digest import HashError
from modelgate.pipeline.paths import ArtifactPathError

MODELGATE_DOCS = DOCS  # each check's section there is its SARIF helpUri

if TYPE_CHECKING:
    from modelgate.datamodel.manifest import Artifact, Manifest, ManifestDoc
    from modelgate.pipeline.context import Context


@check(
    "MG101",
    name="artifact-path",
    waivable=False,
    hint="artifact paths are relative to the manifest's folder, use '/', and stay inside the repository",
)
def artifact_path(manifest: Manifest, doc: ManifestDoc, context: Context) -> Iterator[Fail]:
    """Every artifact exists and is a regular file inside the repository.

    The path is relative to the manifest's folder, uses ``/``, has no ``..`` and is not
    absolute; after following symlinks it is still inside the repository and not under
    ``.git/`` (which no commit holds); and it is a regular file, not a directory, device,
    FIFO or socket. These are refused before the file is opened.
    """
    for index, artifact in enumerate(manifest.artifacts):
        try:
            context.artifact_path(doc, artifact.path)
        except ArtifactPathError as exc:
            yield Fail(f"{artifact.path}: {exc}", at=f"artifacts[{index}].path")


@check(
    "MG102",
    name="artifact-hash",
    waivable=False,
    digests=["sha256"],
    hint="if the new bytes are intended, update sha256 and size (and bump the version)",
)
def artifact_hash(manifest: Manifest, doc: ManifestDoc, context: Context) -> Generator[Fail, None, str | None]:
    """Every artifact's size and sha256 match the manifest.

    The file is hashed as a stream from one file descriptor; a file that changes while it
    is read is an error. A Git LFS pointer (a clone without ``git lfs pull``) is checked
    against the pointer's ``oid sha256:`` and ``size`` without downloading the content,
    but only where git's attributes say ``filter=lfs`` for the file: anywhere else a
    pointer-shaped file is just bytes, and its own hash must match. ``--deep`` hashes the
    content from the local LFS store instead. A mismatch names the artifact, the expected
    and actual sha256 and size, and points at the manifest line. An artifact that cannot be
    located or read is never a pass.
    """
    by_pointer = []
    for index, artifact in enumerate(manifest.artifacts):
        at = f"artifacts[{index}]"
        try:
            path = context.artifact_path(doc, artifact.path)
            actual = context.digest(path)
            mismatch = actual.sha256 != artifact.sha256
            lfs = mismatch and context.lfs_tracked(path)
            pointer = read_pointer(path) if lfs else None
        except (ArtifactPathError, HashError, LfsError) as exc:
            yield Fail(f"{artifact.path}: not verified: {exc}", at=f"{at}.path")
            continue
        if mismatch and not lfs and actual.size <= MAX_POINTER and _pointer_shaped(path):
            yield Fail(
                f"{artifact.path}: looks like a Git LFS pointer, but git's attributes do not give it"
                f" filter=lfs, so it is just bytes: sha256 {actual.sha256} ({actual.size} bytes), manifest"
                f" says {artifact.sha256} ({artifact.size} bytes)",
                at=f"{at}.sha256",
                hint="track the file with `git lfs track` (.gitattributes), or commit the content itself",
            )
            continue
        if pointer is not None:
            problem = _against_pointer(artifact, pointer, context)
            if problem:
                yield Fail(f"{artifact.path}: {problem}", at=f"{at}.sha256")
            else:
                by_pointer.append(artifact.path)
            continue
        if actual.sha256 != artifact.sha256:
            yield Fail(
                f"{artifact.path}: sha256 mismatch: manifest says {artifact.sha256}"
                f" ({artifact.size} bytes), file has {actual.sha256} ({actual.size} bytes)",
                at=f"{at}.sha256",
            )
        elif actual.size != artifact.size:
            yield Fail(f"{artifact.path}: size is {actual.size} bytes, manifest says {artifact.size}", at=f"{at}.size")
    if by_pointer:
        return f"verified by Git LFS pointer, content not downloaded: {', '.join(by_pointer)}"
    return None


def _pointer_shaped(path: str) -> bool:
    try:
        return read_pointer(path) is not None
    except LfsError:
        return True


def _against_pointer(artifact: Artifact, pointer: Pointer, context: Context) -> str | None:
    """Why the LFS pointer (or, with --deep, its content) disagrees with the manifest."""
    if context.deep:
        content = context.lfs_object(pointer.oid)
        if content is None:
            return "--deep: the LFS content is not in this clone; run `git lfs pull` first"
        actual = context.digest(content)
        if (actual.sha256, actual.size) != (artifact.sha256, artifact.size):
            return (
                f"LFS content has sha256 {actual.sha256} ({actual.size} bytes), manifest says"
                f" {artifact.sha256} ({artifact.size} bytes)"
            )
    if pointer.oid != artifact.sha256:
        return f"LFS pointer oid sha256:{pointer.oid} differs from the manifest's sha256 {artifact.sha256}"
    if pointer.size != artifact.size:
        return f"LFS pointer size {pointer.size} differs from the manifest's size {artifact.size}"
    return None
