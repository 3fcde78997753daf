"""A git command begun in the background: its answer is the foreground's, and one that is
never asked for is stopped."""

from __future__ import annotations

from modelgate.git.background import Background
from tests.conftest import Repo


def test_the_answer_is_what_running_it_then_gives(repo: Repo) -> None:
    repo.write("f.txt", "x\n")
    sha = repo.commit("c")
    command = ["git", "-C", str(repo.root), "rev-parse", "HEAD"]
    found = Background(command).result()
    assert found is not None
    code, out, err = found
    assert (code, out.decode().strip(), err) == (0, sha, b"")
    failed = Background(["git", "-C", str(repo.root), "rev-parse", "--verify", "nope"]).result()
    assert failed is not None and failed[0] != 0


def test_a_command_that_cannot_start_is_left_to_the_foreground(repo: Repo) -> None:
    assert Background(["/nonexistent/git"]).result() is None


def test_a_command_stopped_before_its_answer_is_killed() -> None:
    started = Background(["sleep", "30"])
    proc = started._proc
    started.stop()
    assert proc is not None and proc.poll() is not None
