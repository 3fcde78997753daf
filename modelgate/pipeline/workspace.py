"""What a run is asked (:class:`Options`) and where it reads from (:class:`Setup`).

The repository's root is found once (:func:`find_root`: git's top folder) and carried in
the setup. :func:`prepare` resolves the base and reads the configuration from the trusted
tree: the base commit when there is a base, else the work tree. The configuration that
governs a run is the nearest one from the paths checked (or the current folder) up to the
root, so a monorepo's ``ml/.modelgate.yaml`` governs the manifests under ``ml/``; with a
base, which configuration that is is decided by the base commit too.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from modelgate.datamodel import config
from modelgate.datamodel.records import record
from modelgate.errors import ModelgateError, UsageError
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


def find_root(paths: Sequence[str] = ()) -> str:
    """The repository's top folder for ``paths`` (default: the current folder), as git says
    (``rev-parse --show-toplevel``); where git gives none (a path inside ``.git`` itself),
    the nearest folder above holding ``.git``; outside git, the nearest folder above them
    holding a ``.modelgate.yaml``, else their folder."""
    start = _start(paths)
    try:
        proc = subprocess.run(
            ["git", "-C", start, "rev-parse", "--show-toplevel"],
            capture_output=True,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except OSError:  # no git: not a repository as far as modelgate can tell
        proc = None
    if proc is not None and proc.returncode == 0 and proc.stdout.strip():
        return os.path.normpath(proc.stdout.decode("utf-8", "surrogateescape").strip())
    for marker in (".git", config.CONFIG_FILE):
        folder = start
        while True:
            if os.path.exists(os.path.join(folder, marker)):
                return folder
            parent = os.path.dirname(folder)
            if parent == folder:
                break
            folder = parent
    return start


def _start(paths: Sequence[str]) -> str:
    start = os.path.commonpath([os.path.abspath(p) for p in paths]) if paths else os.getcwd()
    return start if os.path.isdir(start) else os.path.dirname(start)


def config_folder(read: Callable[[str], bytes], root: str, paths: Sequence[str] = ()) -> str:
    """The repo-relative folder of the configuration that governs ``paths`` (default: the
    current folder): the nearest folder from them up to ``root`` where ``read`` (the trusted
    tree) finds a ``.modelgate.yaml`` or a ``pyproject.toml`` with a ``[tool.modelgate]``
    table; "" for the root itself."""
    rel = os.path.relpath(_start(paths), root).replace(os.sep, "/")
    parts = [] if rel == "." or rel == ".." or rel.startswith("../") else rel.split("/")
    if any(part.lower() == ".git" for part in parts):  # no configuration lives in git's own folder
        parts = parts[: [part.lower() for part in parts].index(".git")]
    for size in range(len(parts), 0, -1):
        folder = "/".join(parts[:size])
        if _holds_config(read, folder):
            return folder
    return ""


def _holds_config(read: Callable[[str], bytes], folder: str) -> bool:
    for name in (config.CONFIG_FILE, "pyproject.toml"):
        try:
            raw = read(f"{folder}/{name}")
        except FileNotFoundError:
            continue
        except ModelgateError:
            return True  # there, but refused (a link out, too large): loading it says why
        if name == config.CONFIG_FILE or b"modelgate" in raw:
            return True
    return False


def local_config(root: str, env: Mapping[str, str], paths: Sequence[str] = ()) -> config.Config:
    """The work tree's configuration for ``paths``: for commands that read the work tree as
    it stands (``history``, ``diff``, ``list``, ``promote``'s choice of a base)."""
    read = WorkTree(root).read
    return config.load(read, env, {}, config_folder(read, root, paths))


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
        # git first: it stops what it began and no one asked for (the history's log, when
        # no rule read the history), so the base's reader, waiting on that, ends at once.
        if self.git is not None:
            self.git.close()
        if self.base is not None:
            self.base.close()


class EarlySetup:
    """:func:`prepare` begun on a thread of its own before the plugins are loaded: git
    answers the base and the configuration, and begins the history, while the command line
    is built and the checks are imported (most of prepare is waiting for git). The setup is
    taken only for the options it was begun with; an error is raised where it is taken, so
    a run reports what it always did, in the order it always did."""

    def __init__(self, options: Options, ahead: GitRepo | None = None) -> None:
        """``ahead``: the repository, opened from the current folder, whose history's log
        was begun before this (:meth:`GitRepo.begin_history`); the setup adopts what it began."""
        import threading

        self.options = options
        self._ahead = ahead
        self._result: Setup | BaseException | None = None
        self._thread = threading.Thread(target=self._prepare, name="early setup", daemon=True)
        self._thread.start()

    def _prepare(self) -> None:
        try:
            self._result = prepare(self.options, find_root(list(self.options.paths)), self._ahead)
        except BaseException as exc:  # raised where the setup is taken
            self._result = exc
            if self._ahead is not None:
                self._ahead.close()  # not adopted, or closed with the repository that adopted it

    def take(self, options: Options) -> Setup | None:
        """The setup begun for ``options``; None if it was begun for other ones (then the
        caller prepares its own)."""
        result = self._joined()
        if options != self.options:
            if isinstance(result, Setup):
                result.close()
            return None
        if isinstance(result, BaseException):
            raise result
        return result

    def close(self) -> None:
        """Close a setup no one took (a failed plugin, ``--help``)."""
        result = self._joined()
        if isinstance(result, Setup):
            result.close()

    def _joined(self) -> Setup | BaseException | None:
        """What preparing gave, once: None after it was taken or closed."""
        self._thread.join()
        result, self._result = self._result, None
        return result


def prepare(options: Options, root: str, ahead: GitRepo | None = None) -> Setup:
    """Resolve the base and read the configuration from the trusted tree; the git process
    it may have started is closed when it fails. ``ahead``: see :class:`EarlySetup`."""
    git = GitRepo.at(root)
    if ahead is not None:
        if git is not None:
            git.adopt(ahead)
        else:
            ahead.close()
    try:
        return _prepare(options, root, git)
    except BaseException:
        if git is not None:
            git.close()
        raise


def _prepare(options: Options, root: str, git: GitRepo | None) -> Setup:
    worktree = WorkTree(root)
    if git is not None and (options.changed or not options.paths):
        # What the run will ask git is begun early: git answers on the other core while
        # the configuration, plugins and policies load here.
        git.start_listing()
    flags = {"policies": list(options.policies) if options.policies else None}

    def settings(read: Callable[[str], bytes]) -> config.Config:
        return config.load(read, options.env, flags, config_folder(read, root, options.paths))

    if in_ci(options.ci, options.env):
        # The work tree is the change under review: its config `base` must not say what it
        # is compared with, and nothing of it is read before the base is known.
        local = None
        choice = choose_base(options.base, options.env, None, ci=True)
        choice.require_head(git.head() if git is not None else None)
    else:
        local = settings(worktree.read)
        choice = choose_base(options.base, options.env, local.base, ci=False)
    if choice.ref is None:
        return Setup(root, git, None, worktree, local or settings(worktree.read))
    if git is None:
        raise UsageError(f"a base ({choice.ref}) needs a git repository; {root} is not one")
    base = Base(git, choice.ref, root, early=True)
    base.branch = choice.branch
    if options.changed:
        git.start_changed_paths(base.merge_base)
    # Everything that decides what is checked comes from the base commit: which config file
    # governs and the manifest globs included (a change's own `manifests:`, or a config it
    # adds in a subfolder, must not hide a base manifest it deletes).
    trusted = settings(base.tree.read)
    base.globs = trusted.manifests
    base.read_ahead()
    return Setup(root, git, base, base.tree, trusted)
