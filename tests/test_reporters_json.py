"""The JSON report: the contract's shape, exactly."""

from __future__ import annotations

import io
import json

from modelgate.datamodel.results import GitInfo, Location, ManifestInfo, PolicyInfo, Result, Summary
from modelgate.reporters.json import write


def test_exact_contract_shape() -> None:
    summary = Summary(
        tool_version="0.1.0",
        results=(Result("MG102", "artifact-hash", "failed", "error", "m/modelgate.yaml", "fraud@1.0.0",
                        "bad", Location("m/modelgate.yaml", 12, 5)),),
        manifests=(ManifestInfo("m/modelgate.yaml", "fraud", "1.0.0", "staging", None, "ab" * 32),),
        policies=(PolicyInfo("builtin:default", "cd" * 32, "builtin"),),
        git=GitInfo(head="1" * 40),
    )
    stream = io.StringIO()
    write(summary, stream)
    assert json.loads(stream.getvalue()) == {
        "tool": {"name": "modelgate", "version": "0.1.0"},
        "verdict": "fail",
        "exit_code": 1,
        "summary": {"passed": 0, "failed": 1, "waived": 0, "skipped": 0, "error": 0},
        "git": {"head": "1" * 40, "base": None, "merge_base": None},
        "policies": [{"path": "builtin:default", "sha256": "cd" * 32, "source": "builtin"}],
        "manifests": [{"path": "m/modelgate.yaml", "name": "fraud", "version": "1.0.0",
                       "stage": "staging", "base_stage": None, "sha256": "ab" * 32}],
        "results": [{"check": "MG102", "name": "artifact-hash", "outcome": "failed", "severity": "error",
                     "manifest": "m/modelgate.yaml", "model": "fraud@1.0.0", "message": "bad",
                     "location": {"path": "m/modelgate.yaml", "line": 12, "column": 5}, "waiver": None}],
    }
    assert stream.getvalue().endswith("}\n")


def test_strings_are_ascii_escaped() -> None:
    summary = Summary("0.1.0", (Result("MG001", "manifest-valid", "failed", "error", "m", "m",
                                       "caf\u00e9 \u202e", Location("m", 1, 1)),), (), ())
    stream = io.StringIO()
    write(summary, stream)
    assert stream.getvalue().isascii()
    assert json.loads(stream.getvalue())["results"][0]["message"] == "caf\u00e9 \u202e"
