"""DVC-tracked files verified without `dvc pull`, in repositories real DVC and git wrote.

The project (tests/interop_tools.py: ``dvc_monorepo``) keeps its data at the repository's
top (``dvc add data/train.csv``) and a model folder with its own pipeline (``dvc repro`` in
models/churn/, output model.pkl). ``modelgate init --from-dvc`` writes the manifest; a
``git clone`` of the result is what CI checks out: DVC's .gitignore files keep model.pkl and
data/train.csv out of it.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from modelgate.datamodel.strictyaml import parse
from tests.conftest import Repo, sha256
from tests.interop_tools import copy_into, dvc_monorepo

MANIFEST = "models/churn/modelgate.yaml"
DATA_URI = "../../data/train.csv"
OTHER = "0123456789abcdef" * 2  # an md5 of other bytes
INIT = (
    "init",
    "models/churn/model.pkl",
    "--name",
    "churn",
    "--version",
    "1.0.0",
    "--stage",
    "staging",
    "--license",
    "Apache-2.0",
    "--owner",
    "@acme/ml",
    "--from-dvc",
    "models/churn/dvc.lock",
)


@pytest.fixture(scope="session")
def monorepo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return dvc_monorepo(tmp_path_factory)


@pytest.fixture
def dvc_repo(repo: Repo, monorepo: Path) -> Repo:
    copy_into(monorepo, repo.root)
    repo.commit("the pipeline")
    result = repo.run(*INIT)
    assert result.returncode == 0, result.stdout + result.stderr
    repo.commit("churn 1.0.0")
    return repo


def clone(repo: Repo, tmp_path: Path) -> Repo:
    """What CI checks out: git's files, none of DVC's outputs."""
    target = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(repo.root), str(target)], check=True, capture_output=True)
    return Repo(target)


def check(repo: Repo, *args: str) -> tuple[int, dict[str, Any], str]:
    proc = repo.run("check", "--json", "../r.json", *args)
    assert "Traceback" not in proc.stderr
    path = repo.root.parent / "r.json"
    report = json.loads(path.read_text()) if path.exists() else {}
    path.unlink(missing_ok=True)
    return proc.returncode, report, proc.stdout + proc.stderr


def results(report: dict[str, Any], name: str) -> list[tuple[str, str]]:
    return [(r["outcome"], r["message"]) for r in report["results"] if r["name"] == name]


def _lock_out(repo: Repo, path: str) -> dict[str, Any]:
    lock = parse((repo.root / "models/churn/dvc.lock").read_bytes(), "dvc.lock").data
    return next(o for o in lock["stages"]["train"][path.split(":")[0]] if o["path"] == path.split(":")[1])


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (old, text)
    path.write_text(text.replace(old, new))


def test_init_records_dvcs_md5s_and_the_repository_level_data_file(dvc_repo: Repo) -> None:
    data = parse((dvc_repo.root / MANIFEST).read_bytes(), MANIFEST).data
    model = _lock_out(dvc_repo, "outs:model.pkl")
    weights = (dvc_repo.root / "models/churn/model.pkl").read_bytes()
    assert data["artifacts"] == [
        {"path": "model.pkl", "sha256": sha256(weights), "size": len(weights), "md5": model["md5"]}
    ]
    train = (dvc_repo.root / "data/train.csv").read_bytes()
    assert data["lineage"]["data"] == [
        {
            "name": "train.csv",
            "uri": DATA_URI,
            "sha256": sha256(train),
            "size": len(train),
            "md5": hashlib.md5(train).hexdigest(),
        }
    ]
    assert _lock_out(dvc_repo, f"deps:{DATA_URI}")["md5"] == hashlib.md5(train).hexdigest()
    code, report, out = check(dvc_repo)
    assert code == 0, out
    assert results(report, "data-hash") == [("passed", "ok")]
    assert results(report, "artifact-hash") == [("passed", "ok")]


def test_a_clone_without_dvc_pull_is_verified_by_what_dvc_recorded(dvc_repo: Repo, tmp_path: Path) -> None:
    ci = clone(dvc_repo, tmp_path)
    assert not (ci.root / "models/churn/model.pkl").exists() and not (ci.root / "data/train.csv").exists()
    code, report, out = check(ci)
    assert code == 0, out
    assert results(report, "artifact-path") == [("passed", "ok")]
    assert results(report, "artifact-hash") == [("passed", "verified by DVC's md5, content not pulled: model.pkl")]
    assert results(report, "data-hash") == [("passed", f"verified by DVC's md5, content not pulled: {DATA_URI}")]


@pytest.mark.parametrize(
    ("file", "edit", "check_name", "message"),
    [
        (
            "data/train.csv.dvc",
            ("size: 26", "size: 27"),
            "data-hash",
            f"{DATA_URI}: data/train.csv.dvc records size 27, manifest says 26",
        ),
        (
            "data/train.csv.dvc",
            ("md5: {data_md5}", "md5: 0{data_md5}"),
            "data-hash",
            f"{DATA_URI}: data/train.csv.dvc records md5 0{{data_md5}}, manifest says {{data_md5}}",
        ),
        (
            "models/churn/dvc.lock",
            ("md5: {model_md5}", "md5: 0{model_md5}"),
            "artifact-hash",
            "model.pkl: models/churn/dvc.lock:train records md5 0{model_md5}, manifest says {model_md5}",
        ),
        (
            MANIFEST,
            ("md5: {model_md5}", "md5: {data_md5}"),
            "artifact-hash",
            "model.pkl: models/churn/dvc.lock:train records md5 {model_md5}, manifest says {data_md5}",
        ),
    ],
)
def test_in_a_clone_a_record_that_disagrees_fails(
    dvc_repo: Repo, tmp_path: Path, file: str, edit: tuple[str, str], check_name: str, message: str
) -> None:
    ci = clone(dvc_repo, tmp_path)
    values = {
        "model_md5": _lock_out(dvc_repo, "outs:model.pkl")["md5"],
        "data_md5": hashlib.md5((dvc_repo.root / "data/train.csv").read_bytes()).hexdigest(),
    }
    old, new = (part.format(**values) for part in edit)
    _replace(ci.root / file, old, new)
    code, report, out = check(ci)
    assert code == 1, out
    assert [m for outcome, m in results(report, check_name) if outcome == "failed"] == [message.format(**values)]
    # --changed (the pre-commit hook) selects the manifest whose DVC record changed.
    code, report, out = check(ci, "--changed")
    assert code == 1 and [m["path"] for m in report["manifests"]] == [MANIFEST], out


def test_a_missing_dvc_tracked_file_without_an_md5_says_dvc_pull(dvc_repo: Repo, tmp_path: Path) -> None:
    ci = clone(dvc_repo, tmp_path)
    model_md5 = _lock_out(dvc_repo, "outs:model.pkl")["md5"]
    data_md5 = hashlib.md5((dvc_repo.root / "data/train.csv").read_bytes()).hexdigest()
    _replace(ci.root / MANIFEST, f"    md5: {model_md5}\n", "")
    _replace(ci.root / MANIFEST, f"      md5: {data_md5}\n", "")
    code, report, out = check(ci)
    assert code == 1
    assert results(report, "artifact-path") == [("passed", "ok")]  # the path is right: the file is DVC's
    failed = [r for r in report["results"] if r["outcome"] == "failed"]
    assert [(r["name"], r["message"]) for r in failed] == [
        (
            "artifact-hash",
            "model.pkl: not in the work tree, and the manifest records no md5 to compare with what"
            " models/churn/dvc.lock:train records",
        ),
        (
            "data-hash",
            f"{DATA_URI}: not in the work tree, and the manifest records no md5 to compare with what"
            " data/train.csv.dvc records",
        ),
    ]
    hint = "hint: run `dvc pull` to fetch it, or record DVC's md5 with `modelgate hash --update` to verify it"
    assert out.count(hint) == 2, out
    assert "paths are relative" not in out
    # `hash --update` records DVC's md5s in the clone, keeps the sha256s, and says so.
    proc = ci.run("hash", "--update")
    assert proc.returncode == 0, proc.stdout
    assert (
        f"{MANIFEST}: artifacts[0] model.pkl: sha256 kept, not recomputed: the file is not in the work"
        " tree; md5 and size are models/churn/dvc.lock:train's (`dvc pull` to hash the file itself)\n"
    ) in proc.stdout
    assert f"  artifacts[0].md5: None -> '{model_md5}'\n" in proc.stdout
    assert f"  lineage.data[0].md5: None -> '{data_md5}'\n" in proc.stdout
    assert check(ci)[0] == 0


def test_hash_update_in_a_clone_never_pins_new_bytes_under_an_old_sha256(dvc_repo: Repo, tmp_path: Path) -> None:
    ci = clone(dvc_repo, tmp_path)
    data_md5 = hashlib.md5((dvc_repo.root / "data/train.csv").read_bytes()).hexdigest()
    _replace(ci.root / "data/train.csv.dvc", f"md5: {data_md5}", f"md5: {OTHER}")  # other data, not pulled
    before = (ci.root / MANIFEST).read_text()
    proc = ci.run("hash", "--update")
    assert proc.returncode == 1
    assert (
        f"{MANIFEST}: lineage.data[0] {DATA_URI}: data/train.csv.dvc records md5 {OTHER}, the manifest"
        f" {data_md5}, and the file is not here to hash: run `dvc pull`, then `modelgate hash --update`\n"
    ) in proc.stdout
    assert (ci.root / MANIFEST).read_text() == before


def test_with_the_files_present_every_digest_comes_from_one_read(
    dvc_repo: Repo, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from modelgate.hashing import digest
    from tests.conftest import check_in_process

    reads: list[tuple[str, bool]] = []
    real = digest.hash_file

    def counted(path: str, *args: Any, **kwargs: Any) -> Any:
        reads.append((Path(path).name, kwargs.get("md5", False)))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(digest, "hash_file", counted)
    report = check_in_process(dvc_repo, "--no-cache", capsys=capsys)
    assert report.code == 0, report.out
    assert sorted(reads) == [("model.pkl", True), ("train.csv", True)]
    # A data file swapped in place: both its digests differ, from that one read.
    (dvc_repo.root / "data/train.csv").write_bytes(b"amount,label\n9.99,1\n")
    report = check_in_process(dvc_repo, "--no-cache", capsys=capsys)
    [sha, md5] = report.messages("data-hash")
    assert sha.startswith(f"{DATA_URI}: sha256 mismatch: manifest says ")
    assert md5.startswith(f"{DATA_URI}: md5 mismatch: manifest says ")


def test_new_dvc_bytes_under_an_old_sha256_need_a_new_version(dvc_repo: Repo, tmp_path: Path) -> None:
    """In a clone without `dvc pull`, DVC's md5 is what a DVC-tracked artifact is checked by:
    a change that points DVC and the manifest at other bytes but keeps the sha256 and the
    version is a change of bytes, and version-bump says so."""
    ci = clone(dvc_repo, tmp_path)
    ci.git("checkout", "-q", "-b", "feature")
    model_md5 = _lock_out(dvc_repo, "outs:model.pkl")["md5"]
    _replace(ci.root / "models/churn/dvc.lock", f"md5: {model_md5}", f"md5: {OTHER}")
    _replace(ci.root / MANIFEST, f"md5: {model_md5}", f"md5: {OTHER}")
    ci.commit("retrained elsewhere, pushed to the DVC remote")
    code, report, out = check(ci, "--base", "main")
    assert code == 1, out
    assert results(report, "artifact-hash") == [("passed", "verified by DVC's md5, content not pulled: model.pkl")]
    assert [m for outcome, m in results(report, "version-bump") if outcome == "failed"] == [
        "artifacts changed but the version stayed 1.0.0; bump it above 1.0.0"
    ]
