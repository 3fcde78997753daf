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

from tests.conftest import Repo, extending_default, production_fields, sha256, staging_fields

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
        for r in report["results"]
        if r["outcome"] in ("failed", "error")
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


def _manifest_with(repo: Repo, path: str, size: int = 1, sha256: str = "0" * 64) -> None:
    repo.write(
        "m/modelgate.yaml",
        (
            'apiVersion: modelgate/v1\nkind: Model\nname: fraud-detector\nversion: "1.0.0"\n'
            'owners: ["@acme/fraud"]\nstage: none\nartifacts:\n'
            f'  - {{path: "{path}", sha256: "{sha256}", size: {size}}}\n'
        ),
    )


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


# sha256 of 256 MiB of zero bytes (the sparse file the test below starts from).
ZEROS_256_MIB = "a6d72ac7690f53be6ae46ba88506bd97302a093f7108472bd9efc3cefda06484"


def test_artifact_growing_while_hashed(repo: Repo) -> None:
    (repo.root / "m").mkdir()
    big = repo.root / "m" / "a.bin"
    with big.open("wb") as out:
        out.truncate(256 * 1024 * 1024)
    _manifest_with(repo, "a.bin", size=256 * 1024 * 1024, sha256=ZEROS_256_MIB)
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
    # Only the before/after fstat can say this: the manifest names the file's first 256 MiB,
    # so without that comparison the run reports a digest or size mismatch instead.
    assert any("changed while it was being hashed" in m for m in messages), messages
    assert not any("mismatch" in m for m in messages), messages


def test_non_utf8_file_name_through_every_report(repo: Repo) -> None:
    folder = os.fsencode(repo.root) + b"/models/bad\xff"
    os.makedirs(folder)
    with open(folder + b"/model.bin", "wb") as out:
        out.write(b"w")
    with open(folder + b"/modelgate.yaml", "w") as out:
        out.write(
            '{"apiVersion": "modelgate/v1", "kind": "Model", "name": "bad", "version": "1.0.0",'
            ' "stage": "none", "owners": ["@a"], "artifacts": [{"path": "model.bin", "size": 1,'
            ' "sha256": "50e721e49c013f00c62cf59f2163542a9d8df02464efeb615d31051b0fddc326"}]}'
        )
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
    assert proc.stderr == (
        "modelgate: error: policies/p\\x1b[2J\\u202e\\x0a:\u200b:error:\u200b:forged.yaml:1:1:"
        " policy defines no stages and extends none\n"
    )


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
    [uri] = {
        loc["physicalLocation"]["artifactLocation"]["uri"]
        for r in sarif["runs"][0]["results"]
        for loc in r["locations"]
    }
    assert uri == "models/a%20b%25%23%3F%5C%1B%5B31m%E2%80%AE%C3%A9/modelgate.yaml"
    assert urllib.parse.unquote(uri) == manifest  # RFC 3986: decodes back to the file, relative
    xmlschema.XMLSchema(str(Path(__file__).parent / "data" / "junit-10.xsd")).validate(
        (repo.root / "j.xml").read_text()
    )
    assert "\x1b" not in (repo.root / "m.md").read_text()
    annotated = repo.run("check", "--base", "none", env={"GITHUB_ACTIONS": "true"})
    commands = [line for line in annotated.stdout.split("\n") if line.startswith("::")]
    assert commands and all(
        line.startswith("::error file=models/a b%25#?\\[31m\u00e9/modelgate.yaml,line=") for line in commands
    ), commands
    assert "\x1b" not in annotated.stdout and "\u202e" not in annotated.stdout


def test_an_mlmodel_that_cannot_be_read_fails_instead_of_skipping(repo: Repo) -> None:
    raw = b"\xff\xfe not yaml"
    repo.write("m/MLmodel", raw)
    repo.write(
        "m/modelgate.yaml",
        VALID.replace("model.bin", "MLmodel")
        .replace("9372c470eeadd5ecd9c3c74c2b3cb633f8e2f2fad799250a0f70d652b6b825e4", sha256(raw))
        .replace("size: 5", f"size: {len(raw)}"),
    )
    repo.write("policy.yaml", extending_default("{check: mlflow-model}"))
    repo.write(".modelgate.yaml", "policies: [policy.yaml]\n")
    proc, report = run_case(repo)
    assert proc.returncode == 1, proc.stdout
    assert (
        "modelgate.yaml:8:6: MLmodel: cannot be read as an MLmodel: MLmodel:1:1: invalid UTF-8; save the file as UTF-8"
    ) in located(report)


