"""GitRepo: ref verification, merge-bases, shallow clones, trees, blobs and log walks, on
real repositories."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from modelgate.errors import GitError
from modelgate.git.repo import ZERO, GitRepo
from tests.conftest import MODELGATE, Repo, commands_in_messages


def linear(repo: Repo, n: int) -> list[str]:
    """``n`` commits, each writing ``f.txt`` = its number."""
    shas = []
    for i in range(n):
        repo.write("f.txt", f"{i}\n")
        shas.append(repo.commit(f"c{i}", f"2026-01-0{i + 1}T00:00:00Z"))
    return shas


def test_at_is_a_repository_only_at_a_work_tree_top(repo: Repo, tmp_path: Path) -> None:
    found = GitRepo.at(str(repo.root))
    assert found is not None and found.root == str(repo.root)
    assert GitRepo.at(str(tmp_path)) is None


def test_verify_returns_the_full_sha_of_a_commit(repo: Repo) -> None:
    [sha] = linear(repo, 1)
    repo.git("tag", "-a", "v1", "-m", "annotated")
    git = GitRepo(str(repo.root))
    assert git.verify("main") == sha
    assert git.verify(sha[:7]) == sha
    assert git.verify("v1") == sha  # an annotated tag peels to its commit
    assert git.head() == sha


@pytest.mark.parametrize("ref", ["--output=/tmp/modelgate-verify", "-h", "nope", "HEAD:f.txt", "a..b", ""])
def test_verify_rejects_what_is_not_a_commit(repo: Repo, ref: str) -> None:
    linear(repo, 1)
    with pytest.raises(GitError, match=r"is not a commit in this repository; check the name, or `git fetch` it$"):
        GitRepo(str(repo.root)).verify(ref)
    assert not os.path.exists("/tmp/modelgate-verify")


def test_verify_shows_control_characters_escaped(repo: Repo) -> None:
    linear(repo, 1)
    with pytest.raises(GitError) as caught:
        GitRepo(str(repo.root)).verify("\x1b[2Jx\n")
    assert str(caught.value) == (
        "base '\\\\x1b[2Jx\\\\n' is not a commit in this repository; check the name, or `git fetch` it"
    )


def test_head_is_the_commit_the_run_found(repo: Repo) -> None:
    """A run names one commit everywhere (base, approvals, report): HEAD is asked once."""
    first, _ = linear(repo, 2)
    repo.git("checkout", "-q", "--detach", first)
    git = GitRepo(str(repo.root))
    assert git.head() == first
    repo.git("checkout", "-q", "main")
    assert git.head() == first
    assert GitRepo(str(repo.root)).head() != first


def test_head_of_an_empty_repository_is_none(repo: Repo) -> None:
    git = GitRepo(str(repo.root))
    assert git.head() is None
    assert git.current_branch() == "main"


def test_merge_base_is_where_the_branch_left_main(repo: Repo) -> None:
    fork = linear(repo, 2)[0]
    repo.git("checkout", "-q", "-b", "feature", fork)
    repo.write("g.txt", "feature\n")
    tip = repo.commit("feature work")
    git = GitRepo(str(repo.root))
    assert git.merge_base(git.verify("main"), tip) == fork
    assert git.is_ancestor(fork, tip)
    assert not git.is_ancestor(git.verify("main"), tip)


def test_unrelated_histories_have_no_merge_base(repo: Repo) -> None:
    linear(repo, 1)
    repo.git("checkout", "-q", "--orphan", "other")
    repo.write("g.txt", "x\n")
    other = repo.commit("orphan")
    git = GitRepo(str(repo.root))
    with pytest.raises(GitError, match="share no history"):
        git.merge_base(git.verify("main"), other)


def test_shallow_clone_names_the_fix(repo: Repo, tmp_path: Path) -> None:
    first, second = linear(repo, 2)
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repo.root}", str(clone)], check=True)
    git = GitRepo(str(clone))
    assert git.is_shallow()
    assert git.verify("HEAD") == second
    with pytest.raises(GitError) as caught:
        git.verify(first)
    assert str(caught.value) == (
        f"base '{first}' is not in this shallow clone; fetch the history it needs: `git fetch --unshallow`"
        f" (actions/checkout: `fetch-depth: 0`), or `git fetch origin {first}`"
    )
    assert not git.has_commit(first)
    assert not GitRepo(str(repo.root)).is_shallow()


def test_tree_lists_files_and_blobs_come_through_one_cat_file_process(repo: Repo) -> None:
    repo.write("a.txt", "alpha\n")
    repo.write("dir/b.txt", "beta\n")
    repo.write("dir/sub/c.txt", "gamma\n")
    commit = repo.commit("files")
    repo.write("a.txt", "changed in the work tree\n")
    git = GitRepo(str(repo.root))
    try:
        files = git.tree(commit)
        assert sorted(files) == ["a.txt", "dir/b.txt", "dir/sub/c.txt"]
        assert [git.blob(files[p]) for p in sorted(files)] == [b"alpha\n", b"beta\n", b"gamma\n"]
        if os.path.isdir("/proc/self/task"):
            assert _cat_file_children() == 1
    finally:
        git.close()
    if os.path.isdir("/proc/self/task"):
        assert _cat_file_children() == 0


def _cat_file_children() -> int:
    """How many ``git cat-file --batch`` processes this test process has started and not reaped."""
    me, count = os.getpid(), 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if ppid == me and b"cat-file" in argv and b"--batch" in argv:
            count += 1
    return count


def test_a_missing_blob_is_a_git_error(repo: Repo) -> None:
    linear(repo, 1)
    git = GitRepo(str(repo.root))
    try:
        with pytest.raises(GitError, match="cannot read blob 1111111111111111111111111111111111111111"):
            git.blob("1" * 40)
    finally:
        git.close()


def test_changes_walks_history_oldest_first(repo: Repo) -> None:
    repo.write("m/modelgate.yaml", "one\n")
    repo.write("other.txt", "x\n")
    first = repo.commit("add", "2026-01-01T00:00:00Z", "Ana <ana@acme.io>")
    repo.write("m/modelgate.yaml", "two\n")
    second = repo.commit("edit", "2026-01-02T00:00:00Z", "Bo <bo@acme.io>")
    (repo.root / "m" / "modelgate.yaml").unlink()
    third = repo.commit("drop", "2026-01-03T00:00:00Z")
    git = GitRepo(str(repo.root))
    found = list(git.changes("HEAD", [":(glob)**/modelgate.yaml"]))
    assert [(c.commit, c.author, c.path, c.status) for c in found] == [
        (first, "Ana <ana@acme.io>", "m/modelgate.yaml", "A"),
        (second, "Bo <bo@acme.io>", "m/modelgate.yaml", "M"),
        (third, "Test Author <author@example.com>", "m/modelgate.yaml", "D"),
    ]
    assert found[0].timestamp == 1767225600
    try:
        assert git.blob(found[1].blob) == b"two\n"
    finally:
        git.close()
    assert found[2].blob == ZERO


def test_changed_paths_against_a_commit_and_against_head(repo: Repo) -> None:
    repo.write("a.txt", "a\n")
    repo.write("b.txt", "b\n")
    repo.write(".gitignore", "ignored.txt\n")
    base = repo.commit("base")
    repo.write("a.txt", "edited and committed\n")
    repo.commit("edit a")
    repo.write("b.txt", "edited, not staged\n")
    repo.write("new.txt", "untracked\n")
    repo.write("ignored.txt", "ignored\n")
    git = GitRepo(str(repo.root))
    assert git.changed_paths(base) == {"a.txt", "b.txt", "new.txt"}
    assert git.changed_paths(None) == {"b.txt", "new.txt"}
    repo.git("add", "b.txt")
    assert git.changed_paths(None) == {"b.txt", "new.txt"}  # staged counts too


def test_changed_paths_name_both_sides_of_a_rename_deletions_and_the_index(repo: Repo) -> None:
    repo.write("a.txt", "a\n")
    repo.write("b.txt", "b\n")
    repo.write("c.txt", "c\n")
    base = repo.commit("base")
    repo.git("mv", "a.txt", "moved.txt")
    repo.git("rm", "-q", "b.txt")
    head = repo.commit("rename and delete")
    repo.write("c.txt", "edited, not committed\n")
    repo.write("new.txt", "untracked\n")
    git = GitRepo(str(repo.root))
    assert git.changed_paths(base) == {"a.txt", "moved.txt", "b.txt", "c.txt", "new.txt"}
    assert git.changed_paths(base, head) == {"a.txt", "moved.txt", "b.txt"}  # the commits only
    assert git.changed_paths(head, head) == set()
    (repo.root / "new.txt").unlink()
    repo.write("c.txt", "staged\n")
    repo.git("add", "c.txt")
    repo.write("c.txt", "c\n")  # the work tree undoes it; the commit would still carry it
    assert git.changed_paths(None) == {"c.txt"}


def test_list_files_includes_untracked_but_not_ignored(repo: Repo) -> None:
    repo.write(".gitignore", "*.tmp\n")
    repo.write("x/modelgate.yaml", "x\n")
    repo.commit("x")
    repo.write("y/modelgate.yaml", "y\n")
    repo.write("z/scratch.tmp", "z\n")
    assert GitRepo(str(repo.root)).list_files(["."]) == [".gitignore", "x/modelgate.yaml", "y/modelgate.yaml"]


def test_origin_and_common_dir(repo: Repo) -> None:
    linear(repo, 1)
    assert GitRepo(str(repo.root)).origin_url() is None
    repo.git("remote", "add", "origin", "https://github.com/acme/fraud.git")
    git = GitRepo(str(repo.root))
    assert git.origin_url() == "https://github.com/acme/fraud.git"
    assert git.common_dir() == str(repo.root / ".git")


def test_reaches_tells_ancestor_unrelated_and_missing_apart(repo: Repo) -> None:
    first, second = linear(repo, 2)
    repo.git("checkout", "-q", "-b", "side", first)
    repo.write("g.txt", "side\n")
    side = repo.commit("side")
    repo.git("checkout", "-q", "main")
    git = GitRepo(str(repo.root))
    assert [git.reaches(first), git.reaches(second), git.reaches(side), git.reaches("b" * 40)] == [
        True,
        True,
        False,
        None,
    ]
    assert git.reaches("--output=/tmp/x") is None


def test_a_failing_git_command_is_a_one_line_git_error(repo: Repo) -> None:
    linear(repo, 1)
    with pytest.raises(GitError, match=r"^git ls-tree failed: fatal: "):
        GitRepo(str(repo.root)).tree("1" * 40)


def test_a_blob_over_the_limit_gives_limit_plus_one_bytes_and_the_next_read_works(repo: Repo) -> None:
    repo.write("big", b"x" * 3_000_000)
    repo.write("small", b"small\n")
    commit = repo.commit("blobs")
    git = GitRepo(str(repo.root))
    try:
        files = git.tree(commit)
        assert git.blob(files["big"], limit=1000) == b"x" * 1001
        assert git.blob(files["small"], limit=1000) == b"small\n"  # the batch stream stayed in step
        assert len(git.blob(files["big"])) == 3_000_000
    finally:
        git.close()


def test_shallow_clone_with_the_base_but_not_the_fork_point_names_the_fix(repo: Repo, tmp_path: Path) -> None:
    linear(repo, 2)
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("g.txt", "feature\n")
    repo.commit("feature work")
    repo.git("checkout", "-q", "main")
    repo.write("f.txt", "main moves on\n")
    repo.commit("main moves on")
    clone = tmp_path / "clone"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", "--branch", "feature", f"file://{repo.root}", str(clone)], check=True
    )
    subprocess.run(
        ["git", "fetch", "-q", "--depth", "1", "origin", "main:refs/remotes/origin/main"], cwd=clone, check=True
    )
    git = GitRepo(str(clone))
    base = git.verify("origin/main")
    head = git.head()
    assert head is not None
    with pytest.raises(GitError) as caught:
        git.merge_base(base, head)
    assert str(caught.value) == (
        "no merge-base between the base and HEAD in this shallow clone; fetch more history:"
        " `git fetch --unshallow` (actions/checkout: `fetch-depth: 0`)"
    )


# -- the git commands messages suggest work when pasted ---------------------------------


def _suggested(text: str) -> list[str]:
    return re.findall(r"`(git [^`]*)`", text)


def _upstream_and_shallow_clone(repo: Repo, tmp_path: Path) -> tuple[dict[str, str], Path]:
    """An upstream with main, a branch and an annotated tag, and the depth-1, single-branch
    clone of main that actions/checkout makes."""
    repo.manifest("m")
    first = repo.commit("one")
    repo.git("tag", "-a", "v1", "-m", "release")
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("feature.txt", "x")
    repo.commit("feature")
    repo.git("checkout", "-q", "main")
    repo.write("f.txt", "2")
    second = repo.commit("two")
    repo.write("f.txt", "3")
    repo.commit("three")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "1", "--no-tags", f"file://{repo.root}", str(clone)], check=True)
    return {"first": first, "second": second}, clone


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("base", ["sha", "origin/feature", "feature", "v1", "HEAD~2"])
def test_every_git_command_a_shallow_clone_message_suggests_is_accepted(repo: Repo, tmp_path: Path, base: str) -> None:
    """`check --base B` in a shallow clone that lacks B: each git command the message
    suggests, pasted into a copy of the clone, is accepted by git; following the last one (and
    comparing with the name the message says to use) leads, within a few rounds, to a run
    that is no longer a usage error."""
    commits, clone = _upstream_and_shallow_clone(repo, tmp_path)
    base = commits["second"] if base == "sha" else base
    for attempt in range(4):
        proc = _run(MODELGATE, "check", "--base", base, cwd=clone)
        if proc.returncode != 4:
            break
        commands = _suggested(proc.stderr)
        assert commands, proc.stderr
        for index, command in enumerate(commands):
            copy = tmp_path / f"try-{attempt}-{index}"
            shutil.copytree(clone, copy, symlinks=True)
            pasted = _run(*shlex.split(command), cwd=copy)
            assert pasted.returncode == 0, f"{command!r} from {proc.stderr!r}: {pasted.stderr}"
        assert _run(*shlex.split(commands[-1]), cwd=clone).returncode == 0
        then = re.search(r"then compare with `([^`]+)`", proc.stderr)
        base = then.group(1) if then else base
    assert proc.returncode in (0, 1), proc.stderr


def test_the_shallow_clone_message_names_the_refspec_git_needs(repo: Repo, tmp_path: Path) -> None:
    """What broke before: `git fetch origin origin/main`, which git refuses (there is no
    remote ref `origin/main`); a single-branch clone's `git fetch origin feature` updates no
    `origin/feature` either."""
    _commits, clone = _upstream_and_shallow_clone(repo, tmp_path)
    git = GitRepo(str(clone))
    with pytest.raises(GitError) as caught:
        git.verify("origin/feature")
    assert str(caught.value) == (
        "base 'origin/feature' is not in this shallow clone; fetch it:"
        " `git fetch origin refs/heads/feature:refs/remotes/origin/feature`"
    )
    assert git.fetch_command("feature") == ("git fetch origin feature:refs/remotes/origin/feature", "origin/feature")
    # Nothing a shell would read differently, nothing git would read as an option, nothing
    # that is no ref name: such a ref gets no fetch to paste.
    for ref in ("-x", "a b", "$(id)", "a..b", "HEAD~2", "main@{u}", "origin"):
        assert git.fetch_command(ref) is None, ref


# The fixed commands messages suggest; commands with a ref in them are made by
# GitRepo.fetch_command and run by the test above.
NEEDS_LFS = {"git lfs pull", "git lfs track"}
# `git config user.email`: init names where an owner it took came from (read, where one is set).
FIXED = {"git fetch --unshallow", "git fetch", "git config user.email", *NEEDS_LFS}


def test_every_fixed_git_command_in_a_message_is_accepted(repo: Repo, tmp_path: Path) -> None:
    found = commands_in_messages("git")
    assert set(found) == FIXED, f"a message suggests a git command this test does not run: {found}"
    _commits, clone = _upstream_and_shallow_clone(repo, tmp_path)
    subprocess.run(["git", "config", "user.email", "ana@acme.io"], cwd=clone, check=True)
    for command in sorted(FIXED):
        if command in NEEDS_LFS and shutil.which("git-lfs") is None:
            continue  # git-lfs is not installed here (CI installs it)
        pasted = _run(*shlex.split(command), cwd=clone)
        assert pasted.returncode == 0, f"{command!r} ({found[command]}): {pasted.stderr}"


def test_close_stops_a_started_command_another_thread_is_waiting_on(repo: Repo) -> None:
    """A run's reader thread may be waiting on what :meth:`GitRepo.start` began (the
    history's log) when the run ends: closing stops it rather than waiting for it."""
    import threading

    from modelgate.git.background import Background

    repo.write("f.txt", "x\n")
    repo.commit("c")
    git = GitRepo(str(repo.root))
    args = ("log", "--format=%H")
    git._started[args] = Background(["sleep", "60"])  # a question git takes long to answer
    raised: list[BaseException] = []

    def wait() -> None:
        try:
            git.run(*args)
        except GitError as exc:
            raised.append(exc)

    waiting = threading.Thread(target=wait)
    waiting.start()
    git.close()
    waiting.join(timeout=30)
    assert not waiting.is_alive()
    assert raised, "the stopped command's answer is a failure, never the output of a command that did not finish"


