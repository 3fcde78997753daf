"""ACME's governance rules, as a modelgate plugin package.

Checks are found by their ``@modelgate.check`` decorator; the two hooks add a report of
ACME's own (``--acme-report FILE``: one line per failed result).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from typing import Any, TextIO

import modelgate

__version__ = "0.3.0"


@modelgate.check("ACME001", name="model-card-linked", stages=["staging", "production"])
def model_card_linked(manifest: Any) -> None:
    """A model card is linked from the manifest's ``tags.model_card``."""
    assert "model_card" in manifest.tags, "link the model card in tags.model_card"


@modelgate.check("ACME002", name="pickle-banned", stages=["production"], hint="export the model as safetensors or ONNX")
def pickle_banned(manifest: Any) -> Iterator[modelgate.Fail]:
    """No pickle artifacts in production: unpickling runs arbitrary code."""
    for index, artifact in enumerate(manifest.artifacts):
        if artifact.path.endswith((".pkl", ".pickle")):
            yield modelgate.Fail(f"{artifact.path} is a pickle", at=f"artifacts[{index}].path")


@modelgate.check("ACME003", name="fairness-metric", needs_rule=True)
def fairness_metric(manifest: Any, params: dict[str, Any]) -> str:
    """Credit models report a fairness metric, within the policy's bound."""
    if not manifest.name.startswith("credit-"):
        raise modelgate.Skip("not a credit model")
    metric = params.get("metric", "demographic_parity_gap")
    bound = params["max"]
    assert metric in manifest.metrics, f"credit models must report metrics.{metric}"
    gap = manifest.metrics[metric].value
    assert gap <= bound
    return f"{metric} = {gap}"


@modelgate.hookimpl
def modelgate_addoption(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--acme-report", metavar="FILE", help="write ACME's failure list to FILE")


@modelgate.hookimpl
def modelgate_reporters(request: Any) -> list[Any]:
    from modelgate import Reporter

    path = request.option("acme_report")
    return [Reporter("acme", _write, path)] if path else []


def _write(summary: Any, stream: TextIO) -> None:
    for result in summary.results:
        if result.outcome in ("failed", "error"):
            stream.write(f"{result.check} {result.manifest}:{result.location.line}\n")
