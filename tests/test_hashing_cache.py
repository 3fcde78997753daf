"""The hash cache: never a stale digest, never a corrupt database, safe under concurrency."""

from __future__ import annotations

import json
import multiprocessing
import os
import sqlite3
from collections.abc import Callable
from multiprocessing.synchronize import Barrier
from pathlib import Path
from types import SimpleNamespace

import pytest

from modelgate.hashing.cache import RACY_NS, HashCache
from modelgate.hashing.digest import Hasher
from tests.conftest import Repo, sha256


def _trusted_entry(path: Path, digest: str) -> None:
    """Store ``digest`` for ``path`` in its repository's cache as a run long after the file's
    last change would have (past the racy window): the entry the next run trusts. A file's
    ctime cannot be set back, so the entry's hashing time is set forward instead."""
    root = next(p for p in path.parents if (p / ".git").is_dir())
    cache = HashCache(str(root / ".git" / "modelgate" / "hashes.sqlite"))
    st = os.stat(path)
    cache.put(st, digest, max(st.st_mtime_ns, st.st_ctime_ns) + RACY_NS + 1)
    cache.close()


def test_hit_after_first_hash_and_miss_after_change(tmp_path: Path) -> None:
    path = tmp_path / "model.bin"
    path.write_bytes(b"weights-1")
    cache = HashCache(str(tmp_path / "db" / "hashes.sqlite"))
    st = os.stat(path)
    cache.put(st, sha256(b"weights-1"), st.st_ctime_ns + RACY_NS + 1)
    assert cache.get(os.stat(path)) == sha256(b"weights-1")
    # Same size, mtime restored: ctime still moved, so the entry no longer matches.
    mtime = st.st_mtime_ns
    path.write_bytes(b"weights-2")
    os.utime(path, ns=(mtime, mtime))
    assert os.stat(path).st_size == st.st_size and os.stat(path).st_mtime_ns == mtime
    assert cache.get(os.stat(path)) is None


