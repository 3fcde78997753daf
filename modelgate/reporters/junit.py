"""``--junit-xml FILE``: one testsuite per manifest, one testcase per check result.

What CI tools read from JUnit means what it means to them: a ``<failure>`` is a result that
fails the run (a warning only with ``--strict``; otherwise its text is the testcase's
``<system-out>``, the case passes as the run does), a waived or skipped result is
``<skipped>`` with the reason, a crash is ``<error>``. Testcase names are unique within a
suite (two results of one check say what tells them apart: the rule, the line), and
``classname`` is the manifest's path dotted as pytest dots a module's
(``models/fraud/modelgate.yaml`` -> ``models.fraud.modelgate``), which junit2html and
GitHub's test reporters group by.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, TextIO

from modelgate.datamodel.results import Result, Summary, tell_apart
from modelgate.escaping import xml
from modelgate.hookspecs import hookimpl
from modelgate.reporters import Reporter, ReportRequest

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET


def classname(manifest: str) -> str:
    """A repository-relative path as a dotted name: folders are packages, the file name
    without ``.yaml`` the module; dots inside one name become ``_`` so they split nothing."""
    parts = [p for p in manifest.split("/") if p]
    if parts and parts[-1].endswith((".yaml", ".yml")):
        parts[-1] = parts[-1].rsplit(".", 1)[0]
    return ".".join(p.replace(".", "_") for p in parts) or "modelgate"


def _fails(result: Result, strict: bool) -> bool:
    return result.fails or (strict and result.is_warning)


def tree(summary: Summary) -> ET.Element:
    import xml.etree.ElementTree as ET  # here: a run without --junit-xml never needs it

    by_manifest: dict[str, list[Result]] = {}
    for result in summary.results:
        by_manifest.setdefault(result.manifest, []).append(result)
    strict = summary.strict
    root = ET.Element(
        "testsuites",
        {
            "name": "modelgate",
            "tests": str(len(summary.results)),
            "failures": str(sum(r.outcome == "failed" and _fails(r, strict) for r in summary.results)),
            "errors": str(summary.counts["error"]),
            "time": f"{summary.duration:.3f}",
        },
    )
    infos = {info.path: info for info in summary.manifests}
    for manifest, results in by_manifest.items():
        suite = ET.SubElement(
            root,
            "testsuite",
            {
                "name": xml(manifest),
                "tests": str(len(results)),
                "failures": str(sum(r.outcome == "failed" and _fails(r, strict) for r in results)),
                "errors": str(sum(r.outcome == "error" for r in results)),
                "skipped": str(sum(r.outcome in ("skipped", "waived") for r in results)),
                "time": "0",
                "file": xml(manifest),
            },
        )
        info = infos.get(manifest)
        if info is not None and info.name:
            properties = ET.SubElement(suite, "properties")
            for key, value in (
                ("model", f"{info.name}@{info.version}"),
                ("stage", info.stage),
                ("base_stage", info.base_stage),
            ):
                if value:
                    ET.SubElement(properties, "property", {"name": key, "value": xml(value)})
        dotted = xml(classname(manifest))
        for r, apart in zip(results, tell_apart(results), strict=True):
            case = ET.SubElement(
                suite,
                "testcase",
                {
                    "classname": dotted,
                    "name": xml(f"{r.check} {r.name}" + (f" [{apart}]" if apart else "")),
                    "time": "0",
                },
            )
            where = f"{r.location.path}:{r.location.line}:{r.location.column}"
            detail = xml(f"{where}: {r.message}" + (f"\nhint: {r.hint}" if r.hint else ""))
            if r.outcome == "failed" and _fails(r, strict):
                element = ET.SubElement(case, "failure", {"message": xml(r.message), "type": r.severity})
                element.text = detail
            elif r.outcome == "failed":  # a warning: reported, and the run passes
                ET.SubElement(case, "system-out").text = xml(
                    f"warning: {where}: {r.message}" + (f"\nhint: {r.hint}" if r.hint else "")
                )
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
    parser.add_argument(
        "--junit-xml",
        metavar="FILE",
        dest="junit_report",
        help="write a JUnit XML report to FILE (`-`: standard output)",
    )


@hookimpl
def modelgate_reporters(request: ReportRequest) -> list[Reporter]:
    return [Reporter("junitxml", write, request.option("junit_report"))] if request.option("junit_report") else []
