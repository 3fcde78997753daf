"""A per-clone cache of artifact digests, so an unchanged 10 GB file is never hashed twice.

SQLite in WAL mode under ``<git dir>/modelgate/`` (never committed, shared by worktrees).
An entry is keyed by (st_dev, st_ino) and valid only while size, mtime_ns and ctime_ns are
unchanged. Like git's racy-clean rule, an entry is not trusted when the file's timestamps
are within the filesystem's timestamp granularity of when it was hashed: a write in the
same tick would not have moved them. Concurrent runs share it safely (WAL, a busy
timeout, one statement per write); a corrupt database is rebuilt with a warning.

An entry keeps the file's md5 too when it was taken (DVC records md5): a DVC-tracked file
is then re-verified without a read, like any other.

It also remembers verdicts: content keys of documents (manifest, policy, rule params) that
validated, so that unchanged bytes skip pydantic (see :mod:`modelgate.datamodel.validation`).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

# Coarse filesystems (FAT: 2 s, ext3/HFS+: 1 s) keep the same timestamp for writes this
# close together; anything hashed within this window of its last change is re-hashed.
RACY_NS = 2_000_000_000
SCHEMA = """
CREATE TABLE IF NOT EXISTS digests (
    dev INTEGER NOT NULL, ino INTEGER NOT NULL,
    size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, ctime_ns INTEGER NOT NULL,
    sha256 TEXT NOT NULL, hashed_at_ns INTEGER NOT NULL,
    PRIMARY KEY (dev, ino)
);
CREATE TABLE IF NOT EXISTS verdicts (key TEXT PRIMARY KEY) WITHOUT ROWID;
"""
# Added after the first release: a database made before it gains the column on open.
MD5_COLUMN = "ALTER TABLE digests ADD COLUMN md5 TEXT"


class HashCache:
    def __init__(self, path: str) -> None:
        self.path = path
        self.warnings: list[str] = []
        self._db: sqlite3.Connection | None = None
        self._valid: list[str] = []  # verdicts to write on close, in one transaction
        try:
            self._db = self._open()
        except sqlite3.DatabaseError as exc:
            if _corrupt(exc):
                self._rebuild(exc)
            elif isinstance(exc, sqlite3.OperationalError):  # cannot open or lock it at all
                self.warnings.append(f"hash cache disabled ({exc}): fix or remove {self.path} to cache again")
            else:
                raise
        except OSError as exc:  # its folder cannot be made: a cache is a speed-up, not a verdict
            where = exc.filename or self.path
            self.warnings.append(f"hash cache disabled ({exc.strerror}): fix or remove {where} to cache again")

    def _open(self) -> sqlite3.Connection:
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(SCHEMA)
        if "md5" not in {row[1] for row in db.execute("PRAGMA table_info(digests)")}:
            with contextlib.suppress(sqlite3.OperationalError):  # another run added it just now
                db.execute(MD5_COLUMN)
        db.execute("SELECT count(*) FROM digests").fetchone()
        return db

    def _rebuild(self, exc: Exception) -> None:
        self.warnings.append(f"hash cache {self.path} was unreadable ({exc}); rebuilt it")
        if self._db is not None:
            self._db.close()
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path + suffix)
        try:
            self._db = self._open()
        except (sqlite3.DatabaseError, OSError) as again:
            self.warnings.append(f"hash cache disabled: {again}")
            self._db = None

    def get(self, st: os.stat_result) -> str | None:
        """The cached sha256 of the file ``st`` describes, if it can be trusted."""
        found = self.lookup(st)
        return found[0] if found is not None else None

    def lookup(self, st: os.stat_result) -> tuple[str, str | None] | None:
        """The cached (sha256, md5) of the file ``st`` describes, if they can be trusted;
        md5 is None when it was not taken."""
        row = self._read(
            "SELECT size, mtime_ns, ctime_ns, sha256, hashed_at_ns, md5 FROM digests WHERE dev=? AND ino=?",
            (st.st_dev, st.st_ino),
        )
        if row is None:
            return None
        size, mtime_ns, ctime_ns, sha256, hashed_at_ns, md5 = row
        if (size, mtime_ns, ctime_ns) != (st.st_size, st.st_mtime_ns, st.st_ctime_ns):
            return None
        if hashed_at_ns - max(mtime_ns, ctime_ns) < RACY_NS:
            return None  # racy: hashed in the same tick as a write could have happened
        return str(sha256), str(md5) if md5 is not None else None

    def put(self, st: os.stat_result, sha256: str, hashed_at_ns: int, md5: str | None = None) -> None:
        self.put_many([(st, sha256, hashed_at_ns, md5)])

    def put_many(
        self,
        rows: Sequence[tuple[os.stat_result, str, int] | tuple[os.stat_result, str, int, str | None]],
    ) -> None:
        """:meth:`put` for many files (``(stat, sha256, hashed_at_ns[, md5])``), in one
        transaction: one commit instead of one per file."""
        if self._db is None:
            return
        values = [
            (
                row[0].st_dev,
                row[0].st_ino,
                row[0].st_size,
                row[0].st_mtime_ns,
                row[0].st_ctime_ns,
                row[1],
                row[2],
                row[3] if len(row) > 3 else None,
            )
            for row in rows
        ]
        self._write(
            "INSERT OR REPLACE INTO digests (dev, ino, size, mtime_ns, ctime_ns, sha256, hashed_at_ns, md5)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            values,
        )

    def _write(self, statement: str, values: Sequence[tuple[object, ...]]) -> None:
        assert self._db is not None
        try:
            with self._db:  # BEGIN ... COMMIT, or ROLLBACK on an exception
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany(statement, values)
        except sqlite3.OperationalError as exc:
            self.warnings.append(f"hash cache not updated: {exc}")
        except sqlite3.DatabaseError as exc:
            if not _corrupt(exc):
                raise
            self._rebuild(exc)

    def known_valid(self, key: str) -> bool:
        """Whether the content ``key`` names was validated valid before."""
        return self._read("SELECT 1 FROM verdicts WHERE key=?", (key,)) is not None

    def _read(self, query: str, values: tuple[object, ...]) -> tuple[Any, ...] | None:
        """The first row the query finds; None when there is none or the cache cannot be read."""
        if self._db is None:
            return None
        try:
            row: tuple[Any, ...] | None = self._db.execute(query, values).fetchone()
        except sqlite3.OperationalError as exc:
            self.warnings.append(f"hash cache not read: {exc}")
            return None
        except sqlite3.DatabaseError as exc:
            if not _corrupt(exc):
                raise
            self._rebuild(exc)
            return None
        return row

    def add_valid(self, key: str) -> None:
        self._valid.append(key)

    def flush(self) -> None:
        """Write the verdicts added since the last flush, in one transaction."""
        if self._db is not None and self._valid:
            self._write("INSERT OR IGNORE INTO verdicts VALUES (?)", [(key,) for key in self._valid])
        self._valid = []

    def close(self) -> None:
        self.flush()
        if self._db is not None:
            self._db.close()
            self._db = None


def _corrupt(exc: sqlite3.DatabaseError) -> bool:
    """Damage to the file (rebuild it), as opposed to a bug in how we use it (raise).

    sqlite3 raises the base class itself for "file is not a database" and "database disk
    image is malformed"; subclasses (IntegrityError...) mean something else.
    """
    return type(exc) is sqlite3.DatabaseError


def for_clone(root: str, env: Mapping[str, str]) -> HashCache | None:
    """The per-clone cache of the repository at ``root``, as ``check`` opens it outside CI:
    ``init``, ``hash`` and ``resolve --verify`` fill it and read it. None in CI (where no
    cache is used, see ``check``) or outside a git repository."""
    from modelgate.git.repo import GitRepo  # here: `--version` and friends import this module's callers
    from modelgate.pipeline.ci import in_ci

    repo = None if in_ci(None, env) else GitRepo.at(root)
    if repo is None:
        return None
    return HashCache(os.path.join(repo.common_dir(), "modelgate", "hashes.sqlite"))
