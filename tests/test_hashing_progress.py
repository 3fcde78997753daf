"""Progress bars: on a terminal, for artifacts over 1 GiB; never in logs or for small files."""

from __future__ import annotations

import hashlib
import os
import pty
import select
import signal
import subprocess

import pyte

from modelgate.hashing.progress import BIG, STEP, ProgressBars
from tests.conftest import MODELGATE, Repo

GiB = 1 << 30


def _sparse_artifact(repo: Repo, size: int) -> None:
    """A manifest for a sparse file of ``size`` zero bytes (no disk used)."""
    digest = hashlib.sha256()
    block = bytes(1 << 20)
    for _ in range(size >> 20):
        digest.update(block)
    repo.manifest("m", artifacts=[{"path": "model.bin", "sha256": digest.hexdigest(), "size": size}])
    with open(repo.root / "m" / "model.bin", "wb") as out:
        out.truncate(size)


def _run_on_a_terminal(repo: Repo, *args: str, interrupt_on: bytes | None = None) -> tuple[int, bytes]:
    """Run the installed command with stdout and stderr on a pseudo-terminal; with
    ``interrupt_on``, press Ctrl-C (SIGINT) as soon as the terminal shows it."""
    main, secondary = pty.openpty()
    proc = subprocess.Popen(
        [MODELGATE, *args],
        cwd=repo.root,
        stdout=secondary,
        stderr=secondary,
        env={**os.environ, "NO_COLOR": "1", "COLUMNS": "100", "LINES": "24"},
    )
    os.close(secondary)
    output = b""
    while True:
        ready, _, _ = select.select([main], [], [], 120)
        if not ready:
            proc.kill()
            break
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the other side closed: the command has ended
            break
        if not chunk:
            break
        output += chunk
        if interrupt_on is not None and interrupt_on in output:
            proc.send_signal(signal.SIGINT)
            interrupt_on = None
    os.close(main)
    return proc.wait(timeout=120), output


def test_a_big_artifact_shows_a_bar_on_a_terminal(repo: Repo) -> None:
    _sparse_artifact(repo, GiB + (1 << 20))
    code, output = _run_on_a_terminal(repo, "check", "--no-cache")
    assert code == 0, output.decode(errors="replace")
    assert b"hashing model.bin" in output


def test_ctrl_c_clears_the_bar_and_exits_2(repo: Repo) -> None:
    """Ctrl-C while a bar is shown: what the terminal shows afterwards (the output played
    into a terminal emulator) has no bar left standing and its cursor back, and the command
    says it was interrupted and exits 2."""
    size = 6 * GiB  # seconds of hashing: the interrupt comes while the bar is up
    repo.manifest("m", artifacts=[{"path": "model.bin", "sha256": "0" * 64, "size": size}])
    with open(repo.root / "m" / "model.bin", "wb") as out:
        out.truncate(size)
    code, output = _run_on_a_terminal(repo, "check", "--no-cache", interrupt_on=b"hashing model.bin")
    assert code == 2, output.decode(errors="replace")
    screen = pyte.Screen(100, 24)
    pyte.ByteStream(screen).feed(output)
    shown = [line.rstrip() for line in screen.display if line.strip()]
    assert shown == ["modelgate: interrupted"], shown
    assert not screen.cursor.hidden


def test_no_bar_in_a_log(repo: Repo) -> None:
    _sparse_artifact(repo, GiB + (1 << 20))
    proc = repo.run("check", "--no-cache")
    assert proc.returncode == 0, proc.stdout
    assert "hashing model.bin" not in proc.stdout + proc.stderr


def test_small_files_get_no_bar_and_big_ones_move_in_steps() -> None:
    bars = ProgressBars()
    assert bars("small.bin", BIG - 1) is None
    advance = bars("big.bin", BIG)
    assert advance is not None
    try:
        task = bars._bars.tasks[0]
        for _ in range(STEP // (256 << 10) - 1):
            advance(256 << 10)
        assert task.completed == 0  # not redrawn for every buffer
        advance(256 << 10)
        assert task.completed == STEP
    finally:
        bars.close()
