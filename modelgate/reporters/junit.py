"""``--junit-xml FILE``: one testsuite per manifest, one testcase per check result."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, TextIO

from modelgate.datamodel.results import Result, Summary
from modelgate.escaping import xml
from modelgate.hookspecs import hookimpl
from modelgate.reporters import Reporter, ReportRequest

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET


def tree(summary: Summary) -> ET.Element:
    import xml.etree.ElementTree as ET  # here: a run without --junit-xml never needs it

    by_manifest: dict[str, list[Result]] = {}
    for result in summary.results:
        by_manifest.setdefault(result.manifest, []).append(result)
    counts = summary.counts
    root = ET.Element("testsuites", {
        "name": "modelgate", "tests": str(len(summary.results)),
        "failures": str(counts["failed"]), "errors": str(counts["error"]), "time": f"{summary.duration:.3f}",
    })
    for manifest, results in by_manifest.items():
        suite = ET.SubElement(root, "testsuite", {
            "name": xml(manifest),
            "tests": str(len(results)),
            "failures": str(sum(r.outcome == "failed" for r in results)),
            "errors": str(sum(r.outcome == "error" for r in results)),
            "skipped": str(sum(r.outcome in ("skipped", "waived") for r in results)),
            "time": "0",
        })
        for r in results:
            case = ET.SubElement(suite, "testcase", {
                "classname": xml(manifest), "name": xml(f"{r.check} {r.name}"), "time": "0",
            })
            where = f"{r.location.path}:{r.location.line}:{r.location.column}"
            detail = xml(f"{where}: {r.message}" + (f"\nhint: {r.hint}" if r.hint else ""))
            if r.outcome == "failed":
                element = ET.SubElement(case, "failure", {"message": xml(r.message), "type": r.severity})
                element.text = detail
            elif r.outcome == "error":
                ET.SubElement(case, "error", {"message": xml(r.message), "type": "crash"}).text = detail
            elif r.outcome == "skipped":
                ET.SubElement(case, "skipped", {"message": xml(r.message)})
            elif r.outcome == "waived" and r.waiver is not None:
                reason = f"waived until {r.waiver.expires} by {r.waiver.owner}: {r.waiver.reason}"
                ET.SubElement(case, "skipped", {"message": xml(reason), "type": "waived"})
    return root


def write(summary: Summary, stream: TextIO) -> None:
    import xml.etree.ElementTree as ET

    element = tree(summary)
    ET.indent(element)
    stream.write('<?xml version="1.0" encoding="utf-8"?>\n')
    stream.write(ET.tostring(element, encoding="unicode"))
    stream.write("\n")


@hookimpl
def modelgate_addoption(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--junit-xml", metavar="FILE", dest="junit_report", help="write a JUnit XML report to FILE")


@hookimpl
def modelgate_reporters(request: ReportRequest) -> list[Reporter]:
    return [Reporter("junitxml", write, request.option("junit_report"))] if request.option("junit_report") else []
