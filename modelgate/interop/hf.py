"""Hugging Face model cards: the YAML front matter of a ``README.md``.

The Hub's card metadata gives ``license`` (lowercase ids such as ``apache-2.0``),
``datasets``, ``base_model``, ``pipeline_tag`` and ``model-index``: per result a ``task``,
a ``dataset`` (``name``, ``type``, ``split``, ``revision``) and ``metrics`` (``type``,
``value``, ``name``).
"""

from __future__ import annotations

import os
from typing import Any

from modelgate.datamodel import licenses
from modelgate.errors import UsageError
from modelgate.interop import Imported, mapping, parse_yaml

# The Hub's licence ids (huggingface.co/docs/hub/repositories-licenses) that are not an
# SPDX id in another case: deprecated SPDX spellings (which meant "-only") and short names.
SPDX = {
    "gpl-2.0": "GPL-2.0-only",
    "gpl-3.0": "GPL-3.0-only",
    "lgpl-2.1": "LGPL-2.1-only",
    "lgpl-3.0": "LGPL-3.0-only",
    "agpl-3.0": "AGPL-3.0-only",
    "c-uda": "C-UDA-1.0",
    "odc-by": "ODC-By-1.0",
    "odbl": "ODbL-1.0",
    "pddl": "PDDL-1.0",
}
# Which way is better, for the metric types model cards use most.
MAXIMIZE = frozenset(
    {
        "accuracy",
        "f1",
        "precision",
        "recall",
        "auc",
        "roc_auc",
        "bleu",
        "rouge",
        "rouge1",
        "rouge2",
        "rougel",
        "exact_match",
        "matthews_correlation",
        "map",
        "ndcg",
        "spearmanr",
        "pearsonr",
        "sacrebleu",
        "chrf",
        "meteor",
        "squad",
    }
)
MINIMIZE = frozenset({"loss", "wer", "cer", "perplexity", "mae", "mse", "rmse", "log_loss", "ter"})


def front_matter(raw: bytes, display: str) -> dict[str, Any]:
    text = raw.decode("utf-8-sig", "replace")
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise UsageError(f"{display}: no YAML front matter (a model card starts with a `---` line)")
    for index, line in enumerate(lines[1:], start=1):
        if line.strip() == "---":
            data = parse_yaml("".join(lines[1:index]).encode(), display) if index > 1 else None
            if not isinstance(data, dict):
                raise UsageError(f"{display}: the front matter is not a YAML mapping")
            return data
    raise UsageError(f"{display}: the front matter has no closing `---` line")


def import_card(path: str) -> Imported:
    if not os.path.isfile(path) or os.path.getsize(path) > 1 << 20:
        raise UsageError(f"{path}: not a model card file (README.md, at most 1 MiB)")
    with open(path, "rb") as stream:
        card = front_matter(stream.read(), path)
    imported = Imported(source=path)
    license_id = card.get("license")
    if isinstance(license_id, str):
        name = card.get("license_name")
        imported.license = spdx_license(license_id, name if isinstance(name, str) else None)
    for key in ("base_model", "pipeline_tag", "library_name"):
        value = card.get(key)
        if isinstance(value, list):
            value = ",".join(str(v) for v in value)
        if isinstance(value, str) and value:
            imported.tags[key] = value
    datasets = card.get("datasets")
    for name in datasets if isinstance(datasets, list) else [datasets] if isinstance(datasets, str) else []:
        if isinstance(name, str):
            imported.data.append({"name": name, "uri": f"hf://datasets/{name}"})
    index = card.get("model-index")
    for model in index if isinstance(index, list) else ():
        if not isinstance(model, dict):
            continue
        for result in model.get("results") or ():
            _result(result, imported)
    return imported


def spdx_license(hub_id: str, license_name: str | None = None) -> str | None:
    """The Hub's ``license`` as an SPDX id or ``LicenseRef-``: ``apache-2.0`` -> ``Apache-2.0``,
    ``llama2`` -> ``LicenseRef-llama2``, ``other`` with ``license_name: acme`` ->
    ``LicenseRef-acme``; None for ``unknown`` (then the manifest has no licence to claim)."""
    key = hub_id.strip().lower()
    if key in ("", "unknown"):
        return None
    if key == "other":
        return licenses.license_ref(license_name or "other")
    if key in SPDX:
        return SPDX[key]
    # Only an id the SPDX list spells the same way, in any case: a family such as "gpl" or
    # "bsd" names no one licence and becomes a LicenseRef, never a guessed id.
    return licenses.spdx_id(key) or licenses.license_ref(key)


def _result(result: Any, imported: Imported) -> None:
    if not isinstance(result, dict):
        return
    dataset = mapping(result.get("dataset"))
    dataset_id = dataset.get("type") or dataset.get("name")
    label = str(dataset.get("name") or dataset_id or "")
    if dataset.get("split"):
        label = f"{label}/{dataset['split']}" if label else str(dataset["split"])
    if isinstance(dataset_id, str) and dataset.get("revision"):
        for entry in imported.data:
            if entry["name"] == dataset_id:
                entry["revision"] = str(dataset["revision"])
                break
        else:
            imported.data.append(
                {"name": dataset_id, "uri": f"hf://datasets/{dataset_id}", "revision": str(dataset["revision"])}
            )
    for metric in result.get("metrics") or ():
        if not isinstance(metric, dict) or isinstance(metric.get("value"), bool):
            continue
        value = metric.get("value")
        if not isinstance(value, int | float):
            continue
        kind = str(metric.get("type") or metric.get("name") or "metric")
        key = kind if kind not in imported.metrics else f"{kind}/{label}"
        item: dict[str, Any] = {"value": float(value)}
        goal = "maximize" if kind.lower() in MAXIMIZE else "minimize" if kind.lower() in MINIMIZE else None
        if goal:
            item["goal"] = goal
        if label:
            item["dataset"] = label
        imported.metrics[key] = item
