"""MG1xx: the model's bytes are where the manifest says, and are what it says."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING

from modelgate.checkapi.decorator import Fail, check
from modelgate.checks import DOCS
from modelgate.checks.pinning import PinnedFile, how_verified, verify
from modelgate.errors import ModelgateError
from modelgate.pipeline.paths import ArtifactPathError, MissingFile

MODELGATE_DOCS = DOCS  # each check's section there is its SARIF helpUri

if TYPE_CHECKING:
    from modelgate.datamodel.manifest import Manifest, ManifestDoc
    from modelgate.pipeline.context import Context


@check(
    "MG101",
    name="artifact-path",
    waivable=False,
    hint="artifact paths are relative to the manifest's folder, use '/', and stay inside the repository",
)
def artifact_path(manifest: Manifest, doc: ManifestDoc, context: Context) -> Iterator[Fail]:
    """Every artifact exists and is a regular file inside the repository.

    The path is relative to the manifest's folder, uses ``/`` and is not absolute; it may
    climb with ``..`` but, written out, never above the repository's root nor through
    ``.git``; after following symlinks it is still inside the repository and not under
    ``.git/`` (which no commit holds); and it is a regular file, not a directory, device,
    FIFO or socket. These are refused before the file is opened. A file that a ``.dvc``
    file or ``dvc.lock`` tracks may be absent (a clone without ``dvc pull``):
    ``artifact-hash`` then verifies it against what DVC recorded.
    """
    for index, artifact in enumerate(manifest.artifacts):
        try:
            context.artifact_path(doc, artifact.path)
        except MissingFile as exc:
            try:
                tracked = bool(context.dvc_records(exc.real))
            except ModelgateError:
                tracked = False  # artifact-hash says why the DVC file cannot be read
            if not tracked:
                yield Fail(f"{artifact.path}: {exc}", at=f"artifacts[{index}].path")
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
    content from the local LFS store instead. An artifact that records ``md5`` (DVC's
    digest) has its md5 taken in the same read, and that md5 must also be what DVC records
    for it; when a ``.dvc`` file or ``dvc.lock`` tracks the artifact and the file is absent
    (a clone without ``dvc pull``), the manifest's ``md5`` and ``size`` must equal what DVC
    recorded. A mismatch names the artifact, the expected and actual values, and points at
    the manifest line. An artifact that cannot be located or read is never a pass.
    """
    verified: dict[str, list[str]] = {}
    for index, artifact in enumerate(manifest.artifacts):
        pinned = PinnedFile(artifact.path, artifact.sha256, artifact.size, artifact.md5, f"artifacts[{index}]")
        how = yield from verify(pinned, doc, context)
        if how is not None:
            verified.setdefault(how, []).append(artifact.path)
    return how_verified(verified)
