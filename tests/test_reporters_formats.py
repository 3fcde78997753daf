"""SARIF, JUnit, Markdown, GitHub annotations and the audit record, from a summary built
by hand; SARIF and JUnit validated against the official schemas."""

from __future__ import annotations

import dataclasses
import functools
import io
import json
from pathlib import Path

import cmarkgfm
import jsonschema
import pytest
import xmlschema
from cmarkgfm.cmark import Options

from modelgate.datamodel.results import (
    AppliedWaiver,
    CheckInfo,
    GitInfo,
    Location,
    ManifestInfo,
    MetricRow,
    PolicyInfo,
    Result,
    Summary,
)
from modelgate.reporters import audit, github, junit, markdown, sarif
from tests import test_reporters_terminal as terminal_samples
from tests.test_reporters_terminal import READINESS

SCHEMAS = Path(__file__).resolve().parent / "data"
M = "models/fraud/modelgate.yaml"


# The terminal tests' builder; these samples point at line 7 unless they say otherwise.
result = functools.partial(terminal_samples.result, line=7)


RIVAL = "fraud-detector@1.3.0 in production"
WAIVER = AppliedWaiver(
    "MG303", "fraud-detector", "1.4.0", "3x lower latency (RISK-118)", "2026-12-31", "ana@acme.io", "policy.yaml:12:5"
)
SUMMARY = Summary(
    tool_version="0.1.0",
    results=(
        result("MG001", "manifest-valid", "passed", "ok", line=1),
        result("MG102", "artifact-hash", "failed", "model.onnx: sha256 mismatch", line=12, hint="update sha256"),
        result("MG203", "lockfile-hash", "skipped", "no lockfile declared", line=1),
        result("MG303", "no-metric-regression", "waived", "auc regressed: 0.929 vs 0.931", waiver=WAIVER),
        result("MG601", "owners", "failed", "owner 'x' is not @user", severity="warning", line=5),
        result("ACME001", "model-card", "error", "check crashed in plugin 'acme': KeyError: 'x'", line=1),
    ),
    manifests=(
        ManifestInfo(
            M,
            "fraud-detector",
            "1.4.0",
            "production",
            "staging",
            "ab" * 32,
            (
                MetricRow(
                    "auc", 0.929, 0.931, "maximize", RIVAL, 0.0, "waived", "auc regressed: 0.929 vs 0.931", "MG303"
                ),
                MetricRow("latency_p95_ms", 12.5, 31.0, "minimize", RIVAL, 0.0, "passed"),
                MetricRow("f1", 0.88, None, None, RIVAL),
            ),
        ),
        ManifestInfo(
            "models/churn/modelgate.yaml",
            "churn",
            "2.0.0",
            "staging",
            None,
            "ef" * 32,
            (
                MetricRow(
                    "f1", 0.7, 0.8, "maximize", "churn@1.0.0 at the base", 0.01, "failed", "f1 regressed", "MG303"
                ),
            ),
            "churn@1.0.0",
        ),
    ),
    readiness=READINESS,
    policies=(PolicyInfo("builtin:default", "cd" * 32, "builtin"), PolicyInfo("policy.yaml", "ef" * 32, "base")),
    git=GitInfo("1" * 40, "2" * 40, "3" * 40),
    duration=0.5,
    notices=("policy-changed: policy.yaml differs from the base",),
    checks=tuple(
        CheckInfo(i, n, f"{n} summary", f"{n} explained", "a hint", "error", "builtin")
        for i, n in (
            ("MG001", "manifest-valid"),
            ("MG102", "artifact-hash"),
            ("MG203", "lockfile-hash"),
            ("MG303", "no-metric-regression"),
            ("MG601", "owners"),
            ("ACME001", "model-card"),
        )
    ),
    started_at="2026-11-22T12:00:00Z",
    ci=(("GITHUB_REPOSITORY", "acme/models"), ("GITHUB_RUN_ID", "42")),
)


def render(write: object, summary: Summary = SUMMARY) -> str:
    stream = io.StringIO()
    write(summary, stream)  # type: ignore[operator]
    return stream.getvalue()


