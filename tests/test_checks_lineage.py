"""MG201 required-fields, MG202 data-pinned, MG203 lockfile-hash."""

from __future__ import annotations

import json

import pytest

from modelgate.pipeline import ahead
from tests.conftest import Repo, check_in_process, prefetched, sha256, staging_fields


def test_staging_with_full_lineage_passes(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.manifest("m", **staging_fields())
    report = check_in_process(repo, capsys=capsys)
    assert report.code == 0, report.out
    assert report.outcomes("MG201") == ["passed"]


def test_staging_without_lineage_lists_each_missing_field(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.manifest("m", stage="staging", lineage={"params": {}})
    report = check_in_process(repo, capsys=capsys)
    assert report.code == 1
    assert report.messages("MG201") == [
        "license is required at stage 'staging'",
        "lineage.code.commit is required at stage 'staging'",
        "lineage.data is required at stage 'staging'",
        "lineage.params is required at stage 'staging'",
    ]


def test_required_fields_do_not_apply_at_stage_none(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.manifest("m")
    assert check_in_process(repo, capsys=capsys).outcomes("MG201") == []


def test_production_needs_a_lockfile(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.manifest("m", **staging_fields(stage="production"))
    report = check_in_process(repo, capsys=capsys)
    assert "lineage.environment.lockfile is required at stage 'production'" in report.messages("MG201")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"name": "train", "uri": "s3://x"}, "data 'train' has neither sha256 nor revision"),
        (
            {"name": "train", "uri": "s3://x", "revision": "latest"},
            "data 'train' revision 'latest' moves; pin an immutable one",
        ),
        (
            {"name": "train", "uri": "s3://x", "revision": "main"},
            "data 'train' revision 'main' moves; pin an immutable one",
        ),
    ],
)
def test_unpinned_data_fails(
    repo: Repo, capsys: pytest.CaptureFixture[str], entry: dict[str, str], message: str
) -> None:
    repo.manifest("m", lineage={"data": [entry]})
    assert check_in_process(repo, capsys=capsys).messages("MG202") == [message]