def test_a_history_begun_from_another_folder_is_adopted_and_read_once(repo: Repo) -> None:
    """``check --base REF`` begins REF's history log before it knows the repository's top
    folder; the run's repository adopts that log and reads it rather than asking again."""
    from modelgate.git.log import log_arguments

    shas = linear(repo, 2)
    (repo.root / "sub").mkdir()
    ahead = GitRepo(str(repo.root / "sub"))
    ahead.begin_history("main")
    args = tuple(log_arguments(shas[-1], []))
    assert list(ahead._started) == [args]
    git = GitRepo(str(repo.root))
    git.adopt(ahead)
    assert ahead._started == {} and list(git._started) == [args]
    changes = list(git.changes(shas[-1], []))
    assert git._started == {}  # its answer was taken, not asked again
    assert changes == list(GitRepo(str(repo.root)).changes(shas[-1], []))
    assert [c.commit for c in changes] == shas


def test_nothing_is_begun_for_a_base_that_is_no_commit(repo: Repo, tmp_path: Path) -> None:
    linear(repo, 1)
    for where, ref in ((repo.root, "no-such-branch"), (repo.root, "--all"), (tmp_path, "main")):
        ahead = GitRepo(str(where))
        ahead.begin_history(ref)
        assert ahead._started == {}


def test_what_both_began_is_asked_once(repo: Repo) -> None:
    from modelgate.git.background import Background

    linear(repo, 1)
    git, other = GitRepo(str(repo.root)), GitRepo(str(repo.root))
    git.start("rev-parse", "HEAD")
    mine = git._started[("rev-parse", "HEAD")]
    other._started[("rev-parse", "HEAD")] = theirs = Background(["sleep", "60"])
    git.adopt(other)
    assert git._started == {("rev-parse", "HEAD"): mine}
    assert theirs._proc is not None and theirs._proc.poll() is not None  # stopped, not left running