def test_sarif_is_valid_and_complete() -> None:
    doc = json.loads(render(sarif.write))
    schema = json.loads((SCHEMAS / "sarif-schema-2.1.0.json").read_text())
    jsonschema.validate(doc, schema)
    run = doc["runs"][0]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == [c.id for c in SUMMARY.checks]
    assert [(r["ruleId"], r["level"]) for r in run["results"]] == [
        ("MG102", "error"),
        ("MG303", "error"),
        ("MG601", "warning"),
        ("ACME001", "error"),
    ]
    first = run["results"][0]
    assert first["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": M, "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 12, "startColumn": 3},
    }
    # A literal: code scanning tracks alerts by this value, so it must not drift between
    # releases (sha256 of check, manifest, model and message joined by NUL, 32 hex digits).
    assert first["partialFingerprints"] == {"modelgate/v1": "b9d1e3a3189ea06f0546839aee191f65"}
    assert run["results"][1]["properties"]["outcome"] == "waived"
    assert run["results"][1]["suppressions"][0]["justification"] == (
        "3x lower latency (RISK-118) (owner ana@acme.io, until 2026-12-31)"
    )
    again = json.loads(render(sarif.write))
    assert again == doc  # stable


def test_sarif_fingerprint_follows_the_finding_not_its_line() -> None:
    def printed(*results: Result) -> list[str]:
        doc = json.loads(render(sarif.write, dataclasses.replace(SUMMARY, results=results)))
        return [r["partialFingerprints"]["modelgate/v1"] for r in doc["runs"][0]["results"]]

    base = result("MG102", "artifact-hash", "failed", "model.onnx: sha256 mismatch", line=12)
    moved = result("MG102", "artifact-hash", "failed", "model.onnx: sha256 mismatch", line=40)
    others = [
        result("MG103", "artifact-hash", "failed", "model.onnx: sha256 mismatch", line=12),
        result("MG102", "artifact-hash", "failed", "weights.bin: sha256 mismatch", line=12),
        Result(
            "MG102",
            "artifact-hash",
            "failed",
            "error",
            "models/other/modelgate.yaml",
            "fraud-detector@1.4.0",
            "model.onnx: sha256 mismatch",
            Location("models/other/modelgate.yaml", 12, 3),
            None,
            None,
        ),
        Result(
            "MG102",
            "artifact-hash",
            "failed",
            "error",
            M,
            "fraud-detector@1.5.0",
            "model.onnx: sha256 mismatch",
            Location(M, 12, 3),
            None,
            None,
        ),
    ]
    prints = printed(base, moved, *others)
    assert prints[0] == prints[1]  # a line move keeps the alert
    assert len(set(prints[1:])) == 5  # check, message, file and model each tell findings apart


def test_junit_is_valid_against_the_xsd() -> None:
    text = render(junit.write)
    schema = xmlschema.XMLSchema(str(SCHEMAS / "junit-10.xsd"))
    schema.validate(text)
    assert '<testsuite name="models/fraud/modelgate.yaml" tests="6" failures="1" errors="1" skipped="2"' in text
    assert '<failure message="model.onnx: sha256 mismatch" type="error">' in text
    reason = "waived until 2026-12-31 by ana@acme.io: 3x lower latency (RISK-118)"
    assert f'<skipped message="{reason}" type="waived" />' in text


def test_junit_strips_characters_xml_cannot_carry() -> None:
    evil = Summary("0.1.0", (result("MG001", "manifest-valid", "failed", "a\x00b\x1bc\ufffe]]><x/>"),), (), ())
    text = render(junit.write, evil)
    xmlschema.XMLSchema(str(SCHEMAS / "junit-10.xsd")).validate(text)
    assert 'message="abc]]&gt;&lt;x/&gt;"' in text


