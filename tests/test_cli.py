"""The installed ``modelgate`` command end to end: exit codes and output."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from modelgate import __version__
from tests.conftest import MODELGATE, REPO, Repo, commands_in_messages


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The installed command in ``cwd`` (an empty folder), as a user types it."""
    return subprocess.run([MODELGATE, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_examples_pass_end_to_end(tmp_path: Path) -> None:
    proc = subprocess.run([MODELGATE, "check", "examples/"], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].strip("=").strip() == "modelgate check"
    assert lines[1].startswith(f"modelgate {__version__} · 3 manifests · policy builtin:default")
    assert lines[2].startswith("examples/models/churn/modelgate.yaml ")
    assert "passed, 0 failed, 0 waived" in lines[-1]
    assert proc.stderr == ""


def test_exit_0_pass(repo: Repo) -> None:
    repo.manifest("m")
    proc = repo.run("check")
    assert proc.returncode == 0
    assert "0 failed" in proc.stdout


def test_exit_1_tampered_artifact(repo: Repo) -> None:
    repo.manifest("m", artifact_bytes=b"good")
    (repo.root / "m" / "model.bin").write_bytes(b"evil")
    proc = repo.run("check", "--json", "report.json")
    assert proc.returncode == 1
    assert "MG102 artifact-hash (failed) · fraud-detector@1.0.0" in proc.stdout
    assert "  m/modelgate.yaml:13:7" in proc.stdout
    assert "model.bin: sha256 mismatch" in proc.stdout
    report = json.loads((repo.root / "report.json").read_text())
    assert report["verdict"] == "fail" and report["exit_code"] == 1


def test_exit_4_bad_flag_and_bad_policy(repo: Repo) -> None:
    repo.manifest("m")
    proc = repo.run("check", "--no-such-flag")
    assert proc.returncode == 4
    assert proc.stderr.startswith("modelgate: error: unrecognized arguments: --no-such-flag")
    repo.write(".modelgate.yaml", "policies: [p.yaml]\n")
    repo.write("p.yaml", "apiVersion: modelgate/v1\nkind: Policy\nname: p\nstages: [a]\nfoo: 1\n")
    proc = repo.run("check", "--json", "out.json")
    assert proc.returncode == 4
    assert proc.stderr == "modelgate: error: p.yaml:5:1: unknown key 'foo'\n"
    assert "Traceback" not in proc.stderr
    assert not (repo.root / "out.json").exists()


def test_exit_4_rule_naming_unknown_check(repo: Repo) -> None:
    repo.manifest("m")
    repo.write(".modelgate.yaml", "policies: [p.yaml]\n")
    repo.write(
        "p.yaml",
        "apiVersion: modelgate/v1\nkind: Policy\nname: p\nextends: [builtin:default]\n"
        "rules:\n  - {check: model-card-linked}\n",
    )
    proc = repo.run("check")
    assert proc.returncode == 4
    assert proc.stderr.startswith(
        "modelgate: error: p.yaml:6:5: rule names check 'model-card-linked', which no plugin provides"
    )


def test_exit_4_selector_matching_nothing(repo: Repo) -> None:
    repo.manifest("m")
    proc = repo.run("check", "--select", "XYZ9")
    assert proc.returncode == 4
    assert "matches no check" in proc.stderr


def test_exit_5_no_manifests(repo: Repo) -> None:
    repo.write("README.md", "nothing here\n")
    proc = repo.run("check")
    assert proc.returncode == 5
    assert "no manifests found" in proc.stdout


def test_exit_4_missing_path(repo: Repo) -> None:
    proc = repo.run("check", "nope/")
    assert proc.returncode == 4
    assert proc.stderr == "modelgate: error: nope/: no such file or directory\n"


def test_select_and_ignore(repo: Repo) -> None:
    repo.manifest("m")
    out = repo.root / "r.json"
    assert repo.run("check", ".", "--select", "MG1,semver", "--json", str(out)).returncode == 0
    checks = {r["check"] for r in json.loads(out.read_text())["results"]}
    assert checks == {"MG001", "MG101", "MG102", "MG501"}  # MG001 always runs
    assert repo.run("check", ".", "--ignore", "MG1", "--json", str(out)).returncode == 0
    checks = {r["check"] for r in json.loads(out.read_text())["results"]}
    assert not checks & {"MG101", "MG102"} and "MG501" in checks


def test_strict_makes_warnings_fail(repo: Repo) -> None:
    repo.write(".modelgate.yaml", "policies: [p.yaml]\n")
    repo.write(
        "p.yaml",
        "apiVersion: modelgate/v1\nkind: Policy\nname: p\nextends: [builtin:default]\n"
        "rules:\n  - {check: owners, severity: warning}\n",
    )
    repo.manifest("m", owners=["somebody"])
    proc = repo.run("check")
    assert proc.returncode == 0
    assert "MG601 owners (warning)" in proc.stdout
    assert "1 warning in" in proc.stdout
    proc = repo.run("check", "--strict")
    assert proc.returncode == 1


def test_disable_plugin(repo: Repo) -> None:
    repo.manifest("m", version="v1")
    assert repo.run("check").returncode == 1
    assert repo.run("check", "-p", "no:versioning").returncode == 0
    proc = repo.run("check", "-p", "no:manifest")
    assert proc.returncode == 4
    assert "cannot be disabled" in proc.stderr


def test_verbose_and_quiet(repo: Repo) -> None:
    repo.manifest("m")
    verbose = repo.run("check", "-v").stdout
    assert "m/modelgate.yaml::MG102 artifact-hash PASSED" in verbose
    quiet = repo.run("check", "-q").stdout.splitlines()
    assert len(quiet) == 1 and "passed" in quiet[0]


def test_color_always_uses_ansi(repo: Repo) -> None:
    repo.manifest("m")
    assert "\x1b[" in repo.run("check", "--color", "always").stdout
    assert "\x1b[" not in repo.run("check", "--color", "never").stdout


def test_version_is_cheap_and_exact() -> None:
    for args in (["--version"], ["version"]):
        proc = subprocess.run([MODELGATE, *args], capture_output=True, text=True)
        assert (proc.returncode, proc.stdout) == (0, f"modelgate {__version__}\n")


def test_list_checks_and_explain(tmp_path: Path) -> None:
    listed = run(tmp_path, "list-checks")
    assert listed.returncode == 0
    assert any(line.startswith("MG102    artifact-hash") for line in listed.stdout.splitlines())
    explained = run(tmp_path, "explain", "metric-threshold")
    assert explained.returncode == 0
    assert explained.stdout.startswith(
        "MG301 metric-threshold (error; plugin metrics)\nruns: where a policy rule names it"
    )
    unknown = run(tmp_path, "explain", "MG999")
    assert unknown.returncode == 4 and unknown.stderr.startswith("modelgate: error:"), unknown.stderr


def test_schema_prints_committed_schema(tmp_path: Path) -> None:
    for kind, title in (("manifest", "Manifest"), ("policy", "PolicyFile")):
        proc = run(tmp_path, "schema", kind)
        assert proc.returncode == 0, proc.stderr
        committed = REPO / "modelgate" / "datamodel" / "schemas" / f"{kind}.json"
        assert json.loads(proc.stdout) == json.loads(committed.read_text())
        assert json.loads(proc.stdout)["title"] == title


def test_plugins_lists_builtins(tmp_path: Path) -> None:
    proc = run(tmp_path, "plugins")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert f"artifacts {__version__}\n  checks: MG101, MG102\n" in out
    assert f"json {__version__}\n  checks: -\n  hooks:  modelgate_addoption, modelgate_reporters\n" in out


def test_report_to_unwritable_place_is_exit_4_and_leaves_nothing(repo: Repo) -> None:
    repo.manifest("m")
    proc = repo.run("check", "--json", "no/such/dir/r.json")
    assert proc.returncode == 4
    assert proc.stderr.startswith("modelgate: error: cannot write report no/such/dir/r.json")
    assert not (repo.root / "no").exists()


def test_internal_error_is_exit_3_with_report_line(repo: Repo, tmp_path: Path) -> None:
    # A real installed plugin whose hook raises: an unexpected exception in the run.
    site = tmp_path / "site"
    (site / "broken_hook-1.0.dist-info").mkdir(parents=True)
    info = site / "broken_hook-1.0.dist-info"
    (site / "broken_hook.py").write_text(
        "import modelgate\n\n@modelgate.hookimpl\n"
        "def modelgate_reporters(request):\n    raise ZeroDivisionError('boom')\n"
    )
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-hook\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[modelgate]\nbroken = broken_hook\n")
    repo.manifest("m")
    # Prepended: a PYTHONPATH already set (the mutation runner's copy of modelgate) stays.
    path = {"PYTHONPATH": os.pathsep.join(filter(None, (str(site), os.environ.get("PYTHONPATH"))))}
    proc = repo.run("check", env=path)
    assert proc.returncode == 3
    assert "modelgate: internal error: ZeroDivisionError: boom" in proc.stderr
    assert "please report this" in proc.stderr and "Traceback" not in proc.stderr
    traced = repo.run("check", "--traceback", env=path)
    assert traced.returncode == 3 and "Traceback" in traced.stderr


def test_internal_error_line_is_escaped(repo: Repo, tmp_path: Path) -> None:
    # An exception's text may quote input (a ValueError the bad value): it is escaped like
    # every other message, one line, no ANSI, bidi or workflow command.
    site = tmp_path / "site"
    info = site / "broken_hook-1.0.dist-info"
    info.mkdir(parents=True)
    (site / "broken_hook.py").write_text(
        "import modelgate\n\n@modelgate.hookimpl\ndef modelgate_reporters(request):\n"
        "    raise ValueError('k\\x1b[2J\\u202e\\n::error::forged')\n"
    )
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-hook\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[modelgate]\nbroken = broken_hook\n")
    repo.manifest("m")
    proc = repo.run("check", env={"PYTHONPATH": str(site)})
    assert proc.returncode == 3
    first = proc.stderr.splitlines()[0]
    assert first == "modelgate: internal error: ValueError: k\\x1b[2J\\u202e\\x0a:\u200b:error:\u200b:forged"


def test_help_is_exit_0(tmp_path: Path) -> None:
    proc = run(tmp_path, "check", "--help")
    assert proc.returncode == 0 and proc.stderr == ""
    assert "--select IDS" in proc.stdout


def test_module_entry_point(repo: Repo) -> None:
    import sys

    repo.manifest("m")
    proc = subprocess.run([sys.executable, "-m", "modelgate", "check"], cwd=repo.root, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert shutil.which(MODELGATE) is not None


def test_the_program_freezes_what_it_made_before_it_exits_and_main_leaves_the_collector_alone() -> None:
    """The console script and ``python -m modelgate`` run :func:`console`: the objects are
    frozen for the exit's collections. In-process callers of ``main()`` (tests, the pytest
    plugin) go on, and find the collector as they left it."""
    import sys
    import tomllib

    assert tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"] == {
        "modelgate": "modelgate.cli:console"
    }
    assert (REPO / "modelgate" / "__main__.py").read_text().endswith("raise SystemExit(console())\n")
    script = (
        "import gc, sys\n"
        "from modelgate import cli\n"
        "sys.argv = ['modelgate', 'list-checks']\n"
        "code = cli.main()\n"
        "frozen_by_main = gc.get_freeze_count()\n"
        "code = cli.console()\n"
        "print(code, frozen_by_main, gc.get_freeze_count() > 0, file=sys.stderr)\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert proc.stderr.splitlines()[-1] == "0 0 True"


def test_a_report_to_dash_goes_to_stdout_and_the_terminal_report_to_stderr(repo: Repo) -> None:
    """DESIGN: every report flag takes `-` for standard output; a pipe then reads the report."""
    repo.manifest("m")
    proc = repo.run("check", "--json", "-")
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["verdict"] == "pass"
    assert "modelgate check" in proc.stderr and "passed" in proc.stderr
    assert not (repo.root / "-").exists()
    proc = repo.run("check", "--markdown", "-")
    assert proc.stdout.startswith("## modelgate: ✅ pass") and not (repo.root / "-").exists()


# -- the conventions of a Unix command: pipes, `-` for stdout, colour ---------------------


def _closed_pipe_run(repo: Repo, *args: str) -> subprocess.CompletedProcess[str]:
    """The installed command writing into a pipe whose reader is already gone: every write
    fails with EPIPE, whatever the timing."""
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run(
            [MODELGATE, *args], cwd=repo.root, stdout=write, stderr=subprocess.PIPE, text=True, timeout=120
        )
    finally:
        os.close(write)


def _failing_and_history(repo: Repo) -> None:
    repo.manifest("ok")
    repo.commit("one")
    repo.manifest("bad", name="other", artifact_bytes=b"x")
    (repo.root / "bad" / "model.bin").write_bytes(b"tampered")


@pytest.mark.parametrize(
    ("args", "status"),
    [
        (("list-checks",), 0),
        (("plugins",), 0),
        (("check", "-v", "--json", "../r.json"), 1),  # the verdict, not the pipe, decides
        (("history", "fraud-detector"), 0),
        (("schema", "manifest"), 0),
    ],
)
def test_a_closed_pipe_ends_quietly_with_the_commands_own_status(
    repo: Repo, args: tuple[str, ...], status: int
) -> None:
    _failing_and_history(repo)
    proc = _closed_pipe_run(repo, *args)
    assert (proc.returncode, proc.stderr) == (status, "")
    if "--json" in args:  # the reports to files are still written
        assert json.loads((repo.root.parent / "r.json").read_text())["verdict"] == "fail"


def test_head_in_a_real_shell_pipeline(repo: Repo) -> None:
    """`modelgate ... | head -1` in bash: the first line, nothing on stderr, modelgate's own status
    (`check -v` on 200 manifests writes ~180 KB, far past what the pipe and head take: the rest
    of its writes meet a closed pipe)."""
    for index in range(200):
        repo.manifest(f"m{index:03d}", name=f"model-{index}")
    repo.commit("many")
    for command, first in (
        (f"{MODELGATE} list-checks", "MG001"),
        (f"{MODELGATE} check -v", "=" * 10),
        (f"{MODELGATE} history model-7", "2026-11-01"),
    ):
        script = f"set -o pipefail; {command} 2>err | head -1 > first; echo ${{PIPESTATUS[0]}}"
        proc = subprocess.run(["bash", "-c", script], cwd=repo.root, capture_output=True, text=True, timeout=120)
        assert proc.stdout == "0\n", (command, proc.stdout, proc.stderr)
        assert (repo.root / "err").read_text() == "", command
        assert (repo.root / "first").read_text().startswith(first), command
    assert len(repo.run("check", "-v").stdout) > 150_000


def test_a_report_given_dash_is_alone_on_stdout(repo: Repo) -> None:
    repo.manifest("m")
    proc = repo.run("check", "--json", "-")
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["verdict"] == "pass"  # nothing else on stdout
    assert "passed" in proc.stderr.splitlines()[-1]  # the terminal report moved to stderr
    assert not (repo.root / "-").exists()
    sarif = repo.run("check", "-q", "--sarif", "-", "--json", "../r.json")
    assert json.loads(sarif.stdout)["version"] == "2.1.0" and (repo.root.parent / "r.json").exists()
    both = repo.run("check", "--json", "-", "--sarif", "-")
    assert both.returncode == 4
    assert both.stderr == (
        "modelgate: error: only one report can go to standard output (`-`);"
        " the sarif and json reports both ask for it\n"
    )
    bom = repo.run("export", "-o", "-")
    assert bom.returncode == 0 and json.loads(bom.stdout)["bomFormat"] == "CycloneDX"


GREEN = "\x1b[32m"  # what the summary line of a passing run is coloured with


@pytest.mark.parametrize(
    ("flag", "env", "coloured"),
    [
        ((), {}, False),  # not a terminal
        ((), {"FORCE_COLOR": "1"}, True),
        ((), {"FORCE_COLOR": "1", "NO_COLOR": "1"}, True),  # FORCE_COLOR beats NO_COLOR
        ((), {"FORCE_COLOR": ""}, False),  # set but empty counts as unset
        (("--color", "never"), {"FORCE_COLOR": "1"}, False),  # the flag beats both
        (("--color", "always"), {"NO_COLOR": "1"}, True),
        (("--color", "always"), {"NO_COLOR": "1", "TERM": "dumb"}, True),
    ],
)
def test_colour_precedence(repo: Repo, flag: tuple[str, ...], env: dict[str, str], coloured: bool) -> None:
    repo.manifest("m")
    base = {key: value for key, value in os.environ.items() if key not in ("NO_COLOR", "FORCE_COLOR")}
    proc = subprocess.run(
        [MODELGATE, "check", *flag], cwd=repo.root, capture_output=True, text=True, env={**base, **env}
    )
    assert proc.returncode == 0
    assert (GREEN in proc.stdout) is coloured, proc.stdout
    assert ("\x1b[" in proc.stdout) is coloured


# What a message's command may leave to the reader, and what the test fills in.
PLACEHOLDERS = {"{}": "m/modelgate.yaml", "REF": "HEAD"}


def test_every_modelgate_command_a_message_suggests_is_accepted(repo: Repo) -> None:
    """Each `modelgate ...` a hint, an error or a help text quotes, pasted (its fields and
    placeholders filled in) into a repository with one manifest, is a command modelgate
    runs, not a usage error. The completion install lines redirect into the shell's own
    folders: their command part is run."""
    repo.manifest("m")
    repo.commit("one")
    found = commands_in_messages("modelgate")
    assert "modelgate schema manifest" in found and "modelgate hash --update" in found
    for command, where in sorted(found.items()):
        if ">" in command:
            assert all(place.startswith("modelgate/commands/completion.py") for place in where), where
            command = command.partition(">")[0]
        for placeholder, value in PLACEHOLDERS.items():
            command = command.replace(placeholder, value)
        proc = repo.run(*shlex.split(command)[1:])
        assert proc.returncode in (0, 1) and "usage:" not in proc.stderr, (command, where, proc.stderr)
