"""``modelgate init``: from a trained model file to a passing manifest; imports from the
files MLflow, DVC and huggingface_hub really write."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from modelgate.datamodel.strictyaml import parse
from tests.conftest import Repo, sha256
from tests.interop_tools import copy_into, dvc_project, mlflow_store


@pytest.fixture(scope="session")
def dvc_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return dvc_project(tmp_path_factory)


@pytest.fixture(scope="session")
def mlflow_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    return mlflow_store(tmp_path_factory)


def _manifest(repo: Repo, rel: str) -> dict:  # type: ignore[type-arg]
    data = parse((repo.root / rel).read_bytes(), rel).data
    assert isinstance(data, dict)
    return data


def test_one_init_and_one_check_give_a_passing_manifest(repo: Repo) -> None:
    repo.write(".github/CODEOWNERS", "*  @acme/ml\n/models/fraud/  @acme/fraud ana@acme.io\n")
    weights = b"\x00trained weights\x01" * 1000
    repo.write("models/fraud/model.onnx", weights)
    head = repo.commit("train")

    init = repo.run("init", "models/fraud/model.onnx", "--name", "fraud-detector", "--version", "1.0.0")
    assert init.returncode == 0, init.stderr
    assert init.stdout == (
        "wrote models/fraud/modelgate.yaml: fraud-detector@1.0.0, stage none, 1 artifact (17000 bytes)\n"
        "next: review it, then `modelgate check models/fraud/modelgate.yaml`\n"
    )
    data = _manifest(repo, "models/fraud/modelgate.yaml")
    assert data["owners"] == ["@acme/fraud", "ana@acme.io"]  # the last matching CODEOWNERS line
    assert data["artifacts"] == [{"path": "model.onnx", "sha256": sha256(weights), "size": len(weights)}]
    assert data["lineage"] == {"code": {"commit": head}}

    check = repo.run("check")
    assert check.returncode == 0, check.stdout
    assert "models/fraud/modelgate.yaml" in check.stdout and " 0 failed" in check.stdout


def _readme_init_example() -> tuple[list[str], str]:
    """The commands of README's "From a trained model to production" and the output it shows."""
    import re

    from tests.conftest import REPO

    section = (REPO / "README.md").read_text().split("## From a trained model to production", 1)[1]
    commands = re.search(r"```bash\n(.+?)\n```", section, re.S)
    shown = re.search(r"```text\n(.+?)\n```", section, re.S)
    assert commands and shown
    return commands.group(1).splitlines(), shown.group(1)


def test_the_readme_init_example_runs_as_written_in_a_fresh_repository(repo: Repo) -> None:
    """A fresh repository with nothing but the model file and the user's git identity: the
    README's commands, run as written, print what the README shows and pass."""
    import re
    import shlex

    from tests.conftest import MODELGATE

    commands, shown = _readme_init_example()
    repo.git("config", "user.email", "ana@acme.io")
    repo.write("models/fraud-detector/model.onnx", bytes(1048576))
    out = ""
    for command in commands:
        argv = shlex.split(command)
        assert argv[0] == "modelgate"
        proc = subprocess.run([MODELGATE, *argv[1:]], cwd=repo.root, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        out += proc.stdout
    assert re.sub(r" in \d+\.\d+s ", " in 0.00s ", out.rstrip("\n")) == re.sub(r" in \d+\.\d+s ", " in 0.00s ", shown)
    text = (repo.root / "models/fraud-detector/modelgate.yaml").read_text()
    assert '\nversion: "1.0.0"\n' in text and '\nowners: ["ana@acme.io"]\n' in text


def test_owners_come_from_codeowners_when_there_is_one(repo: Repo) -> None:
    """The git email is a fallback for a repository that names no owners at all: where
    CODEOWNERS exists but owns nothing here, init asks instead of guessing beside it."""
    repo.git("config", "user.email", "ana@acme.io")
    repo.write(".github/CODEOWNERS", "/docs/  @acme/writers\n")
    repo.write("models/fraud/model.onnx", b"w")
    proc = repo.run("init", "models/fraud/model.onnx", "--name", "fraud-detector", "--version", "1.10.0")
    assert (proc.returncode, proc.stderr) == (
        4,
        "modelgate: error: .github/CODEOWNERS names no owner for"
        " models/fraud/modelgate.yaml: pass --owner @org/team (or an"
        " email), or add a line for it\n",
    )
    repo.write(".github/CODEOWNERS", "/docs/  @acme/writers\n/models/  @acme/ml\n")
    proc = repo.run("init", "models/fraud/model.onnx", "--name", "fraud-detector", "--version", "1.10.0")
    assert proc.returncode == 0 and "git config" not in proc.stdout
    data = _manifest(repo, "models/fraud/modelgate.yaml")
    assert (data["owners"], data["version"]) == (["@acme/ml"], "1.10.0")


def test_init_refuses_to_overwrite_without_force(repo: Repo) -> None:
    repo.write("m/model.bin", b"x")
    args = ("init", "m/model.bin", "--name", "m", "--version", "1.0.0", "--owner", "@acme/ml")
    assert repo.run(*args).returncode == 0
    again = repo.run(*args)
    assert again.returncode == 4
    assert again.stderr == "modelgate: error: m/modelgate.yaml exists; pass --force to overwrite it\n"
    assert repo.run(*args, "--force").returncode == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--name", "Fraud", "--version", "1.0.0", "--owner", "@a"), "--name 'Fraud': use lowercase"),
        (("--name", "f", "--version", "1.0", "--owner", "@a"), "--version '1.0': use a SemVer version"),
        (("--name", "f", "--version", "1.0.0"), "no owners: pass --owner @org/team"),
        (("--name", "f", "--version", "1.0.0", "--owner", "nobody"), "owner 'nobody' is not @user"),
    ],
)
def test_init_reports_bad_input_as_usage_errors(repo: Repo, args: tuple[str, ...], message: str) -> None:
    repo.write("m/model.bin", b"x")
    result = repo.run("init", "m/model.bin", *args)
    assert result.returncode == 4, result.stdout
    assert message in result.stderr
    assert not (repo.root / "m/modelgate.yaml").exists()


