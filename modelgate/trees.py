"""Where files are read from: the work tree, or a commit (the trusted base).

Config, policies and base manifests are read through a tree, so that with a base they
come from the base commit and never from the change under review.
"""

from __future__ import annotations

import os
from typing import Literal, Protocol

from modelgate import yamldoc
from modelgate.errors import InputError, Problem
from modelgate.gitrepo import GitRepo


class Tree(Protocol):
    source: Literal["base", "worktree"]

    def read(self, rel: str) -> bytes:
        """The file's bytes (at most 1 MiB); FileNotFoundError when absent."""

    def files_in(self, rel: str) -> list[str] | None:
        """Repo-relative paths of the files directly in folder ``rel``; None if no such folder."""


class WorkTree:
    source: Literal["base", "worktree"] = "worktree"

    def __init__(self, root: str) -> None:
        self.root = root

    def read(self, rel: str) -> bytes:
        path = os.path.join(self.root, rel)
        if not os.path.exists(path):
            raise FileNotFoundError(rel)
        return yamldoc.read_limited(path, rel)

    def files_in(self, rel: str) -> list[str] | None:
        folder = os.path.join(self.root, rel)
        if not os.path.isdir(folder):
            return None
        return sorted(
            f"{rel.rstrip('/')}/{name}" for name in os.listdir(folder)
            if os.path.isfile(os.path.join(folder, name))
        )


class CommitTree:
    source: Literal["base", "worktree"] = "base"

    def __init__(self, repo: GitRepo, commit: str) -> None:
        self.repo = repo
        self.commit = commit
        self.blobs = repo.tree(commit)

    def read(self, rel: str) -> bytes:
        sha = self.blobs.get(os.path.normpath(rel).replace(os.sep, "/"))
        if sha is None:
            raise FileNotFoundError(rel)
        raw = self.repo.blob(sha, limit=yamldoc.MAX_BYTES)
        if len(raw) > yamldoc.MAX_BYTES:
            raise InputError([Problem(rel, 1, 1, f"file is larger than {yamldoc.MAX_BYTES // 1024} KiB"
                                                 f" at the base commit {self.commit[:12]}")])
        return raw

    def files_in(self, rel: str) -> list[str] | None:
        prefix = os.path.normpath(rel).replace(os.sep, "/").rstrip("/") + "/"
        found = sorted(p for p in self.blobs if p.startswith(prefix) and "/" not in p[len(prefix):])
        return found or None
