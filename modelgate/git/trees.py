"""Where files are read from: the work tree, or a commit (the trusted base).

Config, policies and base manifests are read through a tree, so that with a base they
come from the base commit and never from the change under review. Either tree reads only
the repository's own files: a symlink out of it, or into ``.git``, is an error naming the
link (see :mod:`modelgate.confine`).
"""

from __future__ import annotations

import os
from typing import Literal, Protocol

from modelgate import confine
from modelgate.datamodel import strictyaml
from modelgate.errors import InputError, Problem
from modelgate.git.repo import GitRepo


class Tree(Protocol):
    source: Literal["base", "worktree"]

    def read(self, rel: str) -> bytes:
        """The file's bytes (at most 1 MiB); FileNotFoundError when absent."""
        ...

    def files_in(self, rel: str) -> list[str] | None:
        """Repo-relative paths of the files directly in folder ``rel``; None if no such folder."""
        ...


class WorkTree:
    source: Literal["base", "worktree"] = "worktree"

    def __init__(self, root: str) -> None:
        self.root = root

    def read(self, rel: str) -> bytes:
        # Refused before existence is asked: a path outside answers the same either way.
        real = confine.locate(self.root, rel, rel)
        if not os.path.lexists(os.path.join(self.root, rel)):
            raise FileNotFoundError(rel)
        return strictyaml.read_limited(real, rel)

    def files_in(self, rel: str) -> list[str] | None:
        folder = confine.locate(self.root, rel, rel)
        if not os.path.isdir(folder):
            return None
        return sorted(
            f"{rel.rstrip('/')}/{name}" for name in os.listdir(folder) if os.path.isfile(os.path.join(folder, name))
        )


class CommitTree:
    """A commit's files, read from git's objects. A symlink is followed inside the commit,
    as a checkout of it would be; one that leaves the commit's tree (an absolute target,
    too many ``..``) or enters ``.git`` is an error, and its blob (a path) is never taken
    for the file's content."""

    source: Literal["base", "worktree"] = "base"

    def __init__(
        self, repo: GitRepo, commit: str, listing: tuple[dict[str, str], dict[str, str]] | None = None
    ) -> None:
        """``listing``: the commit's (blobs, links) when the caller has them already."""
        self.repo = repo
        self.commit = commit
        self.blobs, self.links = listing if listing is not None else repo.listing(commit)
        self._targets: dict[str, str] | None = None

    def through(self, repo: GitRepo) -> CommitTree:
        """This tree, its files read through ``repo``: a thread asks its own git, since one
        ``cat-file`` process answers one reader at a time."""
        return CommitTree(repo, self.commit, (self.blobs, self.links))

    def read(self, rel: str) -> bytes:
        path, through_link = self._walk(rel)
        sha = self.blobs.get(path)
        if sha is None and through_link:
            # As in the work tree, a dangling link is unreadable, not absent.
            raise InputError(
                [
                    Problem(
                        rel,
                        1,
                        1,
                        f"is a symbolic link to nothing in the base commit {self.commit[:12]}; commit the file itself",
                    )
                ]
            )
        if sha is None:
            raise FileNotFoundError(rel)
        raw = self.repo.blob(sha, limit=strictyaml.MAX_BYTES)
        if len(raw) > strictyaml.MAX_BYTES:
            raise InputError(
                [
                    Problem(
                        rel,
                        1,
                        1,
                        f"file is larger than {strictyaml.MAX_BYTES // 1024} KiB at the base commit {self.commit[:12]}",
                    )
                ]
            )
        return raw

    def files_in(self, rel: str) -> list[str] | None:
        folder = self.resolve(rel)
        prefix = os.path.normpath(rel).replace(os.sep, "/").rstrip("/") + "/"
        inside = folder + "/" if folder else ""
        found = sorted(
            prefix + p[len(inside) :]
            for p in (*self.blobs, *self.links)
            if p.startswith(inside) and "/" not in p[len(inside) :] and self._is_file(p)
        )
        return found or None

    def _is_file(self, path: str) -> bool:
        """A regular file, or a symlink to one (or a refused one: reading it says why)."""
        if path in self.blobs:
            return True
        try:
            return self.resolve(path) in self.blobs
        except InputError:
            return True

    def resolve(self, rel: str) -> str:
        """``rel`` with the commit's symlinks followed (at most 40), as a checkout would;
        InputError naming ``rel`` when that leaves the tree or enters ``.git``."""
        return self._walk(rel)[0]

    def _walk(self, rel: str) -> tuple[str, bool]:
        """:meth:`resolve`, and whether a symlink was followed on the way."""
        if rel.startswith("/"):
            raise InputError([Problem(rel, 1, 1, confine.refused(confine.OUTSIDE))])
        pending = rel.split("/")[::-1]
        done: list[str] = []
        hops = 0
        while pending:
            part = pending.pop()
            if part in ("", "."):
                continue
            if part == "..":
                if not done:
                    raise InputError([Problem(rel, 1, 1, confine.refused(confine.OUTSIDE))])
                done.pop()
                continue
            if part.lower() == ".git":
                raise InputError([Problem(rel, 1, 1, confine.refused(confine.IN_GIT))])
            done.append(part)
            target = self._target("/".join(done))
            if target is None:
                continue
            hops += 1
            if hops > 40:
                raise InputError([Problem(rel, 1, 1, "too many levels of symbolic links at the base commit")])
            if target.startswith("/"):
                raise InputError([Problem(rel, 1, 1, confine.refused(confine.OUTSIDE))])
            done.pop()
            pending.extend(target.split("/")[::-1])
        return "/".join(done), hops > 0

    def _target(self, path: str) -> str | None:
        """Where the symlink ``path`` points, None when it is not one; every link's target
        read in one batch, the first time any is needed."""
        if path not in self.links:
            return None
        if self._targets is None:
            paths = list(self.links)
            raws = self.repo.blobs([self.links[p] for p in paths], limit=4096)
            self._targets = {p: raw.decode("utf-8", "surrogateescape") for p, raw in zip(paths, raws, strict=True)}
        return self._targets[path]
