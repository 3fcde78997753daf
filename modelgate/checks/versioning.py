"""MG5xx: versions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from modelgate.checkapi.decorator import Fail, check
from modelgate.checks import DOCS

MODELGATE_DOCS = DOCS  # each check's section there is its SARIF helpUri

if TYPE_CHECKING:
    from modelgate.datamodel.manifest import Manifest


@check(
    "MG501",
    name="semver",
    waivable=False,
    hint="use MAJOR.MINOR.PATCH, e.g. 1.4.0 (pre-release and build suffixes allowed)",
)
def semver_valid(manifest: Manifest) -> Iterator[Fail]:
    """The version (and ``lineage.parent``'s version) is a SemVer 2.0.0 string.

    ``1.4.0``, ``2.0.0-rc.1`` and ``1.0.0+build.7`` are versions; ``v1.4``, ``1.4`` and
    ``latest`` are not. Version order drives the version-bump rules, so it must be exact.
    """
    import semver  # here: checks are imported on every start, and run only on valid manifests

    if not semver.Version.is_valid(manifest.version):
        yield Fail(f"version {manifest.version!r} is not SemVer 2.0.0", at="version")
    parent = manifest.lineage.parent if manifest.lineage else None
    if parent is not None and not semver.Version.is_valid(parent.rsplit("@", 1)[1]):
        yield Fail(f"lineage.parent {parent!r} does not end in a SemVer version", at="lineage.parent")
