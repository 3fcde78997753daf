"""DVC: what ``dvc add`` (``*.dvc`` files) and ``dvc repro`` (``dvc.lock``) recorded.

A ``.dvc`` file and each stage of ``dvc.lock`` list ``outs`` with ``path``, ``md5`` and
``size``; ``dvc.lock`` also records each stage's ``deps`` and the ``params`` it read, per
params file, with dotted names (``train.lr``). Paths are relative to the file's folder
(and the stage's ``wdir``). DVC 3 writes ``hash: md5`` next to a plain content md5; files
without it come from DVC 2, whose md5 of a text file was taken with CRLF turned into LF.
"""

from __future__ import annotations

import json
import os
from dataclasses import field
from typing import Any

from modelgate import confine
from modelgate.datamodel.records import record
from modelgate.errors import UsageError
from modelgate.interop import Imported, flatten, parse_yaml, read_yaml, unflatten
from modelgate.pipeline.discovery import relpath

LOCK = "dvc.lock"
# Dependencies that are code, not data: the code is pinned by lineage.code.commit.
_CODE = frozenset({".py", ".ipynb", ".sh", ".r", ".jl", ".scala", ".java", ".go", ".rs", ".js", ".ts", ".sql"})


@record
class Out:
    """One path DVC recorded, resolved to an absolute path."""

    path: str
    md5: str | None
    size: int | None
    legacy: bool  # DVC 2: no ``hash: md5``; text files were hashed with CRLF as LF

    @property
    def is_dir(self) -> bool:
        return bool(self.md5 and self.md5.endswith(".dir"))


@record
class Stage:
    name: str
    deps: tuple[Out, ...]
    outs: tuple[Out, ...]
    params: dict[str, Any] = field(default_factory=dict)  # flattened, across params files


@record
class Record:
    """Where DVC says something about an artifact: the file (and stage) that says it."""

    source: str  # repo-relative file, with ``:stage`` for dvc.lock
    out: Out
    stage: Stage | None = None
    within: bool = False  # the out is a folder that holds the file, not the file itself


def _outs(items: Any, folder: str, where: str) -> tuple[Out, ...]:
    if items is None:
        return ()
    if not isinstance(items, list):
        raise UsageError(f"{where}: expected a list of outs/deps")
    found = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("path"), str):
            raise UsageError(f"{where}: every out/dep needs a path")
        md5 = item.get("md5")
        size = item.get("size")
        found.append(
            Out(
                os.path.normpath(os.path.join(folder, item["path"])),
                md5 if isinstance(md5, str) else None,
                size if isinstance(size, int) and not isinstance(size, bool) else None,
                item.get("hash") != "md5",
            )
        )
    return tuple(found)


def read_lock(path: str, display: str) -> list[Stage]:
    """The stages of a ``dvc.lock`` (schema 2.0)."""
    data = read_yaml(path, display)
    if not isinstance(data, dict) or not isinstance(data.get("stages"), dict):
        raise UsageError(f"{display}: not a dvc.lock (schema 2.0 with `stages:`)")
    folder = os.path.dirname(os.path.abspath(path))
    stages = []
    for name, body in data["stages"].items():
        if not isinstance(body, dict):
            raise UsageError(f"{display}: stage {name!r} is not a mapping")
        base = os.path.join(folder, body["wdir"]) if isinstance(body.get("wdir"), str) else folder
        params: dict[str, Any] = {}
        files = body.get("params") or {}
        if not isinstance(files, dict):
            raise UsageError(f"{display}: stage {name!r}: params must map each params file to its values")
        for values in files.values():
            params.update(flatten(values) if isinstance(values, dict) else {})
        where = f"{display}: stage {name}"
        stages.append(
            Stage(str(name), _outs(body.get("deps"), base, where), _outs(body.get("outs"), base, where), params)
        )
    return stages


def read_dvcfile(path: str, display: str) -> tuple[Out, ...]:
    """The outs of a ``.dvc`` file written by ``dvc add``."""
    data = read_yaml(path, display)
    if not isinstance(data, dict):
        raise UsageError(f"{display}: not a .dvc file")
    folder = os.path.dirname(os.path.abspath(path))
    if isinstance(data.get("wdir"), str):
        folder = os.path.join(folder, data["wdir"])
    return _outs(data.get("outs"), folder, display)


