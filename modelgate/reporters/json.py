"""``--json FILE``: the machine-readable report, in the contract's shape."""

from __future__ import annotations

import argparse
import json
from typing import TextIO

from modelgate.datamodel.results import Summary
from modelgate.hookspecs import hookimpl
from modelgate.reporters import Reporter, ReportRequest


def write(summary: Summary, stream: TextIO) -> None:
    json.dump(summary.to_json(), stream, indent=2, allow_nan=False, ensure_ascii=True)
    stream.write("\n")


@hookimpl
def modelgate_addoption(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json", metavar="FILE", dest="json_report", help="write the JSON report to FILE (`-`: standard output)"
    )


@hookimpl
def modelgate_reporters(request: ReportRequest) -> list[Reporter]:
    return [Reporter("json", write, request.option("json_report"))] if request.option("json_report") else []
