"""The pre-commit hook, with the real pre-commit framework: `pre-commit try-repo` builds
the hook's environment from this repository, then runs it on a scratch repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, Repo

PRE_COMMIT = os.path.join(os.path.dirname(sys.executable), "pre-commit")


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Shared by the tests here: the hook environment is built once.
    return tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This repository's work tree as pre-commit would clone it once committed."""
    target = tmp_path_factory.mktemp("hook-repo")
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                           cwd=REPO, capture_output=True, check=True).stdout.decode().split("\0")
    for rel in filter(None, files):
        source = REPO / rel
        if source.is_file():
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / rel)
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "snapshot"]):
        subprocess.run(["git", *args], cwd=target, check=True, capture_output=True)
    return target


def try_repo(repo: Repo, home: Path, hooks: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PRE_COMMIT, "try-repo", str(hooks), "modelgate", "--verbose"],
        cwd=repo.root, capture_output=True, text=True, timeout=600,
        env={**os.environ, "PRE_COMMIT_HOME": str(home)},
    )


def test_manifest_is_valid_for_pre_commit() -> None:
    proc = subprocess.run([PRE_COMMIT, "validate-manifest", str(REPO / ".pre-commit-hooks.yaml")],
                          capture_output=True, text=True)
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
