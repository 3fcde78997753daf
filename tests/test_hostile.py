"""Hostile input, end to end through the installed command (tests/hostile/README.md).

Every case: the contract's exit code, a clear located message, no traceback, no hang,
and either a complete JSON report or none at all.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Repo, extending_default, sha256, staging_fields

CORPUS = Path(__file__).parent / "hostile"
EXPECTED: dict[str, dict[str, Any]] = json.loads((CORPUS / "expected.json").read_text())


def run_case(repo: Repo, *args: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any] | None]:
    proc = repo.run("check", "--json", "report.json", *args)
    assert "Traceback" not in proc.stdout + proc.stderr
    report_path = repo.root / "report.json"
    report = json.loads(report_path.read_text()) if report_path.exists() else None
    assert not [p for p in repo.root.iterdir() if p.name.startswith(".modelgate-")], "partial report left"
    return proc, report


def located(report: dict[str, Any] | None) -> list[str]:
    assert report is not None
    return [
        "{}:{}:{}: {}".format(
            os.path.basename(r["location"]["path"]), r["location"]["line"], r["location"]["column"], r["message"]
        )
        for r in report["results"] if r["outcome"] in ("failed", "error")
    ]


MANIFESTS = sorted(name for name in EXPECTED if "/" not in name)
SETTINGS = sorted(name for name in EXPECTED if name.startswith(("config/", "policy/")))


@pytest.mark.parametrize("name", MANIFESTS, ids=lambda n: n.removesuffix(".yaml"))
def test_corpus_case(repo: Repo, name: str) -> None:
    expected = EXPECTED[name]
    repo.write("m/model.bin", b"model")
    shutil.copyfile(CORPUS / name, repo.root / "m" / "modelgate.yaml")
    proc, report = run_case(repo)  # Repo.run's timeout turns a hang into a failure
    assert proc.returncode == expected["exit"], proc.stdout + proc.stderr
    if expected["exit"] == 0:
        assert expected["message"] in proc.stdout
        return
    found = located(report)
    # A list: the same input is refused with either message, depending on the library version.
    messages = expected["message"] if isinstance(expected["message"], list) else [expected["message"]]
    assert any(line.startswith(tuple(messages)) for line in found), found
    if expected.get("no_command_lines"):
        for line in proc.stdout.splitlines():
            assert not line.lstrip().startswith("::"), line
            assert "##[" not in line, line


@pytest.mark.parametrize("name", SETTINGS)
def test_config_and_policy_case(repo: Repo, name: str) -> None:
    """A config file (``config/*.modelgate.yaml`` as .modelgate.yaml, ``config/*.pyproject.toml``
    as pyproject.toml) or a policy (``policy/*.yaml``, configured as policy.yaml) of a wrong
    shape: exit 4, one escaped line naming file:line, never exit 3 or a silent pass."""
    expected = EXPECTED[name]
    repo.write("m/model.bin", b"model")
    repo.write("m/modelgate.yaml", VALID)
    if name.startswith("policy/"):
        repo.write(".modelgate.yaml", "policies: [policy.yaml]\n")
        target = "policy.yaml"
    else:
        target = "pyproject.toml" if name.endswith(".pyproject.toml") else ".modelgate.yaml"
    shutil.copyfile(CORPUS / name, repo.root / target)
    proc, report = run_case(repo)
    assert (proc.returncode, report) == (expected["exit"], None), proc.stdout + proc.stderr
    assert proc.stderr.startswith(expected["stderr"]), proc.stderr
    for bad in ("\x1b", "\u202e", "\r"):
        assert bad not in proc.stderr
    assert not any(line.startswith("::") for line in proc.stderr.splitlines())


VALID = (
    'apiVersion: modelgate/v1\nkind: Model\nname: fraud-detector\nversion: "1.0.0"\nowners: ["@acme/fraud"]\n'
    "stage: none\nartifacts:\n"
    "  - {path: model.bin, sha256: 9372c470eeadd5ecd9c3c74c2b3cb633f8e2f2fad799250a0f70d652b6b825e4, size: 5}\n"
)


def test_two_mib_manifest(repo: Repo) -> None:
    repo.write("m/model.bin", b"model")
    repo.write("m/modelgate.yaml", b"description: " + b"x" * (2 * 1024 * 1024) + b"\n")
    proc, report = run_case(repo)
    assert proc.returncode == 1
    assert located(report) == ["modelgate.yaml:1:1: file is larger than 1024 KiB; a manifest is metadata"]


def _manifest_with(repo: Repo, path: str, size: int = 1) -> None:
    repo.write("m/modelgate.yaml", (
        'apiVersion: modelgate/v1\nkind: Model\nname: fraud-detector\nversion: "1.0.0"\n'
        'owners: ["@acme/fraud"]\nstage: none\nartifacts:\n'
        f'  - {{path: "{path}", sha256: "{"0" * 64}", size: {size}}}\n'
    ))


LEAVES = "artifact path leaves the repository (through a symlink)"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda m: os.symlink("/dev/zero", m / "a.bin"), f"a.bin: {LEAVES}"),
        (lambda m: os.symlink("/etc/passwd", m / "a.bin"), f"a.bin: {LEAVES}"),
        (lambda m: os.mkfifo(m / "a.bin"), "a.bin: artifact path is not a regular file (device, FIFO or socket)"),
        (lambda m: os.mkdir(m / "a.bin"), "a.bin: artifact path is a directory; list each file as an artifact"),
        (lambda m: None, "a.bin: artifact file is missing"),
    ],
    ids=["symlink-dev-zero", "symlink-outside", "fifo", "directory", "missing"],
)
def test_file_system_cases(repo: Repo, make: Any, message: str) -> None:
    (repo.root / "m").mkdir()
    make(repo.root / "m")
    _manifest_with(repo, "a.bin")
    proc, report = run_case(repo)
    assert proc.returncode == 1
    assert f"modelgate.yaml:8:6: {message}" in located(report)


def test_artifact_growing_while_hashed(repo: Repo) -> None:
    (repo.root / "m").mkdir()
    big = repo.root / "m" / "a.bin"
    with big.open("wb") as out:
        out.truncate(256 * 1024 * 1024)
    _manifest_with(repo, "a.bin", size=256 * 1024 * 1024)
    stop = threading.Event()

    def grow() -> None:
        with big.open("ab") as out:
            while not stop.is_set():
                out.write(b"x" * 4096)
                out.flush()
                time.sleep(0.001)

    writer = threading.Thread(target=grow)
    writer.start()
    try:
        proc, report = run_case(repo, "--select", "MG102")
    finally:
        stop.set()
        writer.join()
    assert proc.returncode == 1
    messages = located(report)
    assert any("changed while it was being hashed" in m or "sha256 mismatch" in m for m in messages), messages


def test_non_utf8_file_name_through_every_report(repo: Repo) -> None:
    folder = os.fsencode(repo.root) + b"/models/bad\xff"
    os.makedirs(folder)
    with open(folder + b"/model.bin", "wb") as out:
        out.write(b"w")
    with open(folder + b"/modelgate.yaml", "w") as out:
        out.write('{"apiVersion": "modelgate/v1", "kind": "Model", "name": "bad", "version": "1.0.0",'
                  ' "stage": "none", "owners": ["@a"], "artifacts": [{"path": "model.bin", "size": 1,'
                  ' "sha256": "50e721e49c013f00c62cf59f2163542a9d8df02464efeb615d31051b0fddc326"}]}')
    reports = ["--audit", "a.json", "--markdown", "m.md", "--sarif", "s.json", "--junit-xml", "j.xml"]
    proc, report = run_case(repo, *reports)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "models/bad\\udcff/modelgate.yaml" in proc.stdout  # shown as an escape, never raw
    assert report is not None and report["manifests"][0]["path"] == "models/bad\udcff/modelgate.yaml"
    assert repo.run("audit", "verify", "a.json").returncode == 0


# -- what a change controls besides manifests: commit metadata, file names, tools' files --

# git keeps SOH, ESC and bidi characters in an author name (it drops only "\n", "<" and ">").
HOSTILE_AUTHOR = "Mallory\x01\x1b[31m::error::forged\u202e"


def test_author_name_with_control_characters_breaks_no_later_run(repo: Repo) -> None:
    repo.manifest("m", **staging_fields())
    repo.commit("register\x01 \x1b[2J", author=f"{HOSTILE_AUTHOR} <m\x01@evil.example>")
    repo.manifest("m", **staging_fields(description="second"))
    base = repo.commit("describe", author=f"{HOSTILE_AUTHOR} <m@evil.example>")
    repo.manifest("m2", name="other", artifact_bytes=b"other")
    repo.commit("another model")
    proc, _ = run_case(repo, "--base", base)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    shown = repo.run("history", "fraud-detector")
    assert shown.returncode == 0, shown.stderr
    assert "\x1b" not in shown.stdout and "\u202e" not in shown.stdout
    assert "Mallory\\x01\\x1b[31m:\u200b:error:\u200b:forged\\u202e <m\\x01@evil.example>" in shown.stdout
    assert len(shown.stdout.splitlines()) == 1  # one step: registered at staging; one line for it
    data = json.loads(repo.run("history", "fraud-detector", "--json").stdout)
    assert data["steps"][0]["author"] == f"{HOSTILE_AUTHOR} <m\x01@evil.example>"  # exact, in JSON


def test_error_lines_quote_hostile_file_names_escaped(repo: Repo) -> None:
    repo.write("m/model.bin", b"model")
    repo.write("m/modelgate.yaml", VALID)
    repo.write(".modelgate.yaml", "policies: [policies]\n")
    repo.write("policies/p\x1b[2J\u202e\n::error::forged.yaml", "apiVersion: modelgate/v1\nkind: Policy\nname: x\n")
    proc, _ = run_case(repo)
    assert proc.returncode == 4
    assert proc.stderr == ("modelgate: error: policies/p\\x1b[2J\\u202e\\x0a:\u200b:error:\u200b:forged.yaml:1:1:"
                           " policy defines no stages and extends none\n")


HOSTILE_FOLDER = "models/a b%#?\\\x1b[31m\u202e\u00e9"


def test_hostile_folder_name_through_every_report(repo: Repo) -> None:
    import urllib.parse

    import jsonschema
    import xmlschema

    repo.write(f"{HOSTILE_FOLDER}/model.bin", b"model")
    repo.write(f"{HOSTILE_FOLDER}/modelgate.yaml", VALID.replace("stage: none", "stage: nowhere"))
    proc, _ = run_case(repo, "--sarif", "s.json", "--junit-xml", "j.xml", "--markdown", "m.md")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    manifest = f"{HOSTILE_FOLDER}/modelgate.yaml"
    assert "\x1b" not in proc.stdout and "\u202e" not in proc.stdout
    sarif = json.loads((repo.root / "s.json").read_text())
    jsonschema.validate(sarif, json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text()))
    [uri] = {loc["physicalLocation"]["artifactLocation"]["uri"]
             for r in sarif["runs"][0]["results"] for loc in r["locations"]}
    assert uri == "models/a%20b%25%23%3F%5C%1B%5B31m%E2%80%AE%C3%A9/modelgate.yaml"
    assert urllib.parse.unquote(uri) == manifest  # RFC 3986: decodes back to the file, relative
    xmlschema.XMLSchema(str(Path(__file__).parent / "data" / "junit-10.xsd")).validate(
        (repo.root / "j.xml").read_text())
    assert "\x1b" not in (repo.root / "m.md").read_text()
    annotated = repo.run("check", "--base", "none", env={"GITHUB_ACTIONS": "true"})
    commands = [line for line in annotated.stdout.split("\n") if line.startswith("::")]
    assert commands and all(line.startswith("::error file=models/a b%25#?\\[31m\u00e9/modelgate.yaml,line=")
                            for line in commands), commands
    assert "\x1b" not in annotated.stdout and "\u202e" not in annotated.stdout


def test_an_mlmodel_that_cannot_be_read_fails_instead_of_skipping(repo: Repo) -> None:
    raw = b"\xff\xfe not yaml"
    repo.write("m/MLmodel", raw)
    repo.write("m/modelgate.yaml", VALID.replace("model.bin", "MLmodel").replace(
        "9372c470eeadd5ecd9c3c74c2b3cb633f8e2f2fad799250a0f70d652b6b825e4", sha256(raw)).replace(
        "size: 5", f"size: {len(raw)}"))
    repo.write("policy.yaml", extending_default("{check: mlflow-model}"))
    repo.write(".modelgate.yaml", "policies: [policy.yaml]\n")
    proc, report = run_case(repo)
    assert proc.returncode == 1, proc.stdout
    assert ("modelgate.yaml:8:6: MLmodel: cannot be read as an MLmodel: MLmodel:1:1: invalid UTF-8; save the file"
            " as UTF-8") in located(report)


def test_dvc_lock_params_of_the_wrong_shape_fail_the_check(repo: Repo) -> None:
    repo.write("m/model.bin", b"model")
    repo.write("m/modelgate.yaml", VALID)
    repo.write("m/dvc.lock", "schema: '2.0'\nstages:\n  train:\n    params: [lr]\n    outs: [{path: model.bin}]\n")
    repo.write("policy.yaml", extending_default("{check: dvc-artifact}", "{check: dvc-params}"))
    repo.write(".modelgate.yaml", "policies: [policy.yaml]\n")
    proc, report = run_case(repo)
    assert proc.returncode == 1, proc.stdout
    assert [r["outcome"] for r in report["results"] if r["name"].startswith("dvc-")] == ["failed", "failed"]
    assert ("modelgate.yaml:8:6: model.bin: a DVC file cannot be read: m/dvc.lock: stage 'train': params must map"
            " each params file to its values") in located(report)


def test_a_schema_file_nested_too_deeply_is_a_config_error(repo: Repo) -> None:
    repo.write("m/model.bin", b"model")
    repo.write("m/modelgate.yaml", VALID)
    repo.write("s.json", "[" * 100_000 + "]" * 100_000)
    repo.write("policy.yaml", extending_default("{check: schema, with: {file: s.json}}"))
    repo.write(".modelgate.yaml", "policies: [policy.yaml]\n")
    proc, report = run_case(repo)
    assert (proc.returncode, proc.stderr, report) == (4, "modelgate: error: schema file s.json: nested too deeply\n",
                                                      None)
