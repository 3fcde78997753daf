"""All git access goes through here.

Plain ``git`` subprocesses for the few calls a check on a laptop needs (importing
gitpython costs ~170 ms, too much for a pre-commit hook); gitpython's object database,
which keeps one persistent ``git cat-file --batch`` process, for reading many blobs from
the base commit. Every ref from a user is verified with ``rev-parse --verify
--end-of-options`` and only full SHAs travel further.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from modelgate.errors import GitError

_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
ZERO = "0" * 40


@dataclass(frozen=True)
class Change:
    """One file touched by one commit, from ``git log --raw``."""

    commit: str
    timestamp: int
    author: str
    path: str
    blob: str  # the new blob; all zeros when the file was deleted
    status: str


class GitRepo:
    def __init__(self, root: str) -> None:
        self.root = root
        self._odb: Any = None

    @staticmethod
    def find(start: str) -> GitRepo | None:
        """The repository whose work tree contains ``start``, if any."""
        path = os.path.abspath(start)
        while True:
            if os.path.exists(os.path.join(path, ".git")):
                return GitRepo(path)
            parent = os.path.dirname(path)
            if parent == path:
                return None
            path = parent

    def run(self, *args: str, check: bool = True) -> bytes:
        try:
            proc = subprocess.run(
                ["git", "-C", self.root, "--no-optional-locks", "-c", "core.quotepath=off", *args],
                capture_output=True,
                stdin=subprocess.DEVNULL,
                check=False,
            )
        except OSError as exc:
            raise GitError(f"cannot run git: {exc.strerror}; install git or run outside a repository") from None
        if check and proc.returncode != 0:
            message = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            raise GitError(f"git {args[0]} failed: {message[-1] if message else proc.returncode}")
        return proc.stdout

    def _ok(self, *args: str) -> bool:
        return subprocess.run(
            ["git", "-C", self.root, "--no-optional-locks", *args],
            capture_output=True, stdin=subprocess.DEVNULL, check=False,
        ).returncode == 0

    # -- refs ----------------------------------------------------------------------

    def head(self) -> str | None:
        out = self.run("rev-parse", "--verify", "--quiet", "HEAD^{commit}", check=False).strip()
        return out.decode() if out else None

    def is_shallow(self) -> bool:
        return self.run("rev-parse", "--is-shallow-repository", check=False).strip() == b"true"

    def verify(self, ref: str, what: str = "base") -> str:
        """The full SHA of commit ``ref``; a GitError with the fix when it is not there."""
        out = self.run("rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}",
                       check=False).strip().decode()
        if _SHA.match(out):
            return out
        shown = ref.encode("unicode_escape").decode("ascii")[:200]
        if self.is_shallow():
            raise GitError(
                f"{what} {shown!r} is not in this shallow clone; fetch the history it needs:"
                " `git fetch --unshallow` (actions/checkout: `fetch-depth: 0`), or"
                f" `git fetch origin {shown}`"
            )
        raise GitError(f"{what} {shown!r} is not a commit in this repository; check the name, or `git fetch` it")

    def merge_base(self, base: str, head: str) -> str:
        out = self.run("merge-base", base, head, check=False).strip().decode()
        if _SHA.match(out):
            return out
        if self.is_shallow():
            raise GitError(
                "no merge-base between the base and HEAD in this shallow clone; fetch more history:"
                " `git fetch --unshallow` (actions/checkout: `fetch-depth: 0`)"
            )
        raise GitError("the base and HEAD share no history; compare with a branch this one was made from")

    def has_commit(self, sha: str) -> bool:
        return self._ok("cat-file", "-e", f"{sha}^{{commit}}")

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        return self._ok("merge-base", "--is-ancestor", ancestor, descendant)

    def common_dir(self) -> str:
        """The git directory shared by all worktrees (``.git`` of the main one)."""
        out = self.run("rev-parse", "--git-common-dir").strip().decode()
        return os.path.normpath(os.path.join(self.root, out))

    def current_branch(self) -> str | None:
        out = self.run("symbolic-ref", "--quiet", "--short", "HEAD", check=False).strip()
        return out.decode() if out else None

    def origin_url(self) -> str | None:
        out = self.run("remote", "get-url", "origin", check=False).strip()
        return out.decode() if out else None

    # -- trees and blobs -----------------------------------------------------------

    def list_files(self, pathspecs: list[str]) -> list[str]:
        """Tracked and untracked-but-not-ignored files under ``pathspecs`` (repo-relative)."""
        out = self.run(
            "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", *pathspecs
        )
        return sorted({p for p in out.decode("utf-8", "surrogateescape").split("\0") if p})

    def tree(self, commit: str) -> dict[str, str]:
        """path -> blob SHA of every file in ``commit``."""
        out = self.run("ls-tree", "-r", "-z", "--full-tree", commit)
        files = {}
        for entry in out.decode("utf-8", "surrogateescape").split("\0"):
            if not entry:
                continue
            meta, path = entry.split("\t", 1)
            _mode, kind, sha = meta.split()
            if kind == "blob":
                files[path] = sha
        return files

    def blob(self, sha: str) -> bytes:
        """A blob's bytes, through one persistent ``git cat-file --batch`` per run."""
        if self._odb is None:
            import git

            try:
                self._odb = git.Repo(self.root).odb
            except git.exc.GitError as exc:
                raise GitError(f"cannot open the repository: {exc}") from None
        try:
            return bytes(self._odb.stream(bytes.fromhex(sha)).read())
        except (ValueError, OSError) as exc:
            raise GitError(f"cannot read blob {sha}: {exc}") from None

    def close(self) -> None:
        """End the persistent ``cat-file`` process, if one was started."""
        if self._odb is not None:
            self._odb._git.clear_cache()
            self._odb = None

    # -- history -------------------------------------------------------------------

    def changes(self, rev: str, pathspecs: list[str]) -> Iterator[Change]:
        """Files matching ``pathspecs`` changed by each commit reachable from ``rev``, oldest first."""
        out = self.run(
            "log", "--reverse", "--format=%x01%H%x00%ct%x00%an <%ae>", "--raw", "--no-abbrev",
            "--no-renames", "-z", rev, "--", *pathspecs,
        )
        for record in out.decode("utf-8", "surrogateescape").split("\x01")[1:]:
            fields = record.split("\0")
            commit, timestamp, author = fields[0], int(fields[1]), fields[2]
            rest = [f for f in fields[3:] if f]
            for meta, path in zip(rest[::2], rest[1::2], strict=False):
                parts = meta.lstrip("\n:").split()
                yield Change(commit, timestamp, author, path, parts[3], parts[4])

    def changed_paths(self, since: str | None) -> set[str]:
        """Paths differing between ``since`` (or HEAD) and the work tree, untracked included."""
        ref = since or self.head()
        if ref is None:
            return set(self.list_files(["."]))
        out = self.run("diff", "--name-only", "--no-renames", "-z", ref, "--")
        untracked = self.run("ls-files", "-z", "--others", "--exclude-standard")
        text = (out + b"\0" + untracked).decode("utf-8", "surrogateescape")
        return {p for p in text.split("\0") if p}
