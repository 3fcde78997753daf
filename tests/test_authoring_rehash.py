"""``modelgate hash [--update]``: stale hashes are reported, and rewritten in place."""

from __future__ import annotations

from tests.conftest import Repo, sha256

MANIFEST = """\
# churn model: retrained weekly (keep this comment)
apiVersion: modelgate/v1
kind: Model
name: churn
version: "1.0.0"
stage: none
owners: ["@acme/growth"]
artifacts:
  - path: model.bin          # the weights
    sha256: TODO
    size: 0
  - {path: vocab.txt, sha256: "%(vocab)s", size: 5}
lineage:
  data:
    - {name: train, uri: data/train.csv, sha256: "%(old)s"}
    - {name: remote, uri: "s3://bucket/x.parquet", revision: "2026-10-01"}
  environment:
    lockfile: {path: requirements.lock, sha256: "%(lock)s"}
"""
TRAIN = b"x,y\n1,2\n"
REMOTE = (
    "m/modelgate.yaml: lineage.data[1]: not hashed: s3://bucket/x.parquet has a scheme, so it names no file in"
    " the repository (a revision or sha256 you record pins it)\n"
)


def _write(repo: Repo) -> str:
    repo.write("m/model.bin", b"new weights")
    repo.write("m/vocab.txt", b"a b c")
    repo.write("m/data/train.csv", TRAIN)
    repo.write("m/requirements.lock", b"numpy==2.1.2\n")
    text = MANIFEST % {"vocab": sha256(b"a b c"), "old": "0" * 64, "lock": sha256(b"numpy==2.1.2\n")}
    repo.write("m/modelgate.yaml", text)
    return text


def test_hash_reports_stale_values_and_fails(repo: Repo) -> None:
    text = _write(repo)
    result = repo.run("hash")
    assert result.returncode == 1
    assert result.stdout == (
        REMOTE + "m/modelgate.yaml: stale\n"
        f"  artifacts[0].sha256: 'TODO' -> '{sha256(b'new weights')}'\n"
        "  artifacts[0].size: 0 -> 11\n"
        f"  lineage.data[0].sha256: '{'0' * 64}' -> '{sha256(TRAIN)}'\n"
        "1 manifest, 4 files hashed: 3 values stale, 0 not hashable, 1 not hashed (said above)\n"
        "run `modelgate hash --update` to write the new values\n"
    )
    assert (repo.root / "m/modelgate.yaml").read_text() == text


def test_hash_update_rewrites_only_the_stale_values(repo: Repo) -> None:
    text = _write(repo)
    result = repo.run("hash", "--update", "m/modelgate.yaml")
    assert result.returncode == 0, result.stdout
    assert "1 manifest, 4 files hashed: 3 values updated, 0 not hashable, 1 not hashed (said above)\n" in result.stdout
    expected = (
        text.replace("sha256: TODO", f"sha256: {sha256(b'new weights')}")
        .replace("size: 0", "size: 11")
        .replace("0" * 64, sha256(TRAIN))
    )
    assert (repo.root / "m/modelgate.yaml").read_text() == expected  # comments and layout kept
    assert repo.run("check").returncode == 0
    again = repo.run("hash")
    assert again.returncode == 0
    assert again.stdout == REMOTE + (
        "1 manifest, 4 files hashed: 0 values stale, 0 not hashable, 1 not hashed (said above)\n"
    )


def test_a_missing_artifact_cannot_be_hashed(repo: Repo) -> None:
    _write(repo)
    (repo.root / "m/vocab.txt").unlink()
    result = repo.run("hash", "--update")
    assert result.returncode == 1
    assert "m/modelgate.yaml: artifacts[1] vocab.txt: artifact file is missing\n" in result.stdout


def test_hostile_yaml_is_refused_with_its_location(repo: Repo) -> None:
    repo.write("m/modelgate.yaml", "apiVersion: modelgate/v1\nowners: &o [a]\ntags: {x: *o}\n")
    result = repo.run("hash", "--update")
    assert result.returncode == 4
    assert "m/modelgate.yaml:2:9: anchor &o is not allowed" in result.stderr


def test_no_manifests(repo: Repo) -> None:
    result = repo.run("hash")
    assert (result.returncode, result.stdout) == (5, "no manifests found\n")


