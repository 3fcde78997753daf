"""CycloneDX 1.6 ML-BOM: one ``machine-learning-model`` component per model version.

Each model component carries its artifacts' SHA-256 (on the component when it has one
artifact, and on a nested ``file`` component per artifact), its license, and a
``modelCard``: the training datasets (with their sha256 or revision), the signature as
inputs and outputs, the metrics as performance metrics, and the manifest's ``card``: its
model type as the architecture family, intended use as a use case, limitations as a
technical limitation, and changelog as a ``modelgate:card:changelog`` property. Stage, owners, code commit,
params, tags and ``review_by`` become ``modelgate:*`` properties. The BOM is reproducible: the serial
number is derived from the content, and ``SOURCE_DATE_EPOCH`` fixes the timestamp.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from modelgate import __version__
from modelgate.datamodel import licenses
from modelgate.interop import flatten
from modelgate.registry.resolve import Resolved

SPEC_VERSION = "1.6"


def _license(text: str) -> dict[str, Any]:
    """An SPDX expression as CycloneDX's ``expression``; anything else (``proprietary``, or
    text that is not a valid expression, which a valid manifest cannot hold) as a named
    licence, so the BOM never carries an invalid expression."""
    if text == licenses.PROPRIETARY or not licenses.is_valid(text):
        return {"license": {"name": text}}
    return {"expression": text}


def _properties(entry: Resolved) -> list[dict[str, str]]:
    model = entry.model
    props = [("modelgate:stage", model.stage), ("modelgate:manifest", entry.manifest_relpath)]
    props += [("modelgate:owner", owner) for owner in model.owners]
    props += [("modelgate:alias", alias) for alias in model.aliases]
    if model.review_by is not None:
        props.append(("modelgate:review_by", model.review_by.isoformat()))
    lineage = model.lineage
    if lineage is not None:
        if lineage.code is not None:
            props.append(("modelgate:lineage:code:commit", lineage.code.commit))
        if lineage.parent:
            props.append(("modelgate:lineage:parent", lineage.parent))
        if lineage.run is not None:
            props.append((f"modelgate:lineage:run:{lineage.run.tracker}", lineage.run.id))
        for key, value in flatten(lineage.params or {}).items():
            props.append((f"modelgate:param:{key}", value if isinstance(value, str) else json.dumps(value)))
    props += [(f"modelgate:tag:{k}", v) for k, v in model.tags.items()]
    return [{"name": name, "value": value} for name, value in props]


def _model_card(entry: Resolved) -> dict[str, Any]:
    model = entry.model
    parameters: dict[str, Any] = {}
    datasets = []
    for data in model.lineage.data if model.lineage else ():
        pins = [{"name": "sha256", "value": data.sha256}] if data.sha256 else []
        pins += [{"name": "revision", "value": data.revision}] if data.revision else []
        contents: dict[str, Any] = {"url": data.uri}
        if pins:
            contents["properties"] = pins
        datasets.append({"type": "dataset", "name": data.name, "contents": contents})
    if datasets:
        parameters["datasets"] = datasets
    if model.signature is not None:
        for side in ("inputs", "outputs"):
            fields = getattr(model.signature, side)
            if fields:
                parameters[side] = [
                    {"format": f"{f.name}: {f.type}" + (f" {f.shape}" if f.shape else "")} for f in fields
                ]
    written = model.card
    if written is not None and written.model_type:
        parameters["architectureFamily"] = written.model_type
    card: dict[str, Any] = {"bom-ref": f"{model.ref}#model-card"}
    if parameters:
        card["modelParameters"] = parameters
    metrics = []
    for name, metric in model.metrics.items():
        item = {"type": name, "value": repr(metric.value)}
        if metric.dataset:
            item["slice"] = metric.dataset
        metrics.append(item)
    if metrics:
        card["quantitativeAnalysis"] = {"performanceMetrics": metrics}
    if written is not None:
        considerations = {}
        if written.intended_use:
            considerations["useCases"] = [written.intended_use]
        if written.limitations:
            considerations["technicalLimitations"] = [written.limitations]
        if considerations:
            card["considerations"] = considerations
        if written.changelog:
            card["properties"] = [{"name": "modelgate:card:changelog", "value": written.changelog}]
    return card


def component(entry: Resolved) -> dict[str, Any]:
    model = entry.model
    files = [
        {
            "type": "file",
            "bom-ref": f"{model.ref}#{a.relpath}",
            "name": a.relpath,
            "hashes": [{"alg": "SHA-256", "content": a.sha256}],
            "properties": [{"name": "modelgate:size", "value": str(a.size)}],
        }
        for a in entry.artifacts
    ]
    result: dict[str, Any] = {
        "type": "machine-learning-model",
        "bom-ref": model.ref,
        "name": model.name,
        "version": model.version,
    }
    if model.description:
        result["description"] = model.description
    if len(entry.artifacts) == 1:
        result["hashes"] = [{"alg": "SHA-256", "content": entry.artifacts[0].sha256}]
    if model.license:
        result["licenses"] = [_license(model.license)]
    code = model.lineage.code if model.lineage else None
    if code is not None and code.repo and code.repo.startswith(("https://", "http://")):
        result["externalReferences"] = [{"type": "vcs", "url": code.repo}]
    result["modelCard"] = _model_card(entry)
    result["properties"] = _properties(entry)
    result["components"] = files
    return result


def bom(entries: Iterable[Resolved], env: Mapping[str, str] | None = None) -> dict[str, Any]:
    env = os.environ if env is None else env
    components = [component(e) for e in entries]
    digest = hashlib.sha256(json.dumps(components, sort_keys=True).encode()).hexdigest()
    epoch = env.get("SOURCE_DATE_EPOCH", "")
    when = dt.datetime.fromtimestamp(int(epoch), dt.UTC) if epoch.isdigit() else dt.datetime.now(dt.UTC)
    return {
        "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "serialNumber": uuid.uuid5(uuid.NAMESPACE_URL, f"modelgate:bom:{digest}").urn,
        "version": 1,
        "metadata": {
            "timestamp": when.replace(microsecond=0).isoformat().replace("+00:00", "Z"),
            "tools": {"components": [{"type": "application", "name": "modelgate", "version": __version__}]},
        },
        "components": components,
    }


def render(entries: Iterable[Resolved], env: Mapping[str, str] | None = None) -> str:
    return json.dumps(bom(entries, env), indent=2, ensure_ascii=False) + "\n"