def test_markdown_exact() -> None:
    assert (
        render(markdown.write)
        == """\
## modelgate: ❌ fail

1 passed, 2 failed, 1 waived, 1 skipped, 1 error · base `222222222222` · 2 manifest(s)

| model | version | stage | result |
|---|---|---|---|
| `fraud-detector` | `1.4.0` | staging → production | ❌ 3 failed |
| `churn` | `2.0.0` | staging (edited in place of `churn@1.0.0`) | ✅ passed |

### Metrics: each version against the one it is judged against

| model | metric | against | there | here | Δ | goal | tolerance | |
|---|---|---|---|---|---|---|---|---|
| `fraud-detector@1.4.0` | auc | `fraud-detector@1.3.0` in production | 0.931 | 0.929 | -0.002 ↓ |\
 maximize | 0 | ⚠️ waived (MG303): auc regressed: 0\\.929 vs 0\\.931 |
| `fraud-detector@1.4.0` | latency\\_p95\\_ms | `fraud-detector@1.3.0` in production | 31 | 12.5 | -18.5\
 ↓ | minimize | 0 | ✅ 🟢 better |
| `fraud-detector@1.4.0` | f1 | `fraud-detector@1.3.0` in production | — | 0.88 |   |  |  |  |
| `churn@2.0.0` | f1 | `churn@1.0.0` at the base | 0.8 | 0.7 | -0.1 ↓ | maximize | 0.01 | ❌ **fails\
 MG303**: f1 regressed |

### Failures

- **MG102 artifact\\-hash** · `fraud-detector@1.4.0` · `models/fraud/modelgate.yaml:12:3`\\
  model\\.onnx: sha256 mismatch\\
  _hint:_ update sha256
- **MG601 owners** (warning) · `fraud-detector@1.4.0` · `models/fraud/modelgate.yaml:5:3`\\
  owner 'x' is not `@user`
- **ACME001 model\\-card** (crashed) · `fraud-detector@1.4.0` · `models/fraud/modelgate.yaml:1:3`\\
  check crashed in plugin 'acme': KeyError: 'x'

### Waived

- **MG303 no\\-metric\\-regression** · `fraud-detector@1.4.0`: auc regressed: 0\\.929 vs 0\\.931\\
  waived until 2026\\-12\\-31 by `ana@acme.io`: 3x lower latency \\(RISK\\-118\\)

### Readiness

_Notices, not failures: what the next stage will ask, to add while the version can still change._

- **`churn@2.0.0`** at staging: to reach **production** this version still needs:
  - **MG201 required\\-fields** · `models/churn/modelgate.yaml:18:3`: lineage\\.environment\\.lockfile\
 is required at stage 'production' · _add lineage\\.environment\\.lockfile_
  - verified in CI at production: MG603 approvals
  - make these changes in a pull request of their own, then promote

### Notices

- policy\\-changed: policy\\.yaml differs from the base

"""
    )


def test_markdown_stays_under_githubs_limit() -> None:
    many = tuple(result("MG102", "artifact-hash", "failed", "x" * 2000) for _ in range(800))
    text = render(markdown.write, Summary("0.1.0", many, SUMMARY.manifests, ()))
    assert len(text.encode()) <= markdown.LIMIT
    assert text.endswith("the JSON, SARIF and audit reports are complete._\n")


def test_github_annotations_exact_and_limited_and_waivers_are_notices() -> None:
    lines = render(github.write).splitlines()
    assert lines == [
        "::error file=models/fraud/modelgate.yaml,line=12,col=3,title=MG102 artifact-hash (fraud-detector@1.4.0)"
        "::model.onnx: sha256 mismatch%0Ahint: update sha256",
        "::notice file=models/fraud/modelgate.yaml,line=7,col=3,title=MG303 no-metric-regression"
        " (fraud-detector@1.4.0) waived::auc regressed: 0.929 vs 0.931%0Awaived until 2026-12-31 by ana@acme.io:"
        " 3x lower latency (RISK-118)",
        "::warning file=models/fraud/modelgate.yaml,line=5,col=3,title=MG601 owners (fraud-detector@1.4.0)"
        "::owner 'x' is not @user",
        "::error file=models/fraud/modelgate.yaml,line=1,col=3,title=ACME001 model-card (fraud-detector@1.4.0)"
        "::check crashed in plugin 'acme': KeyError: 'x'",
    ]
    many = tuple(result("MG102", "artifact-hash", "failed", f"n{i}") for i in range(25))
    out = render(github.write, Summary("0.1.0", many, (), ())).splitlines()
    assert len(out) == 11 and out[-1].startswith("::notice title=modelgate::15 more finding(s) not annotated")


