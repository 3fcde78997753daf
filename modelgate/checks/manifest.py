"""MG0xx: the manifest itself."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from modelgate.checkapi.decorator import Fail, check
from modelgate.checks import DOCS

MODELGATE_DOCS = DOCS  # each check's section there is its SARIF helpUri

if TYPE_CHECKING:
    from modelgate.datamodel.manifest import Manifest, ManifestDoc
    from modelgate.pipeline.context import Context


@check(
    "MG001",
    name="manifest-valid",
    required=True,
    waivable=False,
    hint="fix the file at the line shown; `modelgate schema manifest` prints the schema",
)
def manifest_valid(doc: ManifestDoc) -> Iterator[Fail]:
    """The manifest is strict YAML and matches the manifest v1 schema.

    Strict means: one document of at most 1 MiB, UTF-8, no anchors, aliases, merge keys,
    tags or duplicate keys, nesting at most 64 deep, only ``true``/``false`` as booleans,
    finite decimal numbers, no control or bidi characters, and no unknown keys. Every
    problem is reported with its line and column. An invalid manifest always fails: this
    check cannot be deselected or waived, and no other check runs on it.
    """
    for problem in doc.problems:
        yield Fail(problem.message, line=problem.line, column=problem.column)


@check(
    "MG002", name="unique-version", waivable=False, hint="bump the version of one of them, or delete the stale manifest"
)
def unique_version(manifest: Manifest, doc: ManifestDoc, context: Context) -> Iterator[Fail]:
    """Each name@version is declared by exactly one manifest in the repository.

    One version, one ID: two manifests claiming the same version of a model make "which
    bytes is fraud-detector@1.4.0?" unanswerable.
    """
    for other in context.versions_of(manifest.name):
        if other.path != doc.path and other.model is not None and other.model.version == manifest.version:
            yield Fail(f"{manifest.ref} is also declared in {other.path}", at="version")