def test_a_folder_stands_for_its_files_and_artifacts_must_sit_below_the_manifest(repo: Repo) -> None:
    repo.write("m/model/weights.bin", b"w")
    repo.write("m/model/config.json", b"{}")
    repo.write("other/x.bin", b"x")
    ok = repo.run("init", "m/model", "--name", "m", "--version", "1.0.0", "--owner", "@a/b", "-o", "m")
    assert ok.returncode == 0, ok.stderr
    assert [a["path"] for a in _manifest(repo, "m/modelgate.yaml")["artifacts"]] == [
        "model/config.json",
        "model/weights.bin",
    ]
    outside = repo.run(
        "init", "other/x.bin", "--name", "m", "--version", "1.0.0", "--owner", "@a/b", "-o", "m/x.modelgate.yaml"
    )
    assert outside.returncode == 4
    assert "other/x.bin is not inside m; artifacts live at or below the manifest's folder" in outside.stderr


def test_init_from_an_mlflow_run(repo: Repo, mlflow_files: tuple[Path, str]) -> None:
    store, run_id = mlflow_files
    copy_into(store / "mlruns", repo.root / "mlruns")
    model_dir = next((repo.root / "mlruns/0/models").iterdir()) / "artifacts"
    rel = model_dir.relative_to(repo.root).as_posix()
    result = repo.run(
        "init",
        rel,
        "--name",
        "fraud-detector",
        "--version",
        "1.4.0",
        "--owner",
        "@acme/fraud",
        "--from-mlflow",
        f"mlruns/0/{run_id}",
    )
    assert result.returncode == 0, result.stderr
    assert f"  imported from mlruns/0/{run_id}\n" in result.stdout
    data = _manifest(repo, f"{rel}/modelgate.yaml")
    assert "MLmodel" in [a["path"] for a in data["artifacts"]]
    lineage = data["lineage"]
    assert lineage["run"] == {"tracker": "mlflow", "id": run_id}
    assert lineage["code"]["commit"] == "4b825dc642cb6eb9a060e54bf8d69288fbee4904"  # the run's tag, not HEAD
    assert lineage["params"] == {"early_stop": True, "learning_rate": 0.05, "n_estimators": 400}
    assert lineage["environment"]["python"] == ".".join(map(str, sys.version_info[:3]))
    assert data["metrics"] == {"auc": 0.931}  # the last logged value
    assert data["signature"] == {
        "inputs": [{"name": "amount", "type": "float64"}, {"name": "country", "type": "string"}],
        "outputs": [{"name": "score", "type": "float64"}],
    }


