"""``--json FILE``: the machine-readable report, in the contract's shape."""

from __future__ import annotations

import argparse
import json
from typing import TextIO

from modelgate.datamodel.results import Summary
from modelgate.hookspecs import hookimpl
from modelgate.reporters import Reporter


def write(summary: Summary, stream: TextIO) -> None:
    json.dump(summary.to_json(), stream, indent=2, allow_nan=False, ensure_ascii=True)
    stream.write("\n")


@hookimpl
def modelgate_addoption(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", metavar="FILE", dest="json_report", help="write the JSON report to FILE")


@hookimpl
def modelgate_reporters(options: argparse.Namespace) -> list[Reporter]:
    return [Reporter("json", write, options.json_report)] if options.json_report else []
