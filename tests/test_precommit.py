"""The pre-commit hook, with the real pre-commit framework: `pre-commit try-repo`, and
`pre-commit run` (and a real `git push`) with a config naming a snapshot of this
repository, build the hook's environment from it and run it on a scratch repository.

The hook gates what pre-commit hands it: a tampered artifact committed with `--no-verify`
is caught by `--all-files`, by `--from-ref/--to-ref` and on pre-push, although nothing
differs from HEAD any more."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, Repo, copy_checkout

PRE_COMMIT = os.path.join(os.path.dirname(sys.executable), "pre-commit")


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Shared by the tests here: the hook environment is built once.
    return tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This repository's work tree as pre-commit would clone it once committed."""
    target = tmp_path_factory.mktemp("hook-repo")
    copy_checkout(target)
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "snapshot"]):
        subprocess.run(["git", *args], cwd=target, check=True, capture_output=True)
    return target


def try_repo(repo: Repo, home: Path, hooks: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PRE_COMMIT, "try-repo", str(hooks), "modelgate", "--verbose"],
        cwd=repo.root,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PRE_COMMIT_HOME": str(home)},
    )


def test_manifest_is_valid_for_pre_commit() -> None:
    proc = subprocess.run(
        [PRE_COMMIT, "validate-manifest", str(REPO / ".pre-commit-hooks.yaml")], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_hook_passes_on_a_good_manifest_and_fails_on_a_tampered_artifact(
    repo: Repo, pre_commit_home: Path, hook_repo: Path
) -> None:
    repo.manifest("m")
    repo.commit("good model")
    repo.write("m/modelgate.yaml", (repo.root / "m" / "modelgate.yaml").read_text().replace('"none"', '"rejected"'))
    repo.git("add", "-A")
    good = try_repo(repo, pre_commit_home, hook_repo)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "modelgate" in good.stdout and "Passed" in good.stdout

    (repo.root / "m" / "model.bin").write_bytes(b"tampered weights")
    repo.git("add", "-A")
    bad = try_repo(repo, pre_commit_home, hook_repo)
    assert bad.returncode == 1
    assert "Failed" in bad.stdout
    assert "MG102 artifact-hash" in bad.stdout and "m/modelgate.yaml:13:7" in bad.stdout


def hook_rev(hooks: Path) -> str:
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=hooks, capture_output=True, text=True, check=True
    ).stdout.strip()


def configure(repo: Repo, hooks: Path) -> None:
    """A .pre-commit-config.yaml using the hook at ``hooks``, staged. Unlike try-repo, whose
    store is thrown away each time, ``pre-commit run`` keeps the hook's environment in
    PRE_COMMIT_HOME: the tests below build it once."""
    repo.write(
        ".pre-commit-config.yaml",
        f"repos:\n  - repo: {hooks}\n    rev: {hook_rev(hooks)}\n    hooks: [{{id: modelgate}}]\n",
    )
    repo.git("add", ".pre-commit-config.yaml")


def run_hook(repo: Repo, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PRE_COMMIT, "run", "modelgate", "--verbose", *args],
        cwd=repo.root,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PRE_COMMIT_HOME": str(home)},
    )


def tampered_past_the_hook(repo: Repo, hooks: Path) -> tuple[str, str]:
    """A good model committed, then a tampered artifact committed with ``--no-verify``;
    returns both commits."""
    configure(repo, hooks)
    repo.manifest("m")
    repo.write("README.md", "models\n")
    good = repo.commit("good model")
    (repo.root / "m" / "model.bin").write_bytes(b"tampered weights")
    repo.git("add", "-A")
    repo.git("commit", "-q", "--no-verify", "-m", "tampered")
    return good, repo.git("rev-parse", "HEAD")


def test_all_files_catches_an_artifact_committed_past_the_hook(
    repo: Repo, pre_commit_home: Path, hook_repo: Path
) -> None:
    tampered_past_the_hook(repo, hook_repo)
    proc = run_hook(repo, pre_commit_home, "--all-files")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "MG102 artifact-hash" in proc.stdout


def test_from_ref_to_ref_catches_an_artifact_committed_past_the_hook(
    repo: Repo, pre_commit_home: Path, hook_repo: Path
) -> None:
    good, bad = tampered_past_the_hook(repo, hook_repo)
    proc = run_hook(repo, pre_commit_home, "--from-ref", good, "--to-ref", bad)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "MG102 artifact-hash" in proc.stdout
    # A range that deletes the artifact: pre-commit hands over no file of it.
    repo.git("rm", "-q", "m/model.bin")
    repo.git("commit", "-q", "--no-verify", "-m", "artifact deleted")
    proc = run_hook(repo, pre_commit_home, "--from-ref", bad, "--to-ref", "HEAD")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "MG102 artifact-hash" in proc.stdout


def test_pre_push_stops_an_artifact_committed_past_the_hook(
    repo: Repo, pre_commit_home: Path, hook_repo: Path, tmp_path: Path
) -> None:
    env = {**os.environ, "PRE_COMMIT_HOME": str(pre_commit_home)}
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    repo.git("remote", "add", "origin", str(remote))
    configure(repo, hook_repo)
    repo.manifest("m")
    good = repo.commit("good model")
    subprocess.run([PRE_COMMIT, "install", "-t", "pre-push"], cwd=repo.root, env=env, check=True, capture_output=True)

    def push() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["git", "push", "origin", "main"], cwd=repo.root, env=env, capture_output=True, text=True, timeout=600
        )

    first = push()
    assert first.returncode == 0, first.stdout + first.stderr
    (repo.root / "m" / "model.bin").write_bytes(b"tampered weights")
    repo.git("add", "-A")
    repo.git("commit", "-q", "--no-verify", "-m", "tampered")
    second = push()
    assert second.returncode != 0, second.stdout + second.stderr
    assert "MG102 artifact-hash" in second.stdout + second.stderr
    remote_main = subprocess.run(
        ["git", "rev-parse", "main"], cwd=remote, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert remote_main == good  # the tampered commit never arrived


def test_a_commit_that_deletes_or_renames_an_artifact_is_caught(
    repo: Repo, pre_commit_home: Path, hook_repo: Path
) -> None:
    configure(repo, hook_repo)
    repo.manifest("m")
    repo.commit("good model")
    repo.git("rm", "-q", "m/model.bin")  # pre-commit has no file to hand over
    proc = run_hook(repo, pre_commit_home)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "MG102 artifact-hash" in proc.stdout
    repo.git("reset", "-q", "--hard")
    repo.git("mv", "m/model.bin", "m/weights.bin")  # pre-commit hands over only the new path
    proc = run_hook(repo, pre_commit_home)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "MG102 artifact-hash" in proc.stdout
    repo.git("reset", "-q", "--hard")
    repo.write("notes.txt", "unrelated\n")
    repo.write("draft/modelgate.yaml", "not yet a manifest\n")  # untracked, not in this commit
    repo.git("add", "notes.txt")
    proc = run_hook(repo, pre_commit_home)
    assert proc.returncode == 0, proc.stdout + proc.stderr
