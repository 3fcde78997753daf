"""Files made by the real tools (DVC, MLflow), once per test session, copied into each test.

The tools run as subprocesses of the test environment's Python, with an isolated HOME and
no telemetry, exactly as a user would run them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
_made: dict[str, Path] = {}


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MODELGATE_", "GITHUB_", "MLFLOW_"))}
    return {
        **env,
        "HOME": str(home),
        "GIT_CONFIG_GLOBAL": str(home / ".gitconfig"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "T",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "T",
        "GIT_COMMITTER_EMAIL": "t@example.com",
        "DVC_NO_ANALYTICS": "1",
        "DVC_SITE_CACHE_DIR": str(home / "dvc"),
        "MLFLOW_ALLOW_FILE_STORE": "true",
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }


def _run(cwd: Path, env: dict[str, str], *args: str) -> None:
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"{args}: {proc.stdout}\n{proc.stderr}"


def dvc_project(factory: pytest.TempPathFactory) -> Path:
    """A git repository with a real DVC pipeline: `dvc stage add` + `dvc repro` (dvc.lock with
    params, deps, outs and a metrics file) and a `dvc add`-ed file (data.bin.dvc)."""
    if "dvc" not in _made:
        root = factory.mktemp("dvc-project")
        env = _env(factory.mktemp("dvc-home"))
        _run(root, env, "git", "init", "-q", "-b", "main")
        _run(root, env, str(BIN / "dvc"), "init", "-q")
        (root / "train.csv").write_text("amount,label\n1.5,0\n")
        (root / "params.yaml").write_text("train:\n  lr: 0.05\n  n_estimators: 400\nseed: 1e-3\n")
        (root / "train.py").write_text(
            textwrap.dedent("""\
            import json
            open("model.pkl", "wb").write(b"trained weights\\r\\n")
            json.dump({"auc": 0.93, "f1": 0.8}, open("metrics.json", "w"))
        """)
        )
        _run(
            root,
            env,
            str(BIN / "dvc"),
            "stage",
            "add",
            "-q",
            "-n",
            "train",
            "-d",
            "train.csv",
            "-d",
            "train.py",
            "-p",
            "train.lr,train.n_estimators,seed",
            "-o",
            "model.pkl",
            "-M",
            "metrics.json",
            f"{sys.executable} train.py",
        )
        _run(root, env, str(BIN / "dvc"), "repro", "-q")
        (root / "data.bin").write_bytes(b"raw data\n")
        _run(root, env, str(BIN / "dvc"), "add", "-q", "data.bin")
        shutil.rmtree(root / ".git")  # each test copies the files into its own repository
        _made["dvc"] = root
    return _made["dvc"]


def dvc_monorepo(factory: pytest.TempPathFactory) -> Path:
    """A git repository laid out as teams do: repository-level data (`dvc add
    data/train.csv`) and a model folder with its own pipeline (`dvc stage add` + `dvc repro`
    in models/churn/, whose dvc.lock lists ../../data/train.csv as a dependency and model.pkl
    as an output). DVC's .gitignore files keep both out of git: a clone lacks them until
    `dvc pull`. Committed once, as a user would, so that `git clone` gives such a clone."""
    if "dvc-monorepo" not in _made:
        root = factory.mktemp("dvc-monorepo")
        env = _env(factory.mktemp("dvc-home"))
        model = root / "models" / "churn"
        model.mkdir(parents=True)
        (root / "data").mkdir()
        _run(root, env, "git", "init", "-q", "-b", "main")
        _run(root, env, str(BIN / "dvc"), "init", "-q")
        (root / "data" / "train.csv").write_text("amount,label\n1.5,0\n7.25,1\n")
        _run(root, env, str(BIN / "dvc"), "add", "-q", "data/train.csv")
        (model / "params.yaml").write_text("train:\n  lr: 0.05\n")
        (model / "train.py").write_text(
            textwrap.dedent("""\
            import json
            rows = open("../../data/train.csv").read().splitlines()[1:]
            open("model.pkl", "wb").write(("weights for %d rows\\n" % len(rows)).encode())
            json.dump({"auc": 0.91}, open("metrics.json", "w"))
        """)
        )
        _run(
            model,
            env,
            str(BIN / "dvc"),
            "stage",
            "add",
            "-q",
            "-n",
            "train",
            "-d",
            "../../data/train.csv",
            "-d",
            "train.py",
            "-p",
            "train.lr",
            "-o",
            "model.pkl",
            "-M",
            "metrics.json",
            f"{sys.executable} train.py",
        )
        _run(model, env, str(BIN / "dvc"), "repro", "-q")
        shutil.rmtree(root / ".git")  # each test copies the files into its own repository
        _made["dvc-monorepo"] = root
    return _made["dvc-monorepo"]


MLFLOW_SCRIPT = """\
import mlflow, mlflow.pyfunc
from mlflow.models import ModelSignature
from mlflow.types.schema import ColSpec, Schema, TensorSpec
import numpy as np

class Model(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input):
        return model_input

mlflow.set_tracking_uri("file:./mlruns")
signature = ModelSignature(
    inputs=Schema([ColSpec("double", "amount"), ColSpec("string", "country")]),
    outputs=Schema([ColSpec("double", "score")]),
)
with mlflow.start_run(tags={"mlflow.source.git.commit": "4b825dc642cb6eb9a060e54bf8d69288fbee4904"}) as run:
    mlflow.log_params({"learning_rate": 0.05, "n_estimators": 400, "early_stop": True})
    mlflow.log_metric("auc", 0.91)
    mlflow.log_metric("auc", 0.931)
    mlflow.pyfunc.log_model(name="model", python_model=Model(), signature=signature)
    print(run.info.run_id)
tensor = ModelSignature(inputs=Schema([TensorSpec(np.dtype("float32"), (-1, 4), "pixels")]))
mlflow.pyfunc.save_model("tensor-model", python_model=Model(), signature=tensor)
"""


def mlflow_store(factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A real MLflow file store (mlruns/) with one run that logged params, metrics and a
    pyfunc model with a column signature; and a saved model with a tensor signature."""
    if "mlflow" not in _made:
        root = factory.mktemp("mlflow-project")
        (root / "log.py").write_text(MLFLOW_SCRIPT)
        proc = subprocess.run(
            [sys.executable, "log.py"],
            cwd=root,
            env=_env(factory.mktemp("mlflow-home")),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stderr
        (root / "run_id").write_text(proc.stdout.strip().splitlines()[-1])
        _made["mlflow"] = root
    root = _made["mlflow"]
    return root, (root / "run_id").read_text()


def copy_into(source: Path, target: Path) -> None:
    shutil.copytree(source, target, dirs_exist_ok=True)
