"""``modelgate completion bash|zsh|fish``: scripts generated from the parser, loaded into
the real shells."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import MODELGATE


def _script(shell: str, tmp_path: Path) -> Path:
    proc = subprocess.run([MODELGATE, "completion", shell], capture_output=True, text=True, cwd=tmp_path)
    assert (proc.returncode, proc.stderr) == (0, "")
    path = tmp_path / f"modelgate.{shell}"
    path.write_text(proc.stdout)
    return path


def _bash_completes(script: Path, *words: str) -> list[str]:
    """What bash offers for the last word of `modelgate WORDS...`, through the function the
    script registers with `complete`, called as readline would call it."""
    line = " ".join(("modelgate", *words))
    probe = (
        f"source {script}\n"
        "spec=$(complete -p modelgate) || exit 9\n"
        "function=$(sed -n 's/.*-F \\([^ ]*\\) .*/\\1/p' <<< \"$spec\")\n"
        f"COMP_WORDS=(modelgate {' '.join(words)}); COMP_CWORD={len(words)}\n"
        f"COMP_LINE='{line}'; COMP_POINT=${{#COMP_LINE}}\n"
        f"\"$function\" modelgate '{words[-1]}' '{(('modelgate', *words))[-2]}'\n"
        "printf '%s\\n' \"${COMPREPLY[@]}\"\n"
    )
    proc = subprocess.run(["bash", "--noprofile", "--norc", "-c", probe], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return sorted(set(proc.stdout.split()))


def test_bash_completes_subcommands_and_options(tmp_path: Path) -> None:
    script = _script("bash", tmp_path)
    assert _bash_completes(script, "che") == ["check"]
    assert _bash_completes(script, "list") == ["list", "list-checks"]
    assert _bash_completes(script, "check", "--ju") == ["--junit-xml"]  # a reporter plugin's option
    assert _bash_completes(script, "completion", "") == ["bash", "fish", "zsh"]
    assert "--stage" in _bash_completes(script, "list", "--")


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed (.ci/run installs it)")
def test_zsh_completes_subcommands_and_options(tmp_path: Path) -> None:
    """The script installed as zsh wants it (`_modelgate` on `fpath`, compinit), then Tab
    pressed in an interactive zsh on a pseudo-terminal (zsh's own zpty): each read waits for
    what only the completion can have printed."""
    script = _script("zsh", tmp_path)
    assert subprocess.run(["zsh", "-n", str(script)], capture_output=True).returncode == 0
    functions = tmp_path / "functions"
    functions.mkdir()
    script.rename(functions / "_modelgate")
    session = f"""
zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "PROMPT='> '; fpath=({functions} \\$fpath); autoload -Uz compinit; compinit -u -d {tmp_path}/dump"
zpty -w -n z $'modelgate che\\t'
zpty -r z out '*modelgate check*' && print completed-the-subcommand
zpty -w -n z $'\\x15modelgate check --ju\\t'
zpty -r z out '*--junit-xml*' && print completed-the-option
zpty -d z
"""
    proc = subprocess.run(
        ["zsh", "-f", "-c", session],
        capture_output=True,
        text=True,
        timeout=60,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "TERM": "xterm"},
    )
    assert proc.stdout.split() == ["completed-the-subcommand", "completed-the-option"], proc.stdout + proc.stderr


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed (.ci/run installs it)")
def test_fish_completes_subcommands_and_options(tmp_path: Path) -> None:
    script = _script("fish", tmp_path)
    assert subprocess.run(["fish", "-n", str(script)], capture_output=True).returncode == 0

    def complete(line: str) -> list[str]:
        proc = subprocess.run(
            ["fish", "--no-config", "-c", f"source {script}; complete -C '{line}'"],
            capture_output=True,
            text=True,
            env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
        )
        assert proc.returncode == 0, proc.stderr
        return [row.split("\t")[0] for row in proc.stdout.splitlines()]

    assert complete("modelgate che") == ["check"]
    assert complete("modelgate check --junit") == ["--junit-xml"]


def test_unknown_shell_is_a_usage_error() -> None:
    proc = subprocess.run([MODELGATE, "completion", "powershell"], capture_output=True, text=True)
    assert proc.returncode == 4 and "invalid choice" in proc.stderr
