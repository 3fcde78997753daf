"""``--audit FILE``: the audit record of a run, and ``modelgate audit verify``.

Who asked to promote what, under which policy (each file's sha256 and where it was read
from), against which commits, with which results and waivers, and the verdict. The record
carries ``record_sha256`` over its canonical JSON (sorted keys, compact, no NaN), so an
edited record no longer verifies. (Anyone can recompute the hash of a forged record: keep
records where the change's author cannot rewrite them, e.g. as CI artifacts.)
"""

from __future__ import annotations

import argparse
import hashlib
import json
from typing import Any, TextIO

from modelgate.datamodel.results import Summary
from modelgate.errors import InputError, Problem
from modelgate.escaping import code
from modelgate.escaping import markdown as md
from modelgate.hookspecs import hookimpl
from modelgate.reporters import Reporter, ReportRequest

KIND = "modelgate/audit-v1"
MAX_BYTES = 64 * 1024 * 1024  # a record of every result of a large registry, with room to spare


def canonical(record: dict[str, Any]) -> bytes:
    """Sorted keys, no whitespace, ASCII (file names may carry lone surrogates), no NaN."""
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode("ascii")


def record(summary: Summary) -> dict[str, Any]:
    report = summary.to_json()
    body: dict[str, Any] = {
        "kind": KIND,
        "tool": report["tool"],
        "time": summary.started_at,
        "ci": dict(summary.ci),
        "git": report["git"],
        "policies": report["policies"],
        "manifests": [
            {**m.to_json(), "transition": f"{m.base_stage or 'new'} -> {m.stage}"} for m in summary.manifests
        ],
        "results": report["results"],
        "waivers": [
            r["waiver"] | {"check": r["check"], "model": r["model"]}
            for r in report["results"]
            if r["waiver"] is not None
        ],
        "approvals": [vars(a).copy() for a in summary.approvals],
        "approvals_rejected": [vars(r).copy() for r in summary.rejected_approvals],
        "verdict": report["verdict"],
        "exit_code": report["exit_code"],
    }
    return {**body, "record_sha256": hashlib.sha256(canonical(body)).hexdigest()}


def write(summary: Summary, stream: TextIO) -> None:
    json.dump(record(summary), stream, indent=2, sort_keys=True, allow_nan=False, ensure_ascii=True)
    stream.write("\n")


def render_markdown(data: dict[str, Any]) -> str:
    """The audit record as a Markdown section (for the step summary)."""
    git = data.get("git", {})
    lines = [
        "### Audit record",
        "",
        f"- verdict: **{md(str(data.get('verdict')))}** at {md(str(data.get('time')))}",
        f"- head {_commit(git.get('head'))} · base {_commit(git.get('base'))}"
        f" · merge-base {_commit(git.get('merge_base'))}",
    ]
    ci = data.get("ci", {})
    if ci:
        lines.append("- " + " · ".join(f"{md(k)}={md(str(v))}" for k, v in sorted(ci.items())))
    for policy in data.get("policies", []):
        lines.append(f"- policy {code(policy['path'])} ({md(policy['source'])}) sha256 {code(policy['sha256'][:16])}…")
    for m in data.get("manifests", []):
        if m.get("name"):
            lines.append(f"- {code(str(m['name']) + '@' + str(m['version']))}: {md(str(m['transition']))}")
        else:  # an invalid manifest has no name@version, nor a stage: its path says which file it is
            lines.append(f"- {code(str(m.get('path')))}: not a valid manifest")
    for a in data.get("approvals", []):
        lines.append(
            f"- approved by {md(str(a['who']))} for {code(str(a['model']))} -> {md(str(a['stage']))}"
            f" ({md(str(a['provider']))}: {md(str(a['evidence']))}, {md(str(a['when']))})"
        )
    for r in data.get("approvals_rejected", []):
        lines.append(
            f"- approval rejected: {md(str(r['who']))} for {code(str(r['model']))} -> {md(str(r['stage']))}:"
            f" {md(str(r['reason']))} ({md(str(r['evidence']))})"
        )
    for w in data.get("waivers", []):
        lines.append(
            f"- waived {md(str(w['check']))} for {code(str(w['model']))} until {md(str(w['expires']))}"
            f" by {md(str(w['owner']))}: {md(str(w['reason']))} ({md(str(w['policy']))})"
        )
    lines.append(f"- record_sha256 {code(str(data.get('record_sha256')))}")
    return "\n".join(lines) + "\n"


def _commit(sha: object) -> str:
    return code(str(sha)) if sha else "none"


def verify(path: str) -> tuple[bool, str]:
    """(matches, message) for an audit record file; InputError if it is not one."""
    return verify_bytes(read(path), path)


def read(path: str) -> bytes:
    """An audit record file's bytes; InputError if it cannot be read."""
    try:
        with open(path, "rb") as stream:
            return stream.read(MAX_BYTES + 1)
    except OSError as exc:
        raise InputError([Problem(path, 1, 1, f"not a readable audit record: {exc.strerror}")]) from None


def verify_bytes(raw: bytes, path: str) -> tuple[bool, str]:
    """(matches, message) for an audit record's bytes (a signature after them, as a git
    note holds it, is left to :mod:`modelgate.reporters.audit_signature`); InputError if
    they are not a record."""
    from modelgate.reporters.audit_signature import split

    if len(raw) > MAX_BYTES:
        raise InputError([Problem(path, 1, 1, f"not a readable audit record: over {MAX_BYTES} bytes")])
    payload, _signature = split(raw)
    try:
        data = json.loads(payload.decode("utf-8"), parse_constant=_no_constants)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InputError([Problem(path, 1, 1, f"not a readable audit record: {exc}")]) from None
    except RecursionError:
        raise InputError([Problem(path, 1, 1, "not a readable audit record: nested too deeply")]) from None
    if not isinstance(data, dict) or data.get("kind") != KIND or "record_sha256" not in data:
        raise InputError([Problem(path, 1, 1, f"not a {KIND} record")])
    claimed = data.pop("record_sha256")
    actual = hashlib.sha256(canonical(data)).hexdigest()
    if actual == claimed:
        return True, f"{path}: audit record intact (record_sha256 {actual})"
    return False, f"{path}: audit record was modified: record_sha256 says {claimed}, content hashes to {actual}"


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid in an audit record")


@hookimpl
def modelgate_addoption(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--audit",
        metavar="FILE",
        dest="audit_report",
        help="write the audit record (JSON) to FILE (`-`: standard output)",
    )


@hookimpl
def modelgate_reporters(request: ReportRequest) -> list[Reporter]:
    return [Reporter("audit", write, request.option("audit_report"))] if request.option("audit_report") else []
