"""The command line's shape: which subcommand a command line names, and that a run builds
only that subcommand's part of it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from modelgate.commands import COMMANDS, command_named
from tests.conftest import Repo


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["check", "--base", "main"], "check"),
        (["-p", "no:json", "check"], "check"),
        (["-pno:json", "history", "m"], "history"),
        (["-p", "check", "list"], "list"),  # "check" here is -p's value, not the command
        (["--version"], None),
        (["--help"], None),
        ([], None),
        (["chek"], None),  # unknown: the whole parser says which commands there are
        (["--", "check"], None),
    ],
)
def test_command_named(args: list[str], named: str | None) -> None:
    assert command_named(args) == named


def test_a_run_imports_only_its_own_command(repo: Repo) -> None:
    """The other sixteen commands' modules are not imported to parse a check's command line."""
    repo.manifest("m")
    script = (
        "import sys; from modelgate.cli import main; code = main(['check', '-q']);"
        "print(sorted(m for m in sys.modules if m.startswith('modelgate.commands.')))"
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=repo.root, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "['modelgate.commands.check']"


def test_help_and_an_unknown_command_list_every_command(tmp_path: Path) -> None:
    from tests.conftest import MODELGATE

    listed = subprocess.run([MODELGATE, "--help"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0
    wrong = subprocess.run([MODELGATE, "chek"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert wrong.returncode == 4
    for name in COMMANDS:
        assert name in listed.stdout
        assert repr(name) in wrong.stderr
