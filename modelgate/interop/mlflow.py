"""MLflow: an ``MLmodel`` file and, where it can be found, the run that logged it.

``MLmodel`` (YAML) holds ``run_id``, ``flavors`` (with the Python and framework
versions) and ``signature``, whose ``inputs``/``outputs`` are JSON strings: a column
schema ``[{"type": "double", "name": "amount"}]`` or tensors ``[{"type": "tensor",
"tensor-spec": {"dtype": "float32", "shape": [-1, 4]}}]``. A run folder of a file store
(``mlruns/<experiment>/<run_id>/``) has ``meta.yaml``, ``params/<name>`` (text),
``metrics/<name>`` (lines of ``timestamp value step``) and ``tags/<name>``. MLflow 3 keeps
logged models beside the runs (``mlruns/<experiment>/models/<model_id>/artifacts/MLmodel``),
MLflow 2 inside them (``<run_id>/artifacts/<name>/MLmodel``).
"""

from __future__ import annotations

import json
import os
from typing import Any

from modelgate.datamodel.records import record
from modelgate.errors import UsageError
from modelgate.interop import Imported, mapping, read_yaml, scalar

MLMODEL = "MLmodel"
# MLflow's column types -> the manifest's (numpy-style) names.
TYPES = {
    "double": "float64",
    "float": "float32",
    "long": "int64",
    "integer": "int32",
    "boolean": "bool",
    "string": "string",
    "binary": "bytes",
    "datetime": "datetime",
}
_LIMIT = 1 << 20


@record
class MLmodel:
    path: str
    run_id: str | None
    signature: dict[str, Any] | None  # in the manifest's shape: {inputs: [...], outputs: [...]}
    python: str | None
    framework: dict[str, str] | None


def read_mlmodel(path: str, display: str | None = None) -> MLmodel:
    shown = display or path
    data = read_yaml(path, shown)
    if not isinstance(data, dict) or not isinstance(data.get("flavors"), dict):
        raise UsageError(f"{shown}: not an MLflow MLmodel file (no `flavors:` mapping)")
    # What the mlflow-model check compares must have MLflow's shape: a run id of another
    # type, or a signature that is not a mapping, would otherwise be read as "none".
    for key, kind, what in (("run_id", str, "a string"), ("signature", dict, "a mapping")):
        if data.get(key) is not None and not isinstance(data[key], kind):
            raise UsageError(f"{shown}: {key} must be {what}, not {type(data[key]).__name__}")
    flavors = mapping(data.get("flavors"))
    pyfunc = mapping(flavors.get("python_function"))
    python = pyfunc.get("python_version")
    framework = None
    for name, flavor in flavors.items():
        if name == "python_function" or not isinstance(flavor, dict):
            continue
        versions = [v for k, v in flavor.items() if k.endswith("_version") and isinstance(v, str | int | float)]
        if versions:
            framework = {"name": str(name), "version": str(versions[0])}
            break
    run_id = data.get("run_id")
    return MLmodel(
        path,
        run_id if isinstance(run_id, str) else None,
        _signature(data.get("signature"), shown),
        str(python) if python is not None else None,
        framework,
    )


def _signature(raw: Any, display: str) -> dict[str, Any] | None:
    if not isinstance(raw, dict):
        return None
    signature: dict[str, Any] = {}
    for side in ("inputs", "outputs"):
        text = raw.get(side)
        if text is None:
            continue
        if not isinstance(text, str):
            raise UsageError(f"{display}: signature.{side} must be a JSON string, as MLflow writes it")
        try:
            specs = json.loads(text)
        except (ValueError, RecursionError):
            raise UsageError(f"{display}: signature.{side} is not valid JSON (or nested too deeply)") from None
        signature[side] = [
            _field(spec, index, side) for index, spec in enumerate(specs if isinstance(specs, list) else [])
        ]
    return signature or None


def _field(spec: Any, index: int, side: str) -> dict[str, Any]:
    if not isinstance(spec, dict):
        return {"name": f"{side[:-1]}_{index}", "type": "unknown"}
    name = str(spec.get("name") or f"{side[:-1]}_{index}")
    if spec.get("type") == "tensor":
        tensor = mapping(spec.get("tensor-spec"))
        field: dict[str, Any] = {"name": name, "type": str(tensor.get("dtype", "unknown"))}
        shape = tensor.get("shape")
        if isinstance(shape, list) and all(isinstance(d, int) for d in shape):
            field["shape"] = shape
        return field
    kind = spec.get("type")
    return {"name": name, "type": TYPES.get(str(kind), str(kind))}