def test_init_from_an_mlmodel_with_a_tensor_signature(repo: Repo, mlflow_files: tuple[Path, str]) -> None:
    store, _run_id = mlflow_files
    copy_into(store / "tensor-model", repo.root / "tensor")
    result = repo.run(
        "init", "tensor", "--name", "pixels", "--version", "0.1.0", "--owner", "@a/b", "--from-mlflow", "tensor/MLmodel"
    )
    assert result.returncode == 0, result.stderr
    data = _manifest(repo, "tensor/modelgate.yaml")
    assert data["signature"] == {"inputs": [{"name": "pixels", "type": "float32", "shape": [-1, 4]}]}
    assert "run" not in data["lineage"]  # saved, not logged: no run


def test_init_from_dvc_lock(repo: Repo, dvc_files: Path) -> None:
    copy_into(dvc_files, repo.root)
    result = repo.run(
        "init",
        "model.pkl",
        "--name",
        "churn",
        "--version",
        "2.0.0",
        "--owner",
        "@acme/growth",
        "--from-dvc",
        "dvc.lock",
        "-o",
        "churn.modelgate.yaml",
    )
    assert result.returncode == 0, result.stderr
    data = _manifest(repo, "churn.modelgate.yaml")
    lock = parse((repo.root / "dvc.lock").read_bytes(), "dvc.lock").data
    train_csv = next(d for d in lock["stages"]["train"]["deps"] if d["path"] == "train.csv")
    assert data["lineage"]["params"] == {"seed": 0.001, "train": {"lr": 0.05, "n_estimators": 400}}
    train = (repo.root / "train.csv").read_bytes()
    assert data["lineage"]["data"] == [
        {"name": "train.csv", "uri": "train.csv", "sha256": sha256(train), "size": len(train), "md5": train_csv["md5"]}
    ]
    model = next(o for o in lock["stages"]["train"]["outs"] if o["path"] == "model.pkl")
    assert data["artifacts"][0]["md5"] == model["md5"]  # DVC's digest: verified without `dvc pull`
    assert data["metrics"] == {"auc": 0.93, "f1": 0.8}  # from the stage's metrics file in dvc.yaml


CARD_SCRIPT = """\
from huggingface_hub import EvalResult, ModelCard, ModelCardData
data = ModelCardData(
    language="en", license="apache-2.0", datasets=["imdb"], base_model="distilbert-base-uncased",
    model_name="sentiment", eval_results=[
        EvalResult(task_type="text-classification", dataset_type="imdb", dataset_name="IMDB", dataset_split="test",
                   dataset_revision="e6281661ce1c48d982bc483cf8a173c1bbeb5d31", metric_type="accuracy",
                   metric_value=0.93),
        EvalResult(task_type="text-classification", dataset_type="imdb", dataset_name="IMDB", dataset_split="test",
                   metric_type="loss", metric_value=0.21),
    ])
ModelCard(f"---\\n{data.to_yaml()}\\n---\\n# sentiment\\n").save("README.md")
"""


def test_init_from_a_hugging_face_model_card(repo: Repo) -> None:
    repo.write("hf/model.safetensors", b"tensors")
    subprocess.run([sys.executable, "-c", CARD_SCRIPT], cwd=repo.root / "hf", check=True, capture_output=True)
    assert "model-index:" in (repo.root / "hf/README.md").read_text()
    result = repo.run(
        "init",
        "hf/model.safetensors",
        "--name",
        "sentiment",
        "--version",
        "1.0.0",
        "--owner",
        "@acme/nlp",
        "--from-hf",
        "hf/README.md",
    )
    assert result.returncode == 0, result.stderr
    data = _manifest(repo, "hf/modelgate.yaml")
    assert data["license"] == "Apache-2.0"
    assert data["metrics"] == {
        "accuracy": {"value": 0.93, "goal": "maximize", "dataset": "IMDB/test"},
        "loss": {"value": 0.21, "goal": "minimize", "dataset": "IMDB/test"},
    }
    assert data["lineage"]["data"] == [
        {"name": "imdb", "uri": "hf://datasets/imdb", "revision": "e6281661ce1c48d982bc483cf8a173c1bbeb5d31"}
    ]
    assert data["tags"] == {"base_model": "distilbert-base-uncased"}