def test_dvc_lock_params_of_the_wrong_shape_fail_the_check(repo: Repo) -> None:
    repo.write("m/model.bin", b"model")
    repo.write("m/modelgate.yaml", VALID)
    repo.write("m/dvc.lock", "schema: '2.0'\nstages:\n  train:\n    params: [lr]\n    outs: [{path: model.bin}]\n")
    repo.write("policy.yaml", extending_default("{check: dvc-artifact}", "{check: dvc-params}"))
    repo.write(".modelgate.yaml", "policies: [policy.yaml]\n")
    proc, report = run_case(repo)
    assert proc.returncode == 1, proc.stdout
    assert [r["outcome"] for r in report["results"] if r["name"].startswith("dvc-")] == ["failed", "failed"]
    assert (
        "modelgate.yaml:8:6: model.bin: a DVC file cannot be read: m/dvc.lock: stage 'train': params must map"
        " each params file to its values"
    ) in located(report)


def test_a_schema_file_nested_too_deeply_is_a_config_error(repo: Repo) -> None:
    repo.write("m/model.bin", b"model")
    repo.write("m/modelgate.yaml", VALID)
    repo.write("s.json", "[" * 100_000 + "]" * 100_000)
    repo.write("policy.yaml", extending_default("{check: schema, with: {file: s.json}}"))
    repo.write(".modelgate.yaml", "policies: [policy.yaml]\n")
    proc, report = run_case(repo)
    assert (proc.returncode, proc.stderr, report) == (
        4,
        "modelgate: error: schema file s.json: nested too deeply\n",
        None,
    )


# -- links out of the repository and into .git/ ------------------------------------------
#
# Everything a change can hold may be a symlink, and a tracked manifest may name any path.
# None of these may make modelgate read a file outside the repository or under .git/: the
# link is an error naming the link, and the target's content (SECRET) never reaches output.

SECRET = "TOPSECRET-outside-the-repository"


def _outside(repo: Repo, name: str, content: str) -> Path:
    """A file beside the repository (not in it): what a link points at."""
    folder = repo.root.parent / "outside"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(content)
    return path


def _into_git(repo: Repo, name: str, content: str) -> Path:
    path = repo.root / ".git" / "info" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(content)
    return path


def _manifest_link_outside(repo: Repo) -> list[str]:
    (repo.root / "m").mkdir()
    os.symlink(_outside(repo, "modelgate.yaml", f"{SECRET}: 1\n"), repo.root / "m" / "modelgate.yaml")
    return []


def _manifest_link_into_git(repo: Repo) -> list[str]:
    (repo.root / "m").mkdir()
    _into_git(repo, "m.yaml", f"{SECRET}: 1\n")
    os.symlink("../.git/info/m.yaml", repo.root / "m" / "modelgate.yaml")
    return []


def _manifest_inside_git_named(repo: Repo) -> list[str]:
    _into_git(repo, "modelgate.yaml", f"{SECRET}: 1\n")
    return [".git/info/modelgate.yaml"]


def _artifact_inside_git(repo: Repo) -> list[str]:
    head = (repo.root / ".git" / "HEAD").read_bytes()
    repo.manifest("m", artifacts=[{"path": "git/HEAD", "sha256": sha256(head), "size": len(head)}])
    os.symlink("../.git", repo.root / "m" / "git")
    return []


def _lockfile_into_git(repo: Repo) -> list[str]:
    head = (repo.root / ".git" / "HEAD").read_bytes()
    fields = production_fields()
    fields["lineage"]["environment"]["lockfile"] = {"path": "env.lock", "sha256": sha256(head)}
    repo.manifest("m", **fields)
    os.symlink("../.git/HEAD", repo.root / "m" / "env.lock")
    return []


def _with_data(repo: Repo, uri: str, content: bytes) -> None:
    """A staging manifest (data-hash runs from staging on) whose one data entry is ``uri``."""
    fields = staging_fields()
    fields["lineage"]["data"] = [{"name": "train", "uri": uri, "sha256": sha256(content), "size": len(content)}]
    repo.manifest("m", **fields)


def _data_link_outside(repo: Repo) -> list[str]:
    secret = _outside(repo, "train.csv", SECRET)
    _with_data(repo, "train.csv", secret.read_bytes())
    os.symlink(secret, repo.root / "m" / "train.csv")
    return []


def _data_dotdot_outside(repo: Repo) -> list[str]:
    secret = _outside(repo, "train.csv", SECRET)
    _with_data(repo, "../../outside/train.csv", secret.read_bytes())
    return []


def _data_dotdot_into_git(repo: Repo) -> list[str]:
    _with_data(repo, "../.git/HEAD", (repo.root / ".git" / "HEAD").read_bytes())
    return []


def _data_dotdot_through_a_link_out(repo: Repo) -> list[str]:
    secret = _outside(repo, "train.csv", SECRET)
    os.symlink(secret.parent, repo.root / "common")
    _with_data(repo, "../common/train.csv", secret.read_bytes())
    return []


