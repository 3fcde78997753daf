"""A manifest's state in the history, as the rules about change read it: its identity, its
stage and the bytes it pinned (:class:`Snapshot`), read from an old blob's bytes
(:func:`snapshot`) or taken from a manifest loaded today (:meth:`Snapshot.of`)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from modelgate.datamodel import strictyaml
from modelgate.datamodel.manifest import MD5_PATTERN, NAME_PATTERN, SHA256_PATTERN, format_keypath
from modelgate.datamodel.records import record
from modelgate.errors import InputError, Problem

if TYPE_CHECKING:
    from modelgate.datamodel.manifest import Manifest


@record
class Pinned:
    """An artifact as a past state of a manifest pinned it."""

    path: str
    sha256: str
    size: int
    md5: str | None = None  # DVC's, where recorded: new bytes under an old sha256 show as a new md5


@record
class Snapshot:
    """A manifest's state in the history, as the rules about change read it: its identity,
    its stage and the bytes it pinned. Read strictly (the strict YAML loader, these fields
    type-checked); the rest, which the rules about change do not read and which an older
    release may have written differently, is parsed as YAML and passed over."""

    name: str
    version: str
    stage: str
    artifacts: tuple[Pinned, ...]

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    @staticmethod
    def of(model: Manifest) -> Snapshot:
        return Snapshot(
            model.name,
            model.version,
            model.stage,
            tuple(Pinned(a.path, a.sha256, a.size, a.md5) for a in model.artifacts),
        )


_NAME = re.compile(NAME_PATTERN)
_SHA256 = re.compile(SHA256_PATTERN)
_MD5 = re.compile(MD5_PATTERN)


# What a snapshot reads; the rest of an old state is parsed as YAML, its content passed over.
_SNAPSHOT_KEYS = frozenset(("apiVersion", "kind", "name", "version", "stage", "artifacts"))


def snapshot(raw: bytes, display: str) -> Snapshot | Problem:
    """What the rules about change read of a manifest's bytes, or the first reason they
    cannot be read."""
    try:
        doc = strictyaml.parse(raw, display, _SNAPSHOT_KEYS)
    except InputError as exc:
        return exc.problems[0]
    data = doc.data
    if not isinstance(data, dict):
        return Problem(display, 1, 1, "a manifest must be a YAML mapping")

    def wrong(key: tuple[str | int, ...], what: str) -> Problem:
        line, column = doc.location(key)
        return Problem(display, line, column, f"{format_keypath(key) or 'document'} {what}")

    if data.get("apiVersion") != "modelgate/v1" or data.get("kind") != "Model":
        return wrong(("apiVersion",), "is not modelgate/v1 with kind Model")
    name, version, stage, artifacts = (data.get(k) for k in ("name", "version", "stage", "artifacts"))
    if not isinstance(name, str) or not _NAME.match(name):
        return wrong(("name",), "is not a model name")
    if not isinstance(version, str) or not 1 <= len(version) <= 256:
        return wrong(("version",), "is not a version string")
    if not isinstance(stage, str) or not 1 <= len(stage) <= 64:
        return wrong(("stage",), "is not a stage")
    if not isinstance(artifacts, list) or not artifacts:
        return wrong(("artifacts",), "is not a list of artifacts")
    pinned = []
    for index, item in enumerate(artifacts):
        path = item.get("path") if isinstance(item, dict) else None
        digest = item.get("sha256") if isinstance(item, dict) else None
        size = item.get("size") if isinstance(item, dict) else None
        md5 = item.get("md5") if isinstance(item, dict) else None
        if md5 is not None and (not isinstance(md5, str) or not _MD5.match(md5)):
            return wrong(("artifacts", index, "md5"), "is not an md5 (32 lowercase hex characters)")
        if (
            not isinstance(path, str)
            or not 1 <= len(path) <= 4096
            or not isinstance(digest, str)
            or not _SHA256.match(digest)
            or not isinstance(size, int)
            or isinstance(size, bool)
            or size < 0
        ):
            return wrong(("artifacts", index), "is not an artifact (path, sha256, size)")
        pinned.append(Pinned(path, digest, size, md5))
    return Snapshot(name, version, stage, tuple(pinned))