def test_audit_record_verifies_and_detects_tampering(tmp_path: Path) -> None:
    path = tmp_path / "audit.json"
    path.write_text(render(audit.write))
    data = json.loads(path.read_text())
    assert data["kind"] == "modelgate/audit-v1"
    assert data["ci"] == {"GITHUB_REPOSITORY": "acme/models", "GITHUB_RUN_ID": "42"}
    assert data["manifests"][0]["transition"] == "staging -> production"
    assert data["waivers"][0]["owner"] == "ana@acme.io"
    assert audit.verify(str(path))[0] is True
    data["verdict"] = "pass"
    path.write_text(json.dumps(data))
    intact, message = audit.verify(str(path))
    assert not intact and "was modified" in message
    shown = audit.render_markdown(json.loads(render(audit.write)))
    assert "record_sha256" in shown
    assert (
        "- waived MG303 for `fraud-detector@1.4.0` until 2026\\-12\\-31 by `ana@acme.io`:"
        " 3x lower latency \\(RISK\\-118\\) (policy\\.yaml:12:5)"
    ) in shown


def test_audit_verify_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from modelgate.cli import main

    path = tmp_path / "a.json"
    path.write_text(render(audit.write))
    assert main(["audit", "verify", str(path)]) == 0
    path.write_text(path.read_text().replace('"fail"', '"pass"'))
    assert main(["audit", "verify", str(path)]) == 1
    path.write_text('{"kind": "modelgate/audit-v1", "x": NaN, "record_sha256": "0"}')
    assert main(["audit", "verify", str(path)]) == 4
    assert "NaN is not valid" in capsys.readouterr().err


# -- every format stays valid for any text ---------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from modelgate.reporters import json as json_reporter  # noqa: E402

SARIF = jsonschema.Draft4Validator(json.loads((SCHEMAS / "sarif-schema-2.1.0.json").read_text()))
JUNIT_SCHEMA = xmlschema.XMLSchema(str(SCHEMAS / "junit-10.xsd"))
TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=60) | st.sampled_from(
    ["\x00\x1b[2J", "\ud800", "]]>", "\n::add-mask::x", "%0A", "|<img src=x>|", "NaN", "\u202e", "&#0;"]
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(message=TEXT, path=TEXT, model=TEXT, hint=st.none() | TEXT, reason=TEXT)
def test_every_report_stays_valid_for_any_text(
    message: str, path: str, model: str, hint: str | None, reason: str
) -> None:
    waiver = AppliedWaiver("MG301", model, None, reason, "2099-01-01", reason, "p.yaml:1:1")
    results = (
        Result("MG102", "artifact-hash", "failed", "error", path, model, message, Location(path, 3, 1), None, hint),
        Result("MG301", "metric-threshold", "waived", "warning", path, model, message, Location(path, 4, 2), waiver),
        Result("MG203", "lockfile-hash", "skipped", "error", path, model, message, Location(path, 1, 1)),
        Result("ACME001", "x", "error", "error", path, model, message, Location(path, 1, 1)),
    )
    summary = Summary(
        "0.1.0",
        results,
        (ManifestInfo(path, model, message, message, None, "0" * 64, (MetricRow(message, 1.0, 2.0, "maximize"),)),),
        (PolicyInfo(path, "0" * 64, "base"),),
        checks=SUMMARY.checks,
    )
    report = json.loads(render(json_reporter.write, summary), parse_constant=lambda c: pytest.fail(c))
    assert report["results"][0]["message"] == message
    SARIF.validate(json.loads(render(sarif.write, summary)))
    JUNIT_SCHEMA.validate(render(junit.write, summary))
    record = json.loads(render(audit.write, summary))
    assert audit.canonical({k: v for k, v in record.items() if k != "record_sha256"})
    text = render(markdown.write, summary)
    assert "\x1b" not in text
    shown = cmarkgfm.github_flavored_markdown_to_html(text, options=Options.CMARK_OPT_UNSAFE)
    assert "<img" not in shown and "<a " not in shown  # as GitHub renders it: no HTML, no links
    # The runner splits stdout on "\n" only; str.splitlines would also split on U+2028 and friends.
    for line in render(github.write, summary).split("\n")[:-1]:
        assert line.startswith(("::error ", "::warning ", "::notice ")) and "\r" not in line