def records(root: str, artifact: str, within: bool = False) -> list[Record]:
    """What every DVC file from the artifact's folder up to ``root`` records about it; with
    ``within``, also the outs that are folders holding it (``Record.within``): a file of a
    folder ``dvc add`` tracked. The file need not exist (a clone without ``dvc pull``).

    The DVC files are the change's: one that is a link out of the repository or into
    ``.git`` is an InputError naming it, and is not read.
    """
    found: list[Record] = []
    real = os.path.realpath(artifact)
    real_root = os.path.realpath(root)

    def matching(outs: tuple[Out, ...], source: str, stage: Stage | None = None) -> list[Record]:
        kept = []
        for out in outs:
            where = os.path.realpath(out.path)
            if where == real:
                kept.append(Record(source, out, stage))
            elif within and real.startswith(where.rstrip(os.sep) + os.sep):
                kept.append(Record(source, out, stage, within=True))
        return kept

    tracked = [artifact]
    folder = os.path.dirname(artifact)
    while within and os.path.realpath(folder) != real_root and os.path.dirname(folder) != folder:
        tracked.append(folder)  # `dvc add data/` writes data.dvc beside the folder
        folder = os.path.dirname(folder)
    for path in tracked:
        dvcfile = path + ".dvc"
        if os.path.lexists(dvcfile):
            shown = relpath(root, dvcfile)
            confine.locate(root, dvcfile, shown, real_root)
            found += matching(read_dvcfile(dvcfile, shown), shown)
    folder = os.path.dirname(artifact)
    while True:
        lock = os.path.join(folder, LOCK)
        if os.path.lexists(lock):
            shown = relpath(root, lock)
            confine.locate(root, lock, shown, real_root)
            for stage in read_lock(lock, shown):
                found += matching(stage.outs, f"{shown}:{stage.name}", stage)
        if os.path.realpath(folder) == real_root or os.path.dirname(folder) == folder:
            return found
        folder = os.path.dirname(folder)


def import_lock(path: str, artifacts: list[str], manifest_dir: str, root: str) -> Imported:
    """Params, data and metrics of the stage(s) that produced ``artifacts``.

    A dvc.lock whose stages output none of the artifacts contributes every stage (a
    single-stage pipeline that outputs a folder, say).
    """
    display = relpath(root, path) if os.path.isabs(path) else path
    stages = read_lock(path, display)
    wanted = {os.path.realpath(a) for a in artifacts}
    producing = [s for s in stages if wanted & {os.path.realpath(o.path) for o in s.outs}] or stages
    imported = Imported(source=display)
    params: dict[str, Any] = {}
    for stage in producing:
        params.update(stage.params)
        for dep in stage.deps:
            if os.path.splitext(dep.path)[1].lower() in _CODE or dep.path in {o.path for s in stages for o in s.outs}:
                continue
            entry: dict[str, Any] = {"name": os.path.basename(dep.path), "uri": _uri(dep.path, manifest_dir)}
            if dep.md5 and not dep.is_dir and not dep.legacy:
                # DVC's md5 of the file: `check` verifies the file by it even where it is not
                # pulled; `init` adds the sha256 when the file is here.
                entry["md5"] = dep.md5
                if dep.size is not None:
                    entry["size"] = dep.size
            elif dep.md5:
                # A folder's md5 (of DVC's listing, which only DVC's cache holds), or DVC 2's
                # md5 (of text with CRLF read as LF): a pin, not something to hash again.
                entry["revision"] = f"md5:{dep.md5}"
            if entry["uri"] not in {d["uri"] for d in imported.data}:
                imported.data.append(entry)
    imported.params = unflatten(params) if params else None
    imported.metrics = _metrics(os.path.join(os.path.dirname(path), "dvc.yaml"), {s.name for s in producing}, root)
    return imported


def _uri(path: str, manifest_dir: str) -> str:
    return os.path.relpath(path, manifest_dir).replace(os.sep, "/")


def _metrics(dvc_yaml: str, stage_names: set[str], root: str) -> dict[str, Any]:
    """Numeric values of the metrics files the stages declare in dvc.yaml (JSON or YAML).
    A file dvc.yaml names outside the repository or under ``.git`` is refused, not read."""
    if not os.path.isfile(dvc_yaml):
        return {}
    data = parse_yaml(confine.read(root, dvc_yaml, relpath(root, dvc_yaml)), relpath(root, dvc_yaml))
    metrics: dict[str, Any] = {}
    stages = data.get("stages") if isinstance(data, dict) else None
    for name, body in (stages or {}).items():
        if name not in stage_names or not isinstance(body, dict):
            continue
        for item in body.get("metrics") or ():
            file = next(iter(item)) if isinstance(item, dict) and item else item
            if not isinstance(file, str):
                continue
            full = os.path.join(os.path.dirname(dvc_yaml), file)
            if not os.path.isfile(full) or os.path.getsize(full) > 1 << 20:
                continue
            raw = confine.read(root, full, relpath(root, full))
            try:
                values = json.loads(raw) if full.endswith(".json") else parse_yaml(raw, relpath(root, full))
            except (ValueError, RecursionError):
                continue
            for key, value in flatten(values).items():
                if isinstance(value, int | float) and not isinstance(value, bool):
                    metrics[key] = float(value)
    return metrics