def _artifact_dotdot_outside(repo: Repo) -> list[str]:
    secret = _outside(repo, "model.bin", SECRET)
    repo.manifest(
        "m", artifacts=[{"path": "../../outside/model.bin", "sha256": sha256(secret.read_bytes()), "size": len(SECRET)}]
    )
    return []


def _lockfile_dotdot_into_git(repo: Repo) -> list[str]:
    head = (repo.root / ".git" / "HEAD").read_bytes()
    fields = production_fields()
    fields["lineage"]["environment"]["lockfile"] = {"path": "../.git/HEAD", "sha256": sha256(head)}
    repo.manifest("m", **fields)
    return []


def _dvc_file_of_data_link_outside(repo: Repo) -> list[str]:
    fields = staging_fields()
    fields["lineage"]["data"] = [{"name": "train", "uri": "../data/train.csv", "sha256": "0" * 64, "md5": "0" * 32}]
    repo.manifest("m", **fields)
    dvc = _outside(repo, "train.csv.dvc", f"outs:\n- {{path: train.csv, md5: {SECRET}, size: 1}}\n")
    (repo.root / "data").mkdir()
    os.symlink(dvc, repo.root / "data" / "train.csv.dvc")
    return []


def _config_link_outside(repo: Repo) -> list[str]:
    repo.manifest("m")
    os.symlink(_outside(repo, "config.yaml", f"manifests: [{SECRET}/**]\n"), repo.root / ".modelgate.yaml")
    return []


def _policy_link_outside(repo: Repo) -> list[str]:
    repo.manifest("m")
    repo.write(".modelgate.yaml", "policies: [acme.yaml]\n")
    os.symlink(_outside(repo, "policy.yaml", f"{SECRET}: 1\n"), repo.root / "acme.yaml")
    return []


def _policy_absolute_path(repo: Repo) -> list[str]:
    repo.manifest("m")
    outside = _outside(repo, "policy.yaml", f"{SECRET}: 1\n")
    repo.write(".modelgate.yaml", f"policies: ['{outside}']\n")
    return []


def _policy_folder_link_outside(repo: Repo) -> list[str]:
    repo.manifest("m")
    _outside(repo, "policy.yaml", f"{SECRET}: 1\n")
    repo.write(".modelgate.yaml", "policies: [governance]\n")
    os.symlink(repo.root.parent / "outside", repo.root / "governance")
    return []


def _plugin_link_outside(repo: Repo) -> list[str]:
    repo.manifest("m")
    marker = repo.root.parent / "outside" / "plugin-ran"
    plugin = _outside(repo, "evil.py", f"open({str(marker)!r}, 'w').write('ran')  # {SECRET}\n")
    repo.write(".modelgate.yaml", "plugins: [checks.py]\n")
    os.symlink(plugin, repo.root / "checks.py")
    return []


def _schema_link_outside(repo: Repo) -> list[str]:
    repo.manifest("m")
    repo.write(".modelgate.yaml", "policies: [policy.yaml]\n")
    repo.write("policy.yaml", extending_default("{check: schema, with: {file: s.json}}"))
    os.symlink(_outside(repo, "s.json", f'{{"title": "{SECRET}", "type": 12}}'), repo.root / "s.json")
    return []


def _dvc_file_link_outside(repo: Repo) -> list[str]:
    repo.manifest("m")
    repo.write(".modelgate.yaml", "policies: [policy.yaml]\n")
    repo.write("policy.yaml", extending_default("{check: dvc-artifact}"))
    dvc = _outside(repo, "model.bin.dvc", f"outs:\n- {{path: model.bin, md5: {SECRET}, size: 1}}\n")
    os.symlink(dvc, repo.root / "m" / "model.bin.dvc")
    return []


OUTSIDE = "leads outside the repository, so it was not opened; keep the file inside the repository, out of .git/"
INTO_GIT = "leads into .git/, so it was not opened; keep the file inside the repository, out of .git/"
LINK = "is a symbolic link, so it was not read; a manifest must be a regular file: commit the file itself"
ARTIFACT_IN_GIT = "artifact path is inside .git/, which no commit holds; keep artifacts in the work tree"
LOCKFILE_IN_GIT = "lockfile path is inside .git/, which no commit holds; keep lockfiles in the work tree"
DATA_IN_GIT = "data path is inside .git/, which no commit holds; keep data files in the work tree"
CLIMBS = "leaves the repository ('..' climbs above its root)"

