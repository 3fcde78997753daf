"""All git access goes through here.

Plain ``git`` subprocesses for the few calls a check on a laptop needs (importing
gitpython costs ~170 ms, too much for a pre-commit hook); gitpython and one persistent
``git cat-file --batch`` for reading many blobs from the base commit.
"""

from __future__ import annotations

import os
import subprocess

from modelgate.errors import GitError


class GitRepo:
    def __init__(self, root: str) -> None:
        self.root = root

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
                ["git", "-C", self.root, "--no-optional-locks", *args],
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

    def head(self) -> str | None:
        out = self.run("rev-parse", "--verify", "--quiet", "HEAD^{commit}", check=False).strip()
        return out.decode() if out else None

    def list_files(self, pathspecs: list[str]) -> list[str]:
        """Tracked and untracked-but-not-ignored files under ``pathspecs`` (repo-relative)."""
        out = self.run(
            "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", *pathspecs
        )
        return sorted({p for p in out.decode("utf-8", "surrogateescape").split("\0") if p})
