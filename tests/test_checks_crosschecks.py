"""MG210-MG212: the manifest agrees with what DVC and MLflow really recorded."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from modelgate.cli import main
from modelgate.hashing.digest import Hasher
from tests.conftest import Repo, check_in_process
from tests.interop_tools import copy_into, dvc_project, mlflow_store

POLICY = """\
apiVersion: modelgate/v1
kind: Policy
name: interop
extends: [builtin:default]
rules:
  - {check: dvc-artifact}
  - {check: dvc-params}
  - {check: mlflow-model}
"""


@pytest.fixture(scope="session")
def dvc_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return dvc_project(tmp_path_factory)


@pytest.fixture(scope="session")
def mlflow_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    return mlflow_store(tmp_path_factory)


def _init(repo: Repo, *args: str) -> None:
    old = os.getcwd()
    os.chdir(repo.root)
    try:
        assert main(["init", *args, "--owner", "@acme/ml"]) == 0
    finally:
        os.chdir(old)


@pytest.fixture
def dvc_repo(repo: Repo, dvc_files: Path) -> Repo:
    copy_into(dvc_files, repo.root)
    repo.write(".modelgate.yaml", "policies: [policy.yaml]\n")
    repo.write("policy.yaml", POLICY)
    _init(repo, "model.pkl", "data.bin", "--name", "churn", "--version", "1.0.0", "--from-dvc", "dvc.lock")
    return repo


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (old, text)
    path.write_text(text.replace(old, new))


def test_dvc_files_agree(dvc_repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    report = check_in_process(dvc_repo, capsys=capsys)
    assert report.code == 0, report.out
    assert report.outcomes("dvc-artifact") == ["passed"]
    assert report.outcomes("dvc-params") == ["passed"]
    assert report.outcomes("mlflow-model") == ["skipped"]


def test_new_bytes_that_dvc_did_not_record_fail(dvc_repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    (dvc_repo.root / "model.pkl").write_bytes(b"retrained by hand")
    assert main(["hash", "--update", str(dvc_repo.root / "modelgate.yaml")]) == 0
    report = check_in_process(dvc_repo, capsys=capsys)
    md5 = hashlib.md5(b"retrained by hand").hexdigest()
    recorded = hashlib.md5(b"trained weights\r\n").hexdigest()  # what train.py wrote and dvc repro recorded
    assert report.messages("dvc-artifact") == [
        f"model.pkl: dvc.lock:train records md5 {recorded}, the file has md5 {md5}"
    ]
    assert report.result("dvc-artifact")["location"]["line"] > 1
    # The manifest pins bytes DVC cannot give back: artifact-hash fails too, as it would in
    # a clone without `dvc pull`, where DVC's record is all there is.
    assert report.messages("artifact-hash") == [
        f"model.pkl: dvc.lock:train records md5 {recorded}, manifest says {md5}"
    ]


def test_sizes_and_legacy_md5s(dvc_repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    dvcfile = dvc_repo.root / "data.bin.dvc"
    _replace(dvcfile, "size: 9", "size: 10")
    _replace(dvcfile, "  hash: md5\n", "")
    _replace(dvcfile, "md5: ", "md5: 0")
    messages = check_in_process(dvc_repo, capsys=capsys).messages("dvc-artifact")
    assert messages[0] == "data.bin: data.bin.dvc records size 10, manifest says 9"
    assert messages[1].startswith("data.bin: data.bin.dvc records md5 0")
    assert messages[1].endswith(
        "(written by DVC 2, which hashed text files with CRLF as LF: `dvc commit` with DVC 3 rewrites it)"
    )


def test_params_that_differ_from_dvc_lock_fail(dvc_repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = dvc_repo.root / "modelgate.yaml"
    _replace(manifest, "lr: 0.05", "lr: 0.1")
    _replace(manifest, "seed: 0.001\n", "")
    report = check_in_process(dvc_repo, capsys=capsys)
    assert report.code == 1
    assert report.messages("dvc-params") == [
        "lineage.params has no 'seed'; dvc.lock:train records 0.001",
        "lineage.params.train.lr is 0.1; dvc.lock:train records 0.05",
    ]


def test_untracked_artifacts(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write(".modelgate.yaml", "policies: [policy.yaml]\n")
    repo.write("policy.yaml", POLICY)
    repo.manifest("m")
    report = check_in_process(repo, capsys=capsys)
    assert report.outcomes("dvc-artifact") == ["skipped"]
    assert report.outcomes("dvc-params") == ["skipped"]
    repo.write("policy.yaml", POLICY.replace("{check: dvc-artifact}", "{check: dvc-artifact, with: {required: true}}"))
    report = check_in_process(repo, capsys=capsys)
    assert report.messages("dvc-artifact") == ["model.bin is not tracked by DVC (no .dvc file, no dvc.lock out)"]


def test_an_unreadable_dvc_lock_fails_the_check_not_the_run(dvc_repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    (dvc_repo.root / "dvc.lock").write_text("schema: '2.0'\nstages: &s {}\nx: *s\n")
    report = check_in_process(dvc_repo, capsys=capsys)
    assert report.code == 1
    assert report.outcomes("dvc-artifact") == ["failed"]
    assert "anchor &s is not allowed" in report.messages("dvc-artifact")[0]


def test_md5_comes_from_the_same_read_as_sha256(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * 100_000)
    hasher = Hasher()
    hasher.md5_paths.add(str(path))
    first = hasher.digest(str(path))
    assert first.md5 == hashlib.md5(b"x" * 100_000).hexdigest()
    assert hasher.digest(str(path), md5=True) is first and hasher.hashed == 1
    plain = Hasher()
    assert plain.digest(str(path)).md5 is None  # md5 only when asked for
    assert plain.digest(str(path), md5=True).md5 == first.md5 and plain.hashed == 2


@pytest.fixture
def mlflow_repo(repo: Repo, mlflow_files: tuple[Path, str]) -> Repo:
    store, run_id = mlflow_files
    copy_into(store / "mlruns", repo.root / "mlruns")
    model = next((repo.root / "mlruns/0/models").iterdir()) / "artifacts"
    copy_into(model, repo.root / "model")
    repo.write(".modelgate.yaml", "policies: [policy.yaml]\n")
    repo.write("policy.yaml", POLICY)
    _init(repo, "model", "--name", "fraud", "--version", "1.0.0", "--from-mlflow", f"mlruns/0/{run_id}")
    return repo


def test_the_mlmodel_agrees(mlflow_repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    report = check_in_process(mlflow_repo, capsys=capsys)
    assert report.outcomes("mlflow-model") == ["passed"], report.out


def test_a_different_signature_or_run_fails(
    mlflow_repo: Repo, mlflow_files: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    _store, run_id = mlflow_files
    manifest = mlflow_repo.root / "model/modelgate.yaml"
    _replace(manifest, "{name: country, type: string}", "{name: country, type: int64}")
    _replace(manifest, run_id, "f" * 32)
    messages = check_in_process(mlflow_repo, capsys=capsys).messages("mlflow-model")
    assert messages == [
        f"lineage.run is mlflow {'f' * 32}; MLmodel was logged by MLflow run {run_id}",
        "signature.inputs differs from MLmodel, which declares amount: float64, country: string",
    ]