def test_racy_entry_is_not_trusted(tmp_path: Path) -> None:
    path = tmp_path / "model.bin"
    path.write_bytes(b"x")
    cache = HashCache(str(tmp_path / "hashes.sqlite"))
    st = os.stat(path)
    cache.put(st, sha256(b"x"), max(st.st_mtime_ns, st.st_ctime_ns) + RACY_NS // 2)
    assert cache.get(st) is None


def test_hasher_uses_the_cache_across_runs(tmp_path: Path) -> None:
    path = tmp_path / "model.bin"
    path.write_bytes(b"y" * 1000)
    db = str(tmp_path / "hashes.sqlite")
    first = Hasher(HashCache(db))
    first.digest(str(path))
    assert first.hashed == 1
    second = Hasher(HashCache(db))
    second.digest(str(path))
    assert second.hashed == 1  # written seconds ago: racy, hashed again
    # After the racy window has passed for the stored entry, a new run trusts it.
    third_cache = HashCache(db)
    st = os.stat(path)
    third_cache.put(st, sha256(b"y" * 1000), max(st.st_mtime_ns, st.st_ctime_ns) + RACY_NS + 1)
    third = Hasher(third_cache)
    assert third.digest(str(path)).sha256 == sha256(b"y" * 1000)
    assert third.hashed == 0


ROUNDS = 10


def _row(ino: int) -> tuple[SimpleNamespace, str, int]:
    return SimpleNamespace(st_dev=1, st_ino=ino, st_size=10, st_mtime_ns=0, st_ctime_ns=0), f"{ino:064x}", 10**18


def _writer(db: str, offset: int, turn: Barrier) -> None:
    cache = HashCache(db)
    for start in range(offset, offset + 300, 300 // ROUNDS):
        turn.wait()  # every writer starts each round together: their writes overlap
        for ino in range(start, start + 300 // ROUNDS):
            cache.put(*_row(ino))  # type: ignore[arg-type]
    assert cache.warnings == [], cache.warnings
    cache.close()


def _batch_writer(db: str, offset: int, turn: Barrier) -> None:
    cache = HashCache(db)
    for start in range(offset, offset + 300, 300 // ROUNDS):  # as a prefetch writes: one transaction per batch
        turn.wait()
        cache.put_many([_row(ino) for ino in range(start, start + 300 // ROUNDS)])  # type: ignore[misc]
    assert cache.warnings == [], cache.warnings
    cache.close()


@pytest.mark.parametrize("writer", [_writer, _batch_writer])
def test_two_processes_writing_at_once_lose_nothing(
    tmp_path: Path, writer: Callable[[str, int, Barrier], None]
) -> None:
    db = str(tmp_path / "hashes.sqlite")
    HashCache(db).close()
    context = multiprocessing.get_context("spawn")
    # The writers start each round together (one process starting late would otherwise write
    # alone), so their transactions contend for the database in every round.
    turn = context.Barrier(3)
    workers = [context.Process(target=writer, args=(db, offset, turn)) for offset in (0, 1000, 2000)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    rows = sqlite3.connect(db).execute("SELECT ino, sha256 FROM digests").fetchall()
    assert sorted(rows) == [(ino, f"{ino:064x}") for offset in (0, 1000, 2000) for ino in range(offset, offset + 300)]


def test_prefetch_stores_every_digest_and_later_runs_hash_nothing(tmp_path: Path) -> None:
    db = str(tmp_path / "hashes.sqlite")
    paths = []
    for index in range(5):
        path = tmp_path / f"{index}.bin"
        path.write_bytes(bytes([index]) * (1000 + index))
        paths.append(str(path))
    first = Hasher(HashCache(db), workers=2)
    first.prefetch(paths)
    assert first.hashed == 5
    assert first.cache is not None
    first.cache.close()
    stored = dict(sqlite3.connect(db).execute("SELECT ino, sha256 FROM digests").fetchall())
    assert stored == {os.stat(p).st_ino: sha256(bytes([i]) * (1000 + i)) for i, p in enumerate(paths)}
    # Those entries are racy (the files were just written); entries past the window are
    # served by the next run's prefetch without reading a byte.
    cache = HashCache(db)
    for index, name in enumerate(paths):
        st = os.stat(name)
        cache.put(st, sha256(bytes([index]) * (1000 + index)), max(st.st_mtime_ns, st.st_ctime_ns) + RACY_NS + 1)
    second = Hasher(cache, workers=2)
    second.prefetch(paths)
    assert [second.digest(p).sha256 for p in paths] == [sha256(bytes([i]) * (1000 + i)) for i in range(5)]
    assert second.hashed == 0


def test_corrupt_database_is_rebuilt_with_a_warning(tmp_path: Path) -> None:
    db = tmp_path / "hashes.sqlite"
    db.write_bytes(b"this is not a sqlite database" * 100)
    cache = HashCache(str(db))
    assert cache.warnings and "rebuilt" in cache.warnings[0]
    st = os.stat(db)
    cache.put(st, "a" * 64, max(st.st_mtime_ns, st.st_ctime_ns) + RACY_NS + 1)
    assert cache.get(st) == "a" * 64


def test_check_uses_the_cache_in_git_and_reports_corruption(repo: Repo) -> None:
    repo.manifest("m")
    assert repo.run("check").returncode == 0
    db = repo.root / ".git" / "modelgate" / "hashes.sqlite"
    assert db.exists()
    assert repo.git("status", "--porcelain") == "?? m/"  # the cache lives in .git, never committed
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{db}{suffix}").exists():
            Path(f"{db}{suffix}").write_bytes(b"garbage" * 50)
    proc = repo.run("check")
    assert proc.returncode == 0
    assert "notice: hash cache" in proc.stdout and "rebuilt it" in proc.stdout


def test_check_takes_a_trusted_digest_from_the_cache_and_ci_never_does(repo: Repo) -> None:
    """A hit, proved by the command's verdict: the cache vouches for a digest the file does
    not have, so only a run that took it from the cache can pass. In CI the same cache is
    not opened (SECURITY.md: a poisoned cache), and the file is hashed and fails."""
    repo.manifest("m", artifacts=[{"path": "model.bin", "sha256": "ab" * 32, "size": 7}])
    repo.write("m/model.bin", b"weights")
    repo.commit()
    assert repo.run("check").returncode == 1  # hashed: the manifest's digest is wrong
    _trusted_entry(repo.root / "m" / "model.bin", "ab" * 32)
    hit = repo.run("check")
    assert hit.returncode == 0, hit.stdout + hit.stderr
    in_ci = repo.run("check", "--base", "none", env={"CI": "true"})
    assert in_ci.returncode == 1 and "sha256" in in_ci.stdout, in_ci.stdout
    assert repo.run("check", "--no-cache").returncode == 1
    (repo.root / "m" / "model.bin").write_bytes(b"Weights")  # same size, new bytes: the entry is void
    assert repo.run("check").returncode == 1


def test_ci_bypasses_the_cache_by_default(repo: Repo) -> None:
    """CI is told apart as for approvals (CI, GITHUB_ACTIONS, --ci): there no cache is made
    or read, and --cache cannot turn it on; on a laptop it is used unless --no-cache."""
    repo.manifest("m")
    db = repo.root / ".git" / "modelgate" / "hashes.sqlite"
    for args, env in [((), {"CI": "true"}), ((), {"GITHUB_ACTIONS": "true"}), (("--ci",), {})]:
        assert repo.run("check", "--base", "none", *args, env=env).returncode == 0
        assert not db.parent.exists(), (args, env)
        proc = repo.run("check", "--base", "none", "--cache", *args, env=env)
        assert proc.returncode == 4 and not db.parent.exists(), (args, env)
        assert proc.stderr == (
            "modelgate: error: --cache: the hash cache is never used in CI (CI, GITHUB_ACTIONS or --ci); drop --cache\n"
        )
    assert repo.run("check", "--no-cache").returncode == 0
    assert not db.exists()
    assert repo.run("check").returncode == 0
    assert db.exists()


@pytest.mark.parametrize(
    ("args", "env"),
    [((), {"CI": "true"}), ((), {"GITHUB_ACTIONS": "true"}), (("--ci",), {})],
    ids=["CI", "GITHUB_ACTIONS", "--ci"],
)
def test_a_planted_digest_is_never_read_in_ci(repo: Repo, args: tuple[str, ...], env: dict[str, str]) -> None:
    """Whatever ran in the clone before the gate (the change's own test suite, say) may have
    written the cache: in CI a digest planted there for swapped bytes is never believed."""
    reviewed, swapped = b"reviewed weights", b"swapped! weights"
    repo.manifest("m", artifact_bytes=reviewed)
    artifact = repo.root / "m" / "model.bin"
    artifact.write_bytes(swapped)  # same size, other bytes
    repo.commit("swapped artifact")
    db = repo.root / ".git" / "modelgate" / "hashes.sqlite"
    st = os.stat(artifact)
    cache = HashCache(str(db))
    cache.put(st, sha256(reviewed), max(st.st_mtime_ns, st.st_ctime_ns) + RACY_NS + 1)
    cache.close()
    # Where a cache is used, the planted digest is believed: the plant is a real one.
    assert repo.run("check", "--base", "none").returncode == 0
    planted = {p.name: p.read_bytes() for p in db.parent.iterdir()}
    proc = repo.run("check", "--base", "none", "--json", "../r.json", *args, env=env)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    report = json.loads((repo.root.parent / "r.json").read_text())
    assert [r["outcome"] for r in report["results"] if r["name"] == "artifact-hash"] == ["failed"]
    assert {p.name: p.read_bytes() for p in db.parent.iterdir()} == planted  # not even opened


@pytest.mark.parametrize("blocker", ["file-for-folder", "folder-for-database"])
def test_a_cache_that_cannot_be_opened_is_skipped_with_a_notice(repo: Repo, blocker: str) -> None:
    """A cache is a speed-up: when it cannot be made, every artifact is hashed and every
    document validated, and the run says why it was slower."""
    repo.manifest("m")
    if blocker == "file-for-folder":
        (repo.root / ".git" / "modelgate").write_text("not a folder")
    else:
        (repo.root / ".git" / "modelgate" / "hashes.sqlite").mkdir(parents=True)
    proc = repo.run("check")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "notice: hash cache disabled (" in proc.stdout and "to cache again" in proc.stdout
    # It names what is in the way: the file where the folder should be, or the folder
    # where the database should be.
    blocked = ".git/modelgate" if blocker == "file-for-folder" else ".git/modelgate/hashes.sqlite"
    assert f"fix or remove {repo.root / blocked} to cache again" in proc.stdout, proc.stdout
    (repo.root / "m" / "model.bin").write_bytes(b"swapped")
    assert repo.run("check").returncode == 1  # still hashed: the swap is found


def test_a_verdict_that_cannot_be_written_is_a_warning_not_a_crash(tmp_path: Path) -> None:
    db = str(tmp_path / "hashes.sqlite")
    cache = HashCache(db)
    other = sqlite3.connect(db)
    other.execute("DROP TABLE verdicts")  # what a newer or broken writer might leave
    other.commit()
    other.close()
    cache.add_valid("k")
    cache.flush()
    assert any(w.startswith("hash cache not updated: no such table") for w in cache.warnings), cache.warnings
    cache.close()


def test_a_file_hashed_on_its_own_is_stored_for_the_next_run(tmp_path: Path) -> None:
    path = tmp_path / "model.bin"
    path.write_bytes(b"z" * 100)
    db = str(tmp_path / "hashes.sqlite")
    cache = HashCache(db)
    Hasher(cache).digest(str(path))  # not on the pool: written at once, not batched
    rows = sqlite3.connect(db).execute("SELECT ino, sha256 FROM digests").fetchall()
    assert rows == [(os.stat(path).st_ino, sha256(b"z" * 100))]
    cache.close()


def test_the_racy_window_is_exactly_two_seconds(tmp_path: Path) -> None:
    path = tmp_path / "model.bin"
    path.write_bytes(b"x")
    cache = HashCache(str(tmp_path / "hashes.sqlite"))
    st = os.stat(path)
    changed = max(st.st_mtime_ns, st.st_ctime_ns)
    cache.put(st, sha256(b"x"), changed + RACY_NS - 1)
    assert cache.get(st) is None  # hashed within the window of its last change
    cache.put(st, sha256(b"x"), changed + RACY_NS)
    assert cache.get(st) == sha256(b"x")
    assert RACY_NS == 2_000_000_000  # FAT's 2 s timestamps, the coarsest in use


def _damage_the_verdicts_table(db: Path) -> None:
    """Overwrite the verdicts table's root page with garbage, leaving the rest intact: the
    cache opens (its check reads the digests table) and the damage is met in use."""
    HashCache(str(db)).close()  # checkpointed: every page is in the main file
    check = sqlite3.connect(db)
    page_size = check.execute("PRAGMA page_size").fetchone()[0]
    [(root,)] = check.execute("SELECT rootpage FROM sqlite_master WHERE name = 'verdicts'").fetchall()
    check.close()
    with db.open("r+b") as f:
        f.seek((root - 1) * page_size)
        f.write(b"\xff" * page_size)


@pytest.mark.parametrize("use", ["read", "write"])
def test_a_database_damaged_after_opening_is_rebuilt_on_read_and_write(tmp_path: Path, use: str) -> None:
    db = tmp_path / "hashes.sqlite"
    _damage_the_verdicts_table(db)
    cache = HashCache(str(db))
    assert cache.warnings == []
    if use == "read":
        assert not cache.known_valid("k")
    else:
        cache.add_valid("k")
        cache.flush()
    assert any("was unreadable" in w and "rebuilt it" in w for w in cache.warnings), cache.warnings
    cache.add_valid("k")
    cache.flush()
    assert cache.known_valid("k")  # working again after the rebuild
    cache.close()


def test_a_table_gone_missing_is_a_warning_on_read(tmp_path: Path) -> None:
    db = str(tmp_path / "hashes.sqlite")
    cache = HashCache(db)
    other = sqlite3.connect(db)
    other.execute("DROP TABLE digests")
    other.commit()
    other.close()
    path = tmp_path / "model.bin"
    path.write_bytes(b"x")
    assert cache.get(os.stat(path)) is None
    assert not cache.known_valid("k")
    assert cache.warnings[0].startswith("hash cache not read: no such table: digests"), cache.warnings
    cache.close()


def test_init_and_hash_update_leave_the_cache_warm(
    repo: Repo,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The first check after `init` or `hash --update` reads no file again: both store every
    digest they take (sha256 and DVC's md5) in the clone's cache. Counted by the reads the
    check makes, on a real DVC project (a DVC-tracked model and a repository-level data file)."""
    import time

    from modelgate.hashing import digest
    from tests.conftest import check_in_process
    from tests.interop_tools import copy_into, dvc_monorepo

    copy_into(dvc_monorepo(tmp_path_factory), repo.root)
    repo.commit("the pipeline")
    # Past the racy window of the files just copied (their ctime is now): as for a model
    # trained a while ago, or a large one, whose hashing alone outlasts the window.
    time.sleep(RACY_NS / 1e9 + 0.2)
    init = repo.run(
        "init",
        "models/churn/model.pkl",
        "--name",
        "churn",
        "--version",
        "1.0.0",
        "--owner",
        "@a/b",
        "--stage",
        "staging",
        "--license",
        "MIT",
        "--from-dvc",
        "models/churn/dvc.lock",
    )
    assert init.returncode == 0, init.stderr
    reads: list[str] = []
    real = digest.hash_file

    def counted(path: str, *args: object, **kwargs: bool) -> tuple[digest.Digest, os.stat_result]:
        reads.append(os.path.basename(path))
        return real(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(digest, "hash_file", counted)
    db = repo.root / ".git" / "modelgate" / "hashes.sqlite"

    def forget() -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)

    report = check_in_process(repo, capsys=capsys)
    assert report.code == 0, report.out
    assert report.outcomes("data-hash") == ["passed"] and report.outcomes("artifact-hash") == ["passed"]
    assert reads == []  # after init
    forget()
    assert repo.run("hash", "--update").returncode == 0
    assert check_in_process(repo, capsys=capsys).code == 0
    assert reads == []  # after hash --update
    forget()
    assert check_in_process(repo, capsys=capsys).code == 0
    assert sorted(reads) == ["model.pkl", "train.csv"]  # a cold cache: the check reads both


def test_a_cache_from_before_md5_gains_the_column(tmp_path: Path) -> None:
    """A database written before digests kept an md5 is upgraded on open, keeps its entries,
    and then stores md5s; opening it again adds nothing (and fails nothing)."""
    path = tmp_path / "hashes.sqlite"
    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE digests (dev INTEGER NOT NULL, ino INTEGER NOT NULL, size INTEGER NOT NULL,"
        " mtime_ns INTEGER NOT NULL, ctime_ns INTEGER NOT NULL, sha256 TEXT NOT NULL,"
        " hashed_at_ns INTEGER NOT NULL, PRIMARY KEY (dev, ino));"
        "INSERT INTO digests VALUES (1, 2, 3, 4, 5, 'old', 6);"
    )
    old.commit()
    old.close()
    artifact = tmp_path / "model.bin"
    artifact.write_bytes(b"weights")
    st = artifact.stat()
    for _ in range(2):
        cache = HashCache(str(path))
        assert cache.warnings == []
        cache.put(st, "a" * 64, st.st_ctime_ns + RACY_NS + 1, md5="b" * 32)
        assert cache.lookup(st) == ("a" * 64, "b" * 32)
        cache.close()
    check = sqlite3.connect(path)
    columns = [row[1] for row in check.execute("PRAGMA table_info(digests)")]
    assert columns.count("md5") == 1 and check.execute("SELECT sha256 FROM digests WHERE ino = 2").fetchone() == (
        "old",
    )
    check.close()