LINK_CASES = {
    # name: (build, exit code, the located result line or the error line that names the link)
    "manifest-link-outside": (_manifest_link_outside, 1, f"modelgate.yaml:1:1: {LINK}"),
    "manifest-link-into-git": (_manifest_link_into_git, 1, f"modelgate.yaml:1:1: {LINK}"),
    "manifest-inside-git": (_manifest_inside_git_named, 1, f"modelgate.yaml:1:1: {INTO_GIT}"),
    "artifact-inside-git": (_artifact_inside_git, 1, f"modelgate.yaml:12:7: git/HEAD: {ARTIFACT_IN_GIT}"),
    "lockfile-into-git": (
        _lockfile_into_git,
        1,
        f"modelgate.yaml:34:9: lockfile env.lock: not verified: {LOCKFILE_IN_GIT}",
    ),
    "lockfile-dotdot-into-git": (
        _lockfile_dotdot_into_git,
        1,
        f"modelgate.yaml:34:9: lockfile ../.git/HEAD: not verified: {LOCKFILE_IN_GIT}",
    ),
    "artifact-dotdot-outside": (
        _artifact_dotdot_outside,
        1,
        f"modelgate.yaml:12:7: ../../outside/model.bin: artifact path {CLIMBS}",
    ),
    "data-link-outside": (
        _data_link_outside,
        1,
        "modelgate.yaml:25:9: train.csv: not verified: data path leaves the repository (through a symlink)",
    ),
    "data-dotdot-outside": (
        _data_dotdot_outside,
        1,
        f"modelgate.yaml:25:9: ../../outside/train.csv: not verified: data path {CLIMBS}",
    ),
    "data-dotdot-into-git": (
        _data_dotdot_into_git,
        1,
        f"modelgate.yaml:25:9: ../.git/HEAD: not verified: {DATA_IN_GIT}",
    ),
    "data-dotdot-through-a-link-out": (
        _data_dotdot_through_a_link_out,
        1,
        "modelgate.yaml:25:9: ../common/train.csv: not verified: data path leaves the repository (through a symlink)",
    ),
    "dvc-file-of-data-link-outside": (
        _dvc_file_of_data_link_outside,
        1,
        "modelgate.yaml:25:9: ../data/train.csv:"
        f" not verified: a DVC file cannot be read: data/train.csv.dvc:1:1: {OUTSIDE}",
    ),
    "config-link-outside": (_config_link_outside, 4, f"modelgate: error: .modelgate.yaml:1:1: {OUTSIDE}"),
    "policy-link-outside": (_policy_link_outside, 4, f"modelgate: error: acme.yaml:1:1: {OUTSIDE}"),
    "policy-absolute-path": (_policy_absolute_path, 4, f"/outside/policy.yaml:1:1: {OUTSIDE}"),
    "policy-folder-link-outside": (_policy_folder_link_outside, 4, f"modelgate: error: governance:1:1: {OUTSIDE}"),
    "plugin-link-outside": (_plugin_link_outside, 4, f"modelgate: error: checks.py:1:1: {OUTSIDE}"),
    "schema-link-outside": (_schema_link_outside, 4, f"modelgate: error: s.json:1:1: {OUTSIDE}"),
    "dvc-file-link-outside": (
        _dvc_file_link_outside,
        1,
        f"modelgate.yaml:12:7: model.bin: a DVC file cannot be read: m/model.bin.dvc:1:1: {OUTSIDE}",
    ),
}


@pytest.mark.parametrize("name", sorted(LINK_CASES))
def test_nothing_outside_the_repository_or_in_git_is_read(repo: Repo, name: str) -> None:
    build, code, message = LINK_CASES[name]
    args = build(repo)
    proc, report = run_case(repo, *args)
    output = proc.stdout + proc.stderr + json.dumps(report)
    assert proc.returncode == code, output
    if code == 4:
        assert proc.stderr.endswith(message + "\n"), proc.stderr
    else:
        assert message in located(report), located(report)
    assert SECRET not in output
    assert not (repo.root.parent / "outside" / "plugin-ran").exists()


def test_a_pointer_shaped_artifact_is_evidence_only_where_git_says_lfs(repo: Repo) -> None:
    # The pointer claims the manifest's digest for content that is not here: accepted only
    # where git's attributes say filter=lfs (a clone without `git lfs pull`).
    (repo.root / "m").mkdir()
    (repo.root / "m" / "a.bin").write_text(
        f"version https://git-lfs.github.com/spec/v1\noid sha256:{'0' * 64}\nsize 1\n"
    )
    _manifest_with(repo, "a.bin")
    proc, report = run_case(repo)
    assert proc.returncode == 1, proc.stdout
    assert any(
        line.startswith(
            "modelgate.yaml:8:21: a.bin: looks like a Git LFS pointer, but git's attributes do not"
            " give it filter=lfs, so it is just bytes"
        )
        for line in located(report)
    ), report
    repo.write(".gitattributes", "*.bin filter=lfs diff=lfs merge=lfs -text\n")
    proc, report = run_case(repo)
    assert proc.returncode == 0, proc.stdout
