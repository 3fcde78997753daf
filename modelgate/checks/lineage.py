"""MG2xx: where the model came from (code, data, params, environment)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from modelgate.checkapi.decorator import Fail, Skip, check
from modelgate.checks import DOCS
from modelgate.datamodel.validation import Strict
from modelgate.hashing.digest import HashError
from modelgate.pipeline.paths import ArtifactPathError

MODELGATE_DOCS = DOCS  # each check's section there is its SARIF helpUri

if TYPE_CHECKING:
    from modelgate.datamodel.manifest import Manifest, ManifestDoc
    from modelgate.pipeline.context import Context

# Names that move: a "revision" like these pins nothing.
MOVING_REVISIONS = frozenset(
    {"head", "main", "master", "latest", "dev", "develop", "trunk", "current", "stable", "default"}
)


@check(
    "MG201",
    name="required-fields",
    needs_rule=True,
    adds_up=["fields"],
    hint="add the missing field; the policy requires it at this stage",
)
def required_fields(manifest: Manifest, params: dict[str, Any]) -> Iterator[Fail]:
    """Fields the policy requires at this stage are present and not empty.

    ``with: {fields: [license, lineage.code.commit, lineage.data, ...]}`` lists dotted
    paths into the manifest. A field that is missing, null, or an empty list or mapping
    fails. ``builtin:default`` requires ``license``, ``lineage.code.commit``,
    ``lineage.data`` and ``lineage.params`` from staging on, and
    ``lineage.environment.lockfile`` at production.
    """
    fields = params.get("fields")
    if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
        raise Fail("rule misconfigured: with.fields must be a list of dotted field names")
    for dotted in fields:
        value: Any = manifest
        parent = []
        for part in dotted.split("."):
            value = value.get(part) if isinstance(value, dict | Strict) else None
            if value is None:
                break
            parent.append(part)
        if value is None or value == [] or value == {} or value == "":
            # Point at the deepest part that exists, else at the stage that requires it.
            yield Fail(
                f"{dotted} is required at stage {manifest.stage!r}",
                at=".".join(parent) or "stage",
                hint=f"add {dotted}",
            )


@check(
    "MG202",
    name="data-pinned",
    hint="give each data entry a sha256, or a revision that never moves (a commit, a dated snapshot)",
)
def data_pinned(manifest: Manifest) -> Iterator[Fail]:
    """Every training-data entry is pinned by a digest or an immutable revision.

    A data entry needs ``sha256`` or ``revision``; a revision that names something that
    moves (``main``, ``latest``, ``HEAD``...) pins nothing and fails. This is what makes
    "which dataset trained the model in production?" answerable.
    """
    for index, entry in enumerate(manifest.lineage.data if manifest.lineage else ()):
        at = f"lineage.data[{index}]"
        if entry.sha256 is None and entry.revision is None:
            yield Fail(f"data {entry.name!r} has neither sha256 nor revision", at=at)
        elif entry.sha256 is None and entry.revision and entry.revision.lower() in MOVING_REVISIONS:
            yield Fail(
                f"data {entry.name!r} revision {entry.revision!r} moves; pin an immutable one", at=f"{at}.revision"
            )


@check(
    "MG203",
    name="lockfile-hash",
    hint="regenerate the sha256 of the lockfile, or commit the lockfile the model was trained with",
)
def lockfile_hash(manifest: Manifest, doc: ManifestDoc, context: Context) -> Iterator[Fail]:
    """The environment lockfile, when declared, exists and matches its sha256.

    ``lineage.environment.lockfile.path`` is relative to the manifest's folder, like an
    artifact; the environment a model was trained in is only pinned if its lockfile is.
    """
    env = manifest.lineage.environment if manifest.lineage else None
    if env is None or env.lockfile is None:
        raise Skip("no lockfile declared")
    at = "lineage.environment.lockfile"
    try:
        actual = context.digest(context.artifact_path(doc, env.lockfile.path))
    except (ArtifactPathError, HashError) as exc:
        yield Fail(f"lockfile {env.lockfile.path}: not verified: {exc}", at=f"{at}.path")
        return
    if actual.sha256 != env.lockfile.sha256:
        yield Fail(
            f"lockfile {env.lockfile.path}: sha256 mismatch: manifest says"
            f" {env.lockfile.sha256}, file has {actual.sha256}",
            at=f"{at}.sha256",
        )
