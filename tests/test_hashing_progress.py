"""Progress bars: on a terminal, for artifacts over 1 GiB; never in logs or for small files."""

from __future__ import annotations

import hashlib
import os
import pty
import select
import subprocess

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


def _run_on_a_terminal(repo: Repo, *args: str) -> tuple[int, bytes]:
    """Run the installed command with stdout and stderr on a pseudo-terminal."""
    main, secondary = pty.openpty()
    proc = subprocess.Popen([MODELGATE, *args], cwd=repo.root, stdout=secondary, stderr=secondary,
                            env={**os.environ, "NO_COLOR": "1", "COLUMNS": "100"})
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
    os.close(main)
    return proc.wait(timeout=120), output


def test_a_big_artifact_shows_a_bar_on_a_terminal(repo: Repo) -> None:
    _sparse_artifact(repo, GiB + (1 << 20))
    code, output = _run_on_a_terminal(repo, "check", "--no-cache")
    assert code == 0, output.decode(errors="replace")
    assert b"hashing model.bin" in output


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
