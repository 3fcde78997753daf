"""What a run is asked (:class:`Options`) and where it reads from (:class:`Setup`).

:func:`prepare` resolves the base and reads the configuration from the trusted tree: the
base commit when there is a base, else the work tree.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from modelgate.datamodel import config
from modelgate.datamodel.records import record
from modelgate.errors import UsageError
from modelgate.git.repo import GitRepo
from modelgate.git.trees import Tree, WorkTree
from modelgate.pipeline.base import Base, choose_base
from modelgate.pipeline.ci import in_ci


@record
class Options:
    paths: tuple[str, ...] = ()
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    strict: bool = False
    traceback: bool = False
    policies: tuple[str, ...] | None = None
    base: str | None = None
    changed: bool = False
    cache: bool | None = None  # None: use the hash cache outside CI (never in CI)
    deep: bool = False
    shard: tuple[int, int] | None = None  # (k, n): the k-th of n deterministic parts, 1-based
    ci: bool | None = None  # None: CI=true or GITHUB_ACTIONS=true (modelgate.pipeline.ci.in_ci)
    env: Mapping[str, str] = field(default_factory=dict)
    # Manifest bytes to check in place of the file at that absolute path: `promote --dry-run`
    # checks the promoted manifest without writing it.
    overlay: Mapping[str, bytes] = field(default_factory=dict)


@dataclass
class Setup:
    """Where this run reads from: the repository, the verified base, and the trusted tree
    (the base commit when there is a base, else the work tree) with its configuration."""

    root: str
    git: GitRepo | None
    base: Base | None
    tree: Tree
    config: config.Config

    def close(self) -> None:
        if self.git is not None:
            self.git.close()


def prepare(options: Options, root: str) -> Setup:
    """Resolve the base and read the configuration from the trusted tree."""
    git = GitRepo(root) if os.path.exists(os.path.join(root, ".git")) else None
    worktree = WorkTree(root)
    flags = {"policies": list(options.policies) if options.policies else None}
    if in_ci(options.ci, options.env):
        # The work tree is the change under review: its config `base` must not say what it
        # is compared with, and nothing of it is read before the base is known.
        local = None
        choice = choose_base(options.base, options.env, None, ci=True)
    else:
        local = config.load(worktree.read, options.env, flags)
        choice = choose_base(options.base, options.env, local.base, ci=False)
    if choice.ref is None:
        return Setup(root, git, None, worktree, local or config.load(worktree.read, options.env, flags))
    if git is None:
        raise UsageError(f"a base ({choice.ref}) needs a git repository; {root} is not one")
    base = Base(git, choice.ref, root)
    base.branch = choice.branch
    # Everything that decides what is checked comes from the base commit, the manifest
    # globs included: a change's own `manifests:` must not hide a base manifest it deletes.
    trusted = config.load(base.tree.read, options.env, flags)
    base.globs = trusted.manifests
    return Setup(root, git, base, base.tree, trusted)
