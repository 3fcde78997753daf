"""MG21x: the manifest agrees with what DVC and MLflow recorded (enabled by policy rules).

These cross-checks run only where a policy rule names them, e.g.
``- {check: dvc-artifact, stages: [staging, production]}``. The DVC and MLflow files are
part of the change under review: they are parsed as data with the strict loader, and a
file that cannot be read fails the check.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from modelgate.checkapi.decorator import Fail, Skip, check
from modelgate.checks import DOCS
from modelgate.datamodel.records import record
from modelgate.datamodel.validation import Strict
from modelgate.errors import ModelgateError
from modelgate.hashing.digest import HashError
from modelgate.pipeline.paths import ArtifactPathError

MODELGATE_DOCS = DOCS  # each check's section there is its SARIF helpUri

if TYPE_CHECKING:
    from modelgate.datamodel.manifest import Manifest, ManifestDoc
    from modelgate.interop.dvc import Record
    from modelgate.pipeline.context import Context


@record(kw_only=True)
class DvcArtifactParams(Strict):
    required: bool = False  # every artifact must be tracked by DVC


def _records(manifest: Manifest, doc: ManifestDoc, context: Context) -> Iterator[tuple[int, str, list[Record]]]:
    """(index, absolute path, DVC records) per artifact that can be located; a DVC file
    that cannot be read raises Fail."""
    from modelgate.interop import dvc

    for index, artifact in enumerate(manifest.artifacts):
        try:
            path = context.artifact_path(doc, artifact.path)
        except ArtifactPathError:
            continue  # artifact-path (MG101) reports it
        try:
            yield index, path, dvc.records(context.root, path)
        except ModelgateError as exc:
            raise Fail(f"{artifact.path}: a DVC file cannot be read: {exc}", at=f"artifacts[{index}].path") from None


@check(
    "MG210",
    name="dvc-artifact",
    needs_rule=True,
    params=DvcArtifactParams,
    digests=["sha256", "md5"],
    hint="re-run `dvc add` or `dvc repro`, then `modelgate hash --update`: DVC and the manifest must agree",
)
def dvc_artifact(manifest: Manifest, doc: ManifestDoc, context: Context, params: DvcArtifactParams) -> Iterator[Fail]:
    """Artifacts tracked by DVC have the size and content DVC recorded.

    For each artifact, the ``<artifact>.dvc`` file beside it and the ``outs`` of every
    ``dvc.lock`` from its folder up to the repository root are read. The recorded ``size``
    must equal the manifest's, and where DVC recorded an ``md5``, the file's md5 (computed
    in the same read as its sha256) must equal it. With ``with: {required: true}`` every
    artifact must be tracked by DVC. Skipped when no artifact is tracked.
    """
    tracked = 0
    for index, path, records in _records(manifest, doc, context):
        artifact = manifest.artifacts[index]
        at = f"artifacts[{index}]"
        if not records:
            if params.required:
                yield Fail(f"{artifact.path} is not tracked by DVC (no .dvc file, no dvc.lock out)", at=f"{at}.path")
            continue
        tracked += 1
        for entry in records:
            out = entry.out
            if out.size is not None and out.size != artifact.size:
                yield Fail(
                    f"{artifact.path}: {entry.source} records size {out.size}, manifest says {artifact.size}",
                    at=f"{at}.size",
                )
            if out.md5 is None:
                continue
            try:
                digest = context.hasher.digest(path, md5=True)
            except HashError as exc:
                yield Fail(f"{artifact.path}: not verified: {exc}", at=f"{at}.path")
                continue
            if digest.md5 != out.md5:
                legacy = (
                    (
                        " (written by DVC 2, which hashed text files with CRLF as LF: `dvc commit` with DVC 3"
                        " rewrites it)"
                    )
                    if out.legacy
                    else ""
                )
                yield Fail(
                    f"{artifact.path}: {entry.source} records md5 {out.md5}, the file has md5 {digest.md5}{legacy}",
                    at=f"{at}.sha256",
                )
    if not tracked and not params.required:
        raise Skip("no artifact is tracked by DVC")


def _same(mine: Any, theirs: Any) -> bool:
    if isinstance(mine, bool) or isinstance(theirs, bool):
        return mine is theirs
    if isinstance(mine, int | float) and isinstance(theirs, int | float):
        return float(mine) == float(theirs)
    return bool(mine == theirs)


@check(
    "MG211",
    name="dvc-params",
    needs_rule=True,
    hint="copy the params from dvc.lock (for a new manifest, `--from-dvc` imports them: `modelgate init --help`)",
)
def dvc_params(manifest: Manifest, doc: ManifestDoc, context: Context) -> Iterator[Fail]:
    """``lineage.params`` agree with the params ``dvc.lock`` recorded for the stage that
    produced the artifacts.

    Every param the stage read (``train.lr`` for ``{train: {lr: ...}}``) must be in
    ``lineage.params`` with the same value; numbers compare by value (``400`` equals
    ``400.0``). Params only the manifest lists are allowed. Skipped when no ``dvc.lock``
    stage outputs any of the artifacts.
    """
    from modelgate.interop import flatten

    stages = {}
    for _index, _path, records in _records(manifest, doc, context):
        for entry in records:
            if entry.stage is not None:
                stages[entry.source] = entry.stage
    if not stages:
        raise Skip("no dvc.lock stage outputs these artifacts")
    mine = flatten(manifest.lineage.params or {}) if manifest.lineage else {}
    for source, stage in sorted(stages.items()):
        for key, value in sorted(stage.params.items()):
            if key not in mine:
                yield Fail(f"lineage.params has no {key!r}; {source} records {value!r}", at="lineage.params")
            elif not _same(mine[key], value):
                yield Fail(
                    f"lineage.params.{key} is {mine[key]!r}; {source} records {value!r}", at=f"lineage.params.{key}"
                )


def _fields(items: Any) -> list[tuple[str, str, tuple[int, ...] | None]]:
    return [(f["name"], f["type"], tuple(f["shape"]) if f.get("shape") is not None else None) for f in items]


@check(
    "MG212",
    name="mlflow-model",
    needs_rule=True,
    hint="take the signature and run id from the MLmodel (for a new manifest, `--from-mlflow` imports them:"
    " `modelgate init --help`)",
)
def mlflow_model(manifest: Manifest, doc: ManifestDoc, context: Context) -> Iterator[Fail]:
    """An MLflow ``MLmodel`` among the artifacts agrees with the manifest.

    Its ``run_id`` must be ``lineage.run.id`` (tracker ``mlflow``), and its signature must
    be the manifest's ``signature``: the same inputs and outputs, in order, with the same
    names and types (MLflow's ``double``, ``long``... read as ``float64``, ``int64``...) and,
    for tensors, shapes. Skipped when no artifact is an ``MLmodel`` file.
    """
    from modelgate.interop.mlflow import MLMODEL, read_mlmodel

    found = 0
    for index, artifact in enumerate(manifest.artifacts):
        if artifact.path.rsplit("/", 1)[-1] != MLMODEL:
            continue
        try:
            path = context.artifact_path(doc, artifact.path)
        except ArtifactPathError:
            continue  # artifact-path (MG101) reports it
        found += 1  # before reading it: an MLmodel that cannot be read fails, it is not "none found"
        try:
            mlmodel = read_mlmodel(path, artifact.path)
        except ModelgateError as exc:
            yield Fail(f"{artifact.path}: cannot be read as an MLmodel: {exc}", at=f"artifacts[{index}].path")
            continue
        run = manifest.lineage.run if manifest.lineage else None
        if mlmodel.run_id is not None:
            if run is None:
                yield Fail(
                    f"lineage.run is missing; {artifact.path} was logged by MLflow run {mlmodel.run_id}", at="lineage"
                )
            elif (run.tracker, run.id) != ("mlflow", mlmodel.run_id):
                yield Fail(
                    f"lineage.run is {run.tracker} {run.id}; {artifact.path} was logged by MLflow run {mlmodel.run_id}",
                    at="lineage.run.id",
                )
        if mlmodel.signature is None:
            continue
        if manifest.signature is None:
            yield Fail(f"signature is missing; {artifact.path} declares one", at="artifacts")
            continue
        for side in ("inputs", "outputs"):
            theirs = _fields(mlmodel.signature.get(side, []))
            mine = [
                (f.name, f.type, tuple(f.shape) if f.shape is not None else None)
                for f in getattr(manifest.signature, side)
            ]
            if mine != theirs:
                shown = ", ".join(f"{n}: {t}" + (f" {list(s)}" if s else "") for n, t, s in theirs) or "none"
                yield Fail(
                    f"signature.{side} differs from {artifact.path}, which declares {shown}", at=f"signature.{side}"
                )
    if not found:
        raise Skip("no artifact is an MLflow MLmodel file")