def locate(path: str) -> tuple[str | None, str | None]:
    """(MLmodel file, run folder) for a path naming either, or a model folder."""
    path = os.path.abspath(path)
    if os.path.isfile(path):
        if os.path.basename(path) != MLMODEL:
            raise UsageError(f"{path}: --from-mlflow takes an MLmodel file, a model folder or a run folder")
        return path, _run_of(path)
    if os.path.isfile(os.path.join(path, MLMODEL)):
        mlmodel = os.path.join(path, MLMODEL)
        return mlmodel, _run_of(mlmodel)
    if os.path.isfile(os.path.join(path, "meta.yaml")) and os.path.isdir(os.path.join(path, "params")):
        return _model_of(path), path
    raise UsageError(f"{path}: no MLmodel file and not an MLflow run folder (meta.yaml, params/)")


def _run_of(mlmodel: str) -> str | None:
    """The run folder that logged this model, when it sits in a file store."""
    model = read_mlmodel(mlmodel)
    if model.run_id is None:
        return None
    folder = os.path.dirname(mlmodel)
    for up in (2, 3):  # <run>/artifacts/<name>/MLmodel; <exp>/models/<id>/artifacts/MLmodel
        candidate = folder
        for _ in range(up):
            candidate = os.path.dirname(candidate)
        run = os.path.join(candidate, model.run_id) if up == 3 else candidate
        if os.path.basename(run) == model.run_id and os.path.isfile(os.path.join(run, "meta.yaml")):
            return run
    return None


def _model_of(run: str) -> str | None:
    found = []
    outputs = os.path.join(run, "outputs")
    for model_id in sorted(os.listdir(outputs)) if os.path.isdir(outputs) else ():
        candidate = os.path.join(os.path.dirname(run), "models", model_id, "artifacts", MLMODEL)
        if os.path.isfile(candidate):
            found.append(candidate)
    artifacts = os.path.join(run, "artifacts")
    for dirpath, _dirs, files in sorted(os.walk(artifacts)):
        if MLMODEL in files:
            found.append(os.path.join(dirpath, MLMODEL))
    if len(found) > 1:
        raise UsageError(f"{run}: the run logged {len(found)} models; pass the MLmodel file of the one to import")
    return found[0] if found else None


def _small(path: str) -> str:
    with open(path, "rb") as stream:
        return stream.read(_LIMIT).decode("utf-8", "replace")


def import_mlflow(path: str) -> Imported:
    mlmodel, run = locate(path)
    imported = Imported(source=path)
    if mlmodel is not None:
        model = read_mlmodel(mlmodel)
        imported.signature = model.signature
        if model.run_id:
            imported.run = {"tracker": "mlflow", "id": model.run_id}
        environment: dict[str, Any] = {}
        if model.python:
            environment["python"] = model.python
        if model.framework:
            environment["framework"] = model.framework
        imported.environment = environment or None
    if run is not None:
        meta = read_yaml(os.path.join(run, "meta.yaml"))
        run_id = meta.get("run_id") if isinstance(meta, dict) else None
        if isinstance(run_id, str):
            imported.run = {"tracker": "mlflow", "id": run_id}
        params = _folder(os.path.join(run, "params"))
        imported.params = {k: scalar(v) for k, v in params.items()} or None
        for name, text in _folder(os.path.join(run, "metrics")).items():
            lines = [line.split() for line in text.splitlines() if line.strip()]
            if lines and len(lines[-1]) >= 2:
                value = scalar(lines[-1][1])
                if isinstance(value, int | float) and not isinstance(value, bool):
                    imported.metrics[name] = float(value)
        tags = _folder(os.path.join(run, "tags"))
        commit = tags.get("mlflow.source.git.commit", "").strip()
        if len(commit) == 40:
            imported.commit = commit
    return imported


def _folder(folder: str) -> dict[str, str]:
    """name -> text of each file in a run's params/, metrics/ or tags/ folder."""
    if not os.path.isdir(folder):
        return {}
    return {
        name: _small(os.path.join(folder, name))
        for name in sorted(os.listdir(folder))
        if os.path.isfile(os.path.join(folder, name))
    }
