"""``--sarif FILE``: SARIF 2.1.0 for GitHub code scanning and other viewers.

One run; ``tool.driver.rules`` describes every check that ran; each failure, error and
waived finding is a result located in its manifest, with a stable ``partialFingerprints``
(waived ones carry a suppression with the waiver's reason).
"""

from __future__ import annotations

import argparse
import hashlib
import json
from typing import Any, TextIO

from modelgate.datamodel.results import Result, Summary
from modelgate.escaping import strip_controls, uri_path
from modelgate.hookspecs import hookimpl
from modelgate.reporters import Reporter, ReportRequest

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFO_URI = "https://github.com/modelgate/modelgate"


def fingerprint(result: Result) -> str:
    """Stable across runs and line moves: what failed, where (file and model), and why."""
    key = "\0".join((result.check, result.manifest, result.model, result.message))
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def document(summary: Summary) -> dict[str, Any]:
    rules = [
        {
            "id": c.id,
            "name": c.name,
            "shortDescription": {"text": strip_controls(c.summary or c.name)},
            "fullDescription": {"text": strip_controls(c.explain or c.summary or c.name)},
            "help": {"text": strip_controls(c.hint or c.summary or c.name)},
            # The check's section in its docs: code scanning links it from every alert.
            **({"helpUri": c.help_uri} if c.help_uri else {}),
            "defaultConfiguration": {"level": c.severity},
            "properties": {"plugin": c.plugin},
        }
        for c in summary.checks
    ]
    index = {c.id: i for i, c in enumerate(summary.checks)}
    results = []
    for r in summary.results:
        if r.outcome not in ("failed", "error", "waived"):
            continue
        entry: dict[str, Any] = {
            "ruleId": r.check,
            "level": "warning" if r.severity == "warning" and r.outcome != "error" else "error",
            "message": {"text": strip_controls(r.message + (f" (hint: {r.hint})" if r.hint else ""))},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": uri_path(r.location.path), "uriBaseId": "%SRCROOT%"},
                        "region": {"startLine": max(1, r.location.line), "startColumn": max(1, r.location.column)},
                    }
                }
            ],
            "partialFingerprints": {"modelgate/v1": fingerprint(r)},
            "properties": {"model": strip_controls(r.model), "outcome": r.outcome},
        }
        if r.check in index:
            entry["ruleIndex"] = index[r.check]
        if r.waiver is not None:
            entry["suppressions"] = [
                {
                    "kind": "external",
                    "justification": strip_controls(
                        f"{r.waiver.reason} (owner {r.waiver.owner}, until {r.waiver.expires})"
                    ),
                }
            ]
        results.append(entry)
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "modelgate",
                        "version": summary.tool_version,
                        "informationUri": INFO_URI,
                        "rules": rules,
                    }
                },
                "results": results,
                "invocations": [{"executionSuccessful": True, "exitCode": summary.exit_code}],
            }
        ],
    }


def write(summary: Summary, stream: TextIO) -> None:
    json.dump(document(summary), stream, indent=2, allow_nan=False, ensure_ascii=True)
    stream.write("\n")


@hookimpl
def modelgate_addoption(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sarif", metavar="FILE", dest="sarif_report", help="write a SARIF 2.1.0 report to FILE (`-`: standard output)"
    )


@hookimpl
def modelgate_reporters(request: ReportRequest) -> list[Reporter]:
    return [Reporter("sarif", write, request.option("sarif_report"))] if request.option("sarif_report") else []