def test_pinned_data_passes(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.manifest(
        "m",
        lineage={
            "data": [{"name": "a", "uri": "x", "sha256": "1" * 64}, {"name": "b", "uri": "y", "revision": "2026-10-01"}]
        },
    )
    assert check_in_process(repo, capsys=capsys).outcomes("MG202") == ["passed"]


def test_lockfile_hash(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write("m/requirements.lock", b"numpy==2.1.2\n")
    good = {"path": "requirements.lock", "sha256": sha256(b"numpy==2.1.2\n")}
    repo.manifest("m", lineage={"environment": {"lockfile": good}})
    assert check_in_process(repo, capsys=capsys).outcomes("MG203") == ["passed"]
    repo.write("m/requirements.lock", b"numpy==2.2.0\n")
    report = check_in_process(repo, capsys=capsys)
    assert report.messages("MG203") == [
        f"lockfile requirements.lock: sha256 mismatch: manifest says {good['sha256']},"
        f" file has {sha256(b'numpy==2.2.0' + bytes([10]))}"
    ]


def test_no_lockfile_is_skipped(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.manifest("m")
    assert check_in_process(repo, capsys=capsys).outcomes("MG203") == ["skipped"]


TRAIN = b"amount,label\n1.5,0\n7.25,1\n"
TAMPERED = b"amount,label\n9.99,1\n7.25,1\n"
DATA = "../../data/train.csv"


def _with_data(repo: Repo, stage: str = "staging", **entry: object) -> None:
    """A manifest in models/churn/ whose data is the repository-level data/train.csv."""
    fields = staging_fields(stage=stage)
    pinned = {"name": "train", "uri": DATA, "sha256": sha256(TRAIN), "size": len(TRAIN), **entry}
    fields["lineage"]["data"] = [{k: v for k, v in pinned.items() if v is not None}]
    repo.write("data/train.csv", TRAIN)
    repo.manifest("models/churn", **fields)
    repo.commit("churn")


def _data_hash(repo: Repo) -> tuple[int, list[tuple[str, str, int]]]:
    proc = repo.run("check", "--json", "../r.json")
    report = json.loads((repo.root.parent / "r.json").read_text())
    return proc.returncode, [
        (r["outcome"], r["message"], r["location"]["line"]) for r in report["results"] if r["name"] == "data-hash"
    ]


def _line_of(repo: Repo, key: str) -> int:
    """The line of ``key`` in the data entry (after its uri)."""
    lines = (repo.root / "models/churn/modelgate.yaml").read_text().splitlines()
    start = next(number for number, line in enumerate(lines) if f'"uri": "{DATA}"' in line)
    return next(number for number, line in enumerate(lines[start:], start + 1) if f'"{key}"' in line)


def test_a_repository_level_data_file_is_verified_through_dotdot(repo: Repo) -> None:
    _with_data(repo)
    assert _data_hash(repo) == (0, [("passed", "ok", 1)])


@pytest.mark.parametrize("case", ["tampered", "64-zeros", "wrong-size", "missing"])
def test_a_data_file_that_is_not_what_the_manifest_says_fails_from_staging_on(repo: Repo, case: str) -> None:
    zeros = "0" * 64
    _with_data(
        repo,
        sha256=zeros if case == "64-zeros" else sha256(TRAIN),
        size=len(TRAIN) + 1 if case == "wrong-size" else len(TRAIN),
    )
    if case == "tampered":
        repo.write("data/train.csv", TAMPERED)
    if case == "missing":
        (repo.root / "data/train.csv").unlink()
    expected = {
        "tampered": (
            f"{DATA}: sha256 mismatch: manifest says {sha256(TRAIN)} ({len(TRAIN)} bytes), file has"
            f" {sha256(TAMPERED)} ({len(TAMPERED)} bytes)",
            "sha256",
        ),
        "64-zeros": (
            f"{DATA}: sha256 mismatch: manifest says {zeros} ({len(TRAIN)} bytes), file has {sha256(TRAIN)}"
            f" ({len(TRAIN)} bytes)",
            "sha256",
        ),
        "wrong-size": (f"{DATA}: size is {len(TRAIN)} bytes, manifest says {len(TRAIN) + 1}", "size"),
        "missing": (f"{DATA}: not verified: data file is missing", "uri"),
    }[case]
    message, key = expected
    assert _data_hash(repo) == (1, [("failed", message, _line_of(repo, key))])


def test_data_hash_runs_from_staging_on(repo: Repo) -> None:
    _with_data(repo, stage="none", sha256="0" * 64)
    assert _data_hash(repo) == (0, [])  # builtin:default: stage none pins no data yet


def test_what_data_hash_does_not_hash_it_names(repo: Repo) -> None:
    fields = staging_fields()
    fields["lineage"]["data"] = [
        {"name": "remote", "uri": "s3://acme/train.parquet", "sha256": "0" * 64},  # a scheme: not a file here
        {"name": "snapshot", "uri": "data/train.csv", "revision": "2026-10-01"},
    ]
    repo.manifest("m", **fields)
    assert _data_hash(repo) == (0, [("passed", "not hashed, pinned by revision only: data/train.csv", 1)])
    fields["lineage"]["data"] = fields["lineage"]["data"][:1]
    repo.manifest("m", **fields)
    assert _data_hash(repo) == (0, [("skipped", "no lineage.data entry is a path in the repository", 1)])


def test_a_data_folder_is_not_hashed(repo: Repo) -> None:
    fields = staging_fields()
    fields["lineage"]["data"] = [{"name": "all", "uri": "../data", "sha256": sha256(TRAIN)}]
    repo.write("data/train.csv", TRAIN)
    repo.manifest("m", **fields)
    code, found = _data_hash(repo)
    assert code == 1
    assert [m for _, m, _ in found] == [
        "../data: not verified: data path is a directory; list each file as a data entry (a folder is not hashed)"
    ]


def test_a_lockfile_at_the_repository_root_is_reached_with_dotdot(
    repo: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    repo.write("requirements.lock", b"numpy==2.1.2\n")
    lockfile = {"path": "../../requirements.lock", "sha256": sha256(b"numpy==2.1.2\n")}
    repo.manifest("models/churn", lineage={"environment": {"lockfile": lockfile}})
    assert check_in_process(repo, capsys=capsys).outcomes("MG203") == ["passed"]
    repo.write("requirements.lock", b"numpy==2.2.0\n")
    assert check_in_process(repo, capsys=capsys).messages("MG203") == [
        f"lockfile ../../requirements.lock: sha256 mismatch: manifest says {lockfile['sha256']},"
        f" file has {sha256(b'numpy==2.2.0' + bytes([10]))}"
    ]


def test_data_files_are_hashed_ahead_with_the_artifacts(
    repo: Repo, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """data-hash declares the digests it takes of data files (check metadata), so the
    session hashes them in parallel with the artifacts before any check runs."""
    asked = prefetched(repo, monkeypatch)
    monkeypatch.setattr(ahead, "AHEAD_BYTES", 0)  # these files are small: all of them
    _with_data(repo)
    assert check_in_process(repo, "--no-cache", capsys=capsys).code == 0
    assert sorted(set(asked)) == ["data/train.csv", "models/churn/model.bin"]
    # Under the size worth a thread (1 MiB by default) no file is hashed ahead: each is
    # hashed where its check asks, with the same verdict.
    asked.clear()
    monkeypatch.setattr(ahead, "AHEAD_BYTES", 1 << 20)
    assert check_in_process(repo, "--no-cache", capsys=capsys).code == 0
    assert asked == []
    (repo.root / "data" / "train.csv").write_bytes(b"x" * (1 << 20))
    assert check_in_process(repo, "--no-cache", capsys=capsys).code == 1  # changed data: its hash fails
    assert asked == ["data/train.csv"]