def test_entries_it_cannot_read_are_not_hashable_rather_than_matching(repo: Repo) -> None:
    _write(repo)
    path = repo.root / "m/modelgate.yaml"
    text = path.read_text().replace("{name: train, uri: data/train.csv,", "{name: train, path: data/train.csv,")
    path.write_text(text.replace("lockfile: {path: requirements.lock,", "lockfile: requirements.lock\n    x: {"))
    result = repo.run("hash")
    assert result.returncode == 1
    assert "m/modelgate.yaml: lineage.environment.lockfile: not a mapping with path and sha256\n" in result.stdout
    assert "m/modelgate.yaml: lineage.data[0]: no uri\n" in result.stdout
    assert "2 not hashable" in result.stdout


MONOREPO = """\
apiVersion: modelgate/v1
kind: Model
name: churn
version: "1.0.0"
stage: staging
owners: ["@acme/growth"]
license: Apache-2.0
artifacts:
  - {path: model.bin, sha256: TODO, size: 0}
lineage:
  code: {commit: %(commit)s}
  data:
    - {name: train, uri: ../../data/train.csv, sha256: TODO, size: 0}
    - {name: holdout, uri: ../../data/holdout.csv, revision: "2026-10-01"}
    - {name: remote, uri: "s3://bucket/x.parquet", revision: "2026-10-01"}
  params: {C: 1.0}
  environment:
    lockfile: {path: ../../requirements.lock, sha256: TODO}
metrics: {auc: 0.9}
"""


def test_hash_update_fills_data_and_lockfile_hashes_reached_with_dotdot(repo: Repo) -> None:
    """Repository-level data/ and lockfile, named from models/churn/ with '..': every hash is
    filled (a data entry pinned by a revision alone gains its sha256), the remote entry is
    named with the reason it is not hashed, and the check that follows passes."""
    repo.write("data/train.csv", TRAIN)
    repo.write("data/holdout.csv", b"x,y\n3,4\n")
    repo.write("requirements.lock", b"numpy==2.1.2\n")
    repo.write("models/churn/model.bin", b"weights")
    commit = repo.commit("data and code")
    repo.write("models/churn/modelgate.yaml", MONOREPO % {"commit": commit})
    result = repo.run("hash", "--update")
    assert result.returncode == 0, result.stdout
    assert result.stdout == (
        "models/churn/modelgate.yaml: lineage.data[2]: not hashed: s3://bucket/x.parquet has a scheme, so it names"
        " no file in the repository (a revision or sha256 you record pins it)\n"
        "models/churn/modelgate.yaml: updated\n"
        f"  artifacts[0].sha256: 'TODO' -> '{sha256(b'weights')}'\n"
        "  artifacts[0].size: 0 -> 7\n"
        f"  lineage.environment.lockfile.sha256: 'TODO' -> '{sha256(b'numpy==2.1.2' + bytes([10]))}'\n"
        f"  lineage.data[0].sha256: 'TODO' -> '{sha256(TRAIN)}'\n"
        f"  lineage.data[0].size: 0 -> {len(TRAIN)}\n"
        f"  lineage.data[1].sha256: None -> '{sha256(b'x,y' + bytes([10]) + b'3,4' + bytes([10]))}'\n"
        "1 manifest, 4 files hashed: 6 values updated, 0 not hashable, 1 not hashed (said above)\n"
    )
    check = repo.run("check", "--json", "../r.json")
    assert check.returncode == 0, check.stdout
    assert repo.run("hash").returncode == 0


def test_a_data_path_that_leaves_the_repository_is_not_hashable(repo: Repo) -> None:
    repo.write("m/model.bin", b"weights")
    repo.write(
        "m/modelgate.yaml",
        (
            "apiVersion: modelgate/v1\nkind: Model\nname: m\nversion: '1.0.0'\nstage: none\nowners: ['@a/b']\n"
            f"artifacts: [{{path: model.bin, sha256: {sha256(b'weights')}, size: 7}}]\n"
            "lineage:\n  data: [{name: x, uri: ../../outside.csv, revision: r1}]\n"
        ),
    )
    (repo.root.parent / "outside.csv").write_bytes(b"secret")
    result = repo.run("hash", "--update")
    assert result.returncode == 1
    assert (
        "m/modelgate.yaml: lineage.data[0] ../../outside.csv: data path leaves the repository ('..' climbs"
        " above its root)\n"
    ) in result.stdout