def test_a_card_without_front_matter_is_a_usage_error(repo: Repo) -> None:
    repo.write("hf/model.bin", b"x")
    repo.write("hf/README.md", "# just a title\n")
    result = repo.run(
        "init", "hf/model.bin", "--name", "s", "--version", "1.0.0", "--owner", "@a/b", "--from-hf", "hf/README.md"
    )
    assert result.returncode == 4
    assert "hf/README.md: no YAML front matter" in result.stderr


def test_init_records_the_content_digest_of_a_git_lfs_pointer(repo: Repo) -> None:
    oid = "a" * 64
    pointer = f"version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize 12345\n"
    repo.write("m/model.bin", pointer)
    # Where git's attributes do not say filter=lfs, the pointer is just bytes (as check sees it).
    assert repo.run("init", "m/model.bin", "--name", "m", "--version", "1.0.0", "--owner", "@a/b").returncode == 0
    assert _manifest(repo, "m/modelgate.yaml")["artifacts"] == [
        {"path": "model.bin", "sha256": sha256(pointer.encode()), "size": len(pointer)}
    ]
    repo.write(".gitattributes", "*.bin filter=lfs diff=lfs merge=lfs -text\n")
    assert (
        repo.run("init", "m/model.bin", "--name", "m", "--version", "1.0.0", "--owner", "@a/b", "--force").returncode
        == 0
    )
    assert _manifest(repo, "m/modelgate.yaml")["artifacts"] == [{"path": "model.bin", "sha256": oid, "size": 12345}]


def test_codeowners_patterns() -> None:
    from modelgate.approvals.codeowners import parse

    found = parse("# comment\n*  @all\n*.yaml @yaml-owners\n/models/ @models\ndocs/ @docs # trailing\n")
    assert found.owners("x/y.txt") == ["@all"]
    assert found.owners("models/a/modelgate.yaml") == ["@models"]
    assert found.owners("src/modelgate.yaml") == ["@yaml-owners"]
    assert found.owners("a/docs/modelgate.yaml") == ["@docs"]  # the last matching line wins
    assert json.dumps(parse("").owners("x")) == "[]"


def test_init_does_not_guess_owners_from_a_line_github_skips(repo: Repo) -> None:
    repo.write("CODEOWNERS", "*  @acme/ml\n!models/fraud/  @acme/fraud\n")
    repo.write("models/fraud/model.onnx", b"w")
    proc = repo.run("init", "models/fraud/model.onnx", "--name", "fraud-detector", "--version", "1.0.0")
    assert proc.returncode == 4
    assert proc.stderr.strip().endswith(
        "CODEOWNERS:2: '!models/fraud/': negation with ! is not supported by GitHub; GitHub skips this line:"
        " pass --owner @org/team (or an email), or fix CODEOWNERS"
    )
    assert not (repo.root / "models/fraud/modelgate.yaml").exists()
    args = ("init", "models/fraud/model.onnx", "--name", "fraud-detector", "--version", "1.0.0", "--owner", "@a/b")
    assert repo.run(*args).returncode == 0


def test_init_reads_no_dvc_metrics_file_outside_the_repository(repo: Repo) -> None:
    secret = repo.root.parent / "outside-metrics.json"
    secret.write_text('{"auc": 0.123456}')
    repo.write("model.bin", b"weights")
    repo.write(
        "dvc.lock",
        "schema: '2.0'\nstages:\n  train:\n    cmd: python train.py\n"
        "    outs:\n    - {path: model.bin, md5: 0123456789abcdef0123456789abcdef, size: 7}\n",
    )
    repo.write("dvc.yaml", "stages:\n  train:\n    cmd: python train.py\n    metrics: [metrics.json]\n")
    os.symlink(secret, repo.root / "metrics.json")
    result = repo.run(
        "init", "model.bin", "--name", "m", "--version", "1.0.0", "--owner", "@a/b", "--from-dvc", "dvc.lock"
    )
    assert result.returncode == 4, result.stdout + result.stderr
    assert result.stderr.startswith("modelgate: error: metrics.json:1:1: leads outside the repository"), result.stderr
    assert not (repo.root / "modelgate.yaml").exists()
    os.remove(repo.root / "metrics.json")
    repo.write("metrics.json", '{"auc": 0.93}')
    assert (
        repo.run(
            "init", "model.bin", "--name", "m", "--version", "1.0.0", "--owner", "@a/b", "--from-dvc", "dvc.lock"
        ).returncode
        == 0
    )
    assert _manifest(repo, "modelgate.yaml")["metrics"] == {"auc": 0.93}
