"""All git access goes through here.

Plain ``git`` subprocesses, never through a shell, for the few calls a check needs; one
persistent ``git cat-file --batch`` process (:class:`CatFile`, pipelined requests) for reading many blobs from
the base commit and its history. Every ref from a user is verified with ``rev-parse
--verify --end-of-options`` and only full SHAs travel further.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import stat
import subprocess
from collections.abc import Callable, Iterator, Sequence

from modelgate.errors import GitError
from modelgate.git.background import Background
from modelgate.git.catfile import OBJECT_ID, CatFile, ReadAhead, require_ids
from modelgate.git.log import FileChange, log_arguments, parse_changes

# A ref a hint may quote in a command to paste: what a shell passes unchanged and git
# reads as a name, never an option.
_PASTEABLE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._/-]{0,199}")
ZERO = "0" * 40
LINK_MODE = "120000"  # a symlink's mode in a git tree


def blob_id(raw: bytes, size: int = 40) -> str:
    """The id git gives a blob of these bytes: SHA-1 of ``blob <length>\\0`` and the bytes
    (``size`` 64: a SHA-256 repository's). Equal ids are equal bytes, as far as git itself
    can tell: a commit holds a file by this id."""
    digest = hashlib.sha1 if size == 40 else hashlib.sha256
    return digest(b"blob %d\0" % len(raw) + raw).hexdigest()


class GitRepo:
    def __init__(self, root: str) -> None:
        self.root = root
        self._catfile: CatFile | None = None
        self._origin: tuple[str | None] | None = None
        # Blob id -> bytes already in memory (work tree files whose id was computed from
        # their bytes): reading them again through cat-file would give the same bytes.
        self._known: dict[str, bytes] = {}
        # Asked once per run, by several: a commit's tree, and the work tree's file list.
        self._listings: dict[str, tuple[dict[str, str], dict[str, str]]] = {}
        self._work: dict[str, tuple[bool, str]] | None = None
        self._started: dict[tuple[str, ...], Background] = {}
        self._head: tuple[str | None] | None = None

    def remember(self, sha: str, raw: bytes) -> None:
        """Bytes whose blob id is ``sha`` (computed by :func:`blob_id` from these very
        bytes), answered from memory by :meth:`blobs`."""
        self._known[sha] = raw

    @staticmethod
    def at(root: str) -> GitRepo | None:
        """The repository whose top folder is ``root`` (see ``workspace.find_root``), if it is one."""
        return GitRepo(root) if os.path.exists(os.path.join(root, ".git")) else None

    def run(self, *args: str, check: bool = True, input: bytes | None = None) -> bytes:
        """``git args``' output (with ``input`` on its standard input); a GitError when it
        fails and ``check``. What :meth:`start` began with these arguments is taken instead."""
        started = self._started.get(args) if input is None else None
        if started is not None:
            # Popped once answered, not before: close() from another thread stops it meanwhile.
            done = started.result()
            self._started.pop(args, None)
            if done is not None:
                returncode, stdout, stderr = done
                return self._checked(args, check, returncode, stdout, stderr)
        try:
            proc = subprocess.run(
                ["git", "-C", self.root, "--no-optional-locks", "-c", "core.quotepath=off", *args],
                capture_output=True,
                input=input,
                stdin=subprocess.DEVNULL if input is None else None,
                check=False,
            )
        except OSError as exc:
            raise GitError(f"cannot run git: {exc.strerror}; install git or run outside a repository") from None
        return self._checked(args, check, proc.returncode, proc.stdout, proc.stderr)

    @staticmethod
    def _checked(args: Sequence[str], check: bool, returncode: int, stdout: bytes, stderr: bytes) -> bytes:
        if check and returncode != 0:
            message = stderr.decode("utf-8", "replace").strip().splitlines()
            raise GitError(f"git {args[0]} failed: {message[-1] if message else returncode}")
        return stdout

    def start(self, *args: str) -> None:
        """Run ``git args`` in the background now: :meth:`run` with the same arguments later
        takes its output instead of running it then. A run asks git a dozen questions whose
        arguments it knows early; git answers them on the other core while Python loads the
        policies. (Read-only questions only: the answer must be what asking later gives.)"""
        if args not in self._started:
            self._started[args] = Background(
                ["git", "-C", self.root, "--no-optional-locks", "-c", "core.quotepath=off", *args]
            )

    def begin_history(self, ref: str) -> None:
        """Begin the ``git log`` of :meth:`start_changes` for commit ``ref`` now, before the
        run has chosen its base: the longest question a run asks, begun before the rest of
        the program is imported. Nothing is begun where ``ref`` is no commit (the run, if it
        chooses that base, reports why)."""
        with contextlib.suppress(GitError):  # no git: the run reports it where it asks
            sha = self.run(*_verify(ref), check=False).strip().decode()
            if OBJECT_ID.match(sha):
                self.start_changes(sha)

    def adopt(self, other: GitRepo) -> None:
        """Take what ``other``, this repository opened from another of its folders, began and
        nobody asked for: :meth:`run` here takes its answers. ``other`` is closed."""
        for args, started in list(other._started.items()):
            if args in self._started:
                started.stop()
            else:
                self._started[args] = started
        other._started.clear()
        other.close()

    def _ok(self, *args: str) -> bool:
        return (
            subprocess.run(
                ["git", "-C", self.root, "--no-optional-locks", *args],
                capture_output=True,
                stdin=subprocess.DEVNULL,
                check=False,
            ).returncode
            == 0
        )

    # -- refs ----------------------------------------------------------------------

    def head(self) -> str | None:
        """The commit HEAD names (None: no commit yet), as first asked: a run judges one
        commit, and its parts (the base, approvals, the report) must name the same one."""
        if self._head is None:
            out = self.run("rev-parse", "--verify", "--quiet", "HEAD^{commit}", check=False).strip()
            self._head = (out.decode() if out else None,)
        return self._head[0]

    def is_shallow(self) -> bool:
        return self.run("rev-parse", "--is-shallow-repository", check=False).strip() == b"true"

    def verify(self, ref: str, what: str = "base") -> str:
        """The full SHA of commit ``ref``; a GitError with the fix when it is not there."""
        out = self.run(*_verify(ref), check=False).strip().decode()
        if OBJECT_ID.match(out):
            return out
        shown = ref.encode("unicode_escape").decode("ascii")[:200]
        if self.is_shallow():
            unshallow = "`git fetch --unshallow` (actions/checkout: `fetch-depth: 0`)"
            fetch = self.fetch_command(ref)
            if fetch is None:
                how = f"the history it needs: {unshallow}"
            elif OBJECT_ID.match(ref):
                how = f"the history it needs: {unshallow}, or `{fetch[0]}`"
            else:
                how = f"it: `{fetch[0]}`" + (f", then compare with `{fetch[1]}`" if fetch[1] != ref else "")
            raise GitError(f"{what} {shown!r} is not in this shallow clone; fetch {how}")
        raise GitError(f"{what} {shown!r} is not a commit in this repository; check the name, or `git fetch` it")

    def fetch_command(self, ref: str) -> tuple[str, str] | None:
        """The git command that brings ``ref`` into this clone, as a user pastes it, and
        the name to use for it afterwards; None for a ref no shell-safe command names.

        git accepts the command as written: a remote-tracking name is fetched by the branch
        it tracks, into itself, with an explicit refspec (a shallow clone's remote may
        track one branch only, so `git fetch origin main` would update nothing).
        """
        if not _PASTEABLE.fullmatch(ref):
            return None  # `HEAD~3`, `@{u}`, quotes: nothing to fetch by name, or unsafe to paste
        remotes = self.run("remote", check=False).decode("utf-8", "replace").split()
        if not remotes:
            return None
        default = "origin" if "origin" in remotes else remotes[0]
        if OBJECT_ID.match(ref):
            return f"git fetch {default} {ref}", ref
        for remote in remotes:
            branch = ref.removeprefix(f"{remote}/")
            if branch != ref and self._ok("check-ref-format", f"refs/remotes/{ref}"):
                return f"git fetch {remote} refs/heads/{branch}:refs/remotes/{ref}", ref
        if ref in remotes or not self._ok("check-ref-format", f"refs/remotes/{default}/{ref}"):
            return None
        return f"git fetch {default} {ref}:refs/remotes/{default}/{ref}", f"{default}/{ref}"

    def merge_base(self, base: str, head: str) -> str:
        out = self.run("merge-base", base, head, check=False).strip().decode()
        if OBJECT_ID.match(out):
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

    def parents(self, sha: str) -> list[str]:
        """The parents of commit ``sha`` (a full SHA): two for the merge commit that CI checks
        out for a pull request, whose second parent is the pull request's head."""
        out = self.run(*_PARENTS, sha).decode().split()
        return out[1:]

    def start_parents(self, sha: str) -> None:
        """Begin :meth:`parents` ``(sha)`` in the background (see :meth:`start`)."""
        self.start(*_PARENTS, sha)

    def reaches(self, sha: str) -> bool | None:
        """Whether HEAD reaches commit ``sha`` (a full SHA); None when there is no such commit.

        One git call for the common answer: ``merge-base --is-ancestor`` exits 0 or 1, and
        128 only when an object is missing.
        """
        if not OBJECT_ID.match(sha):
            return None
        code = subprocess.run(
            ["git", "-C", self.root, "--no-optional-locks", "merge-base", "--is-ancestor", sha, "HEAD"],
            capture_output=True,
            stdin=subprocess.DEVNULL,
            check=False,
        ).returncode
        if code in (0, 1):
            return code == 0
        return None if not self.has_commit(sha) else False

    def common_dir(self) -> str:
        """The git directory shared by all worktrees (``.git`` of the main one)."""
        out = self.run("rev-parse", "--git-common-dir").strip().decode()
        return os.path.normpath(os.path.join(self.root, out))

    def current_branch(self) -> str | None:
        out = self.run("symbolic-ref", "--quiet", "--short", "HEAD", check=False).strip()
        return out.decode() if out else None

    def origin_url(self) -> str | None:
        if self._origin is None:  # asked once per manifest by code-commit: once is enough
            out = self.run("remote", "get-url", "origin", check=False).strip()
            self._origin = (out.decode("utf-8", "replace") if out else None,)
        return self._origin[0]

    # -- trees and blobs -----------------------------------------------------------

    def list_files(self, pathspecs: list[str]) -> list[str]:
        """Tracked and untracked-but-not-ignored files under ``pathspecs`` (repo-relative)."""
        return sorted(self.work_files(pathspecs))

    def work_files(self, pathspecs: list[str]) -> dict[str, bool]:
        """Tracked and untracked-but-not-ignored files under ``pathspecs`` (repo-relative),
        each with whether git tracks it: one ``ls-files``, whose ``-t`` tag is ``?`` for an
        untracked file."""
        if pathspecs == ["."]:
            return {path: tracked for path, (tracked, _) in self._work_listing().items()}
        out = self.run("ls-files", "-z", "-t", "--cached", "--others", "--exclude-standard", "--", *pathspecs)
        found: dict[str, bool] = {}
        for entry in out.decode("utf-8", "surrogateescape").split("\0"):
            if len(entry) > 2:
                found[entry[2:]] = found.get(entry[2:], False) or entry[0] != "?"
        return found

    def _work_listing(self) -> dict[str, tuple[bool, str]]:
        """Every tracked and untracked-but-not-ignored file: path -> (tracked, the mode git's
        index gives it; "" when untracked), read once per run. ``-s`` adds the mode (and the
        stage) to a tracked file's line; an untracked one's stays ``? path``."""
        if self._work is None:
            out = self.run(*_LISTING)
            found: dict[str, tuple[bool, str]] = {}
            for entry in out.decode("utf-8", "surrogateescape").split("\0"):
                if len(entry) < 3:
                    continue
                if entry[0] == "?":
                    found.setdefault(entry[2:], (False, ""))
                else:
                    meta, _, path = entry[2:].partition("\t")
                    found[path] = (True, meta.split(" ", 1)[0])
            self._work = found
        return self._work

    def listing(self, commit: str) -> tuple[dict[str, str], dict[str, str]]:
        """(files, links): path -> blob SHA of the regular files, and of the symlinks, in
        ``commit`` (a full SHA, or a ref read once). A symlink's blob holds the path it
        points to: it is never a file's content."""
        found = self._listings.get(commit)
        if found is None:
            found = self._listings[commit] = self._list(commit)
        return found

    def _list(self, commit: str) -> tuple[dict[str, str], dict[str, str]]:
        out = self.run("ls-tree", "-r", "-z", "--full-tree", commit)
        files: dict[str, str] = {}
        links: dict[str, str] = {}
        for entry in out.decode("utf-8", "surrogateescape").split("\0"):
            if not entry:
                continue
            meta, path = entry.split("\t", 1)
            mode, kind, sha = meta.split()
            if kind == "blob":
                (links if mode == LINK_MODE else files)[path] = sha
        return files, links

    def tree(self, commit: str) -> dict[str, str]:
        """path -> blob SHA of every regular file in ``commit`` (symlinks: :meth:`listing`)."""
        return self.listing(commit)[0]

    def lfs_paths(self, paths: Sequence[str]) -> set[str]:
        """The ``paths`` (repo-relative) whose git attributes say ``filter=lfs``: one
        ``check-attr`` for all of them, the paths on its standard input."""
        if not paths:
            return set()
        out = self.run(
            "check-attr", "-z", "--stdin", "filter", input="\0".join(paths).encode("utf-8", "surrogateescape") + b"\0"
        )
        fields = out.decode("utf-8", "surrogateescape").split("\0")
        return {
            path for path, _name, value in zip(fields[0::3], fields[1::3], fields[2::3], strict=False) if value == "lfs"
        }

    def blob(self, sha: str, limit: int | None = None) -> bytes:
        """A blob's bytes (see :meth:`blobs`)."""
        return self.blobs([sha], limit)[0]

    def blobs(self, shas: Sequence[str], limit: int | None = None) -> list[bytes]:
        """Blobs' bytes, in order, through one ``git cat-file --batch`` process per run.

        With ``limit``, a larger blob gives only its first ``limit + 1`` bytes, so that the
        caller sees it is over the limit without holding all of it in memory.
        """
        known = self._known
        missing = list(dict.fromkeys(sha for sha in shas if sha not in known))
        read: dict[str, bytes] = {}
        if missing:
            if self._catfile is None:
                self._catfile = CatFile(self.root)
            read = dict(zip(missing, self._catfile.read(missing, limit), strict=True))
        return [read[sha] if sha in read else _limited(known[sha], limit) for sha in shas]

    def read_ahead(self, shas: Sequence[str], limit: int) -> ReadAhead:
        """Begin reading these blobs into a file of their own (:class:`ReadAhead`), those of
        at most ``limit`` bytes; their sizes are asked while git begins (``--batch-check``,
        which rebuilds no blob)."""
        ids = list(dict.fromkeys(shas))
        require_ids(ids)
        ahead = ReadAhead(self.root, ids, limit)
        try:
            ahead.expect(self.run("cat-file", "--batch-check", input="".join(f"{sha}\n" for sha in ids).encode()))
        except BaseException:
            ahead.close()
            raise
        return ahead

    def blobs_containing(self, shas: Sequence[str], needles: Sequence[bytes] | None, limit: int) -> dict[str, bytes]:
        """id -> bytes of the blobs among ``shas`` that contain one of ``needles`` (all of
        them when ``needles`` is None), each cut at ``limit`` as :meth:`blobs` does. Read
        into a file by one ``git cat-file`` and searched there (:meth:`ReadAhead.containing`):
        what a shard or a change asks of a registry's thousands of manifests; the blobs the
        file does not hold (over the bounds) are read and searched one by one."""
        ids = list(dict.fromkeys(shas))
        if needles is None:
            return dict(zip(ids, self.stream_blobs(ids, limit), strict=True))
        ahead = self.read_ahead(ids, limit)
        try:
            held = ahead.held()
            found = {sha: ahead.get(sha) for sha in ahead.containing(needles)}
            rest = [sha for sha in ids if sha not in held]
            for sha, raw in zip(rest, self.stream_blobs(rest, limit), strict=True):
                if any(needle in raw for needle in needles):
                    found[sha] = raw
        finally:
            ahead.close()
        return found

    def stream_blobs(
        self, shas: Sequence[str], limit: int | None = None, ahead: ReadAhead | None = None
    ) -> Iterator[bytes]:
        """Blobs' bytes, in order, as :meth:`blobs` gives them, one at a time while git
        rebuilds the next ones (:meth:`CatFile.stream`): for a history's thousands of blobs.
        Those ``ahead`` holds come from there (it read them into a file of its own, with
        ``limit``). The ids are distinct; the stream is read to its end before the next read."""
        if len(set(shas)) != len(shas):
            raise ValueError("stream_blobs takes distinct ids")
        known = self._known
        held = ahead.held() if ahead is not None else frozenset()
        missing = [sha for sha in shas if sha not in known and sha not in held]
        stream = None
        if missing:
            if self._catfile is None:
                self._catfile = CatFile(self.root)
            stream = self._catfile.stream(missing, limit)
        try:
            for sha in shas:
                if sha in known:
                    yield _limited(known[sha], limit)
                elif ahead is not None and sha in held:
                    yield ahead.get(sha)
                else:
                    assert stream is not None
                    yield next(stream)
        finally:
            if stream is not None:
                stream.close()

    def close(self) -> None:
        """End the ``cat-file`` process, if one was started, and what :meth:`start` began
        and no one asked for."""
        if self._catfile is not None:
            self._catfile.close()
            self._catfile = None
        for started in list(self._started.values()):  # a copy: a reader thread may pop one
            started.stop()
        self._started.clear()

    # -- history -------------------------------------------------------------------

    def changes(
        self, rev: str, pathspecs: list[str], keep: Callable[[str], bool] | None = None
    ) -> Iterator[FileChange]:
        """Files matching ``pathspecs`` changed by each commit on ``rev``'s first-parent line,
        oldest first: the states the branch itself went through; with ``keep``, only the
        paths it keeps. A merge counts as one change against its first parent (what the
        merge brought in); the commits of a merged feature branch are not states of the
        branch it was merged into.

        Without pathspecs git diffs each commit's tree against its parent's and descends only
        into the folders that changed; a pattern such as ``**/modelgate.yaml`` matches
        everywhere, so that walk cost the size of the tree at every commit. To read one kind
        of file from a long history, give no pathspecs and a ``keep`` that picks its paths.
        (:meth:`start_changes` begins the same ``git log`` in the background.)
        """
        return parse_changes(self.run(*log_arguments(rev, pathspecs)), keep)

    def start_listing(self) -> None:
        """Begin listing the work tree's files in the background (see :meth:`start`)."""
        if self._work is None:
            self.start(*_LISTING)

    def start_changed_paths(self, since: str) -> None:
        """Begin :meth:`changed_paths` ``(since)`` in the background (see :meth:`start`)."""
        self.start(*_DIFF, since, "--")
        self.start(*_DIFF, "--cached", since, "--")
        self.start(*_IGNORED)
        self.start_listing()

    def start_changes(self, rev: str, pathspecs: Sequence[str] = ()) -> None:
        """Begin, in the background, the ``git log`` that :meth:`changes` reads."""
        self.start(*log_arguments(rev, pathspecs))

    def links(self) -> tuple[list[str], list[str]]:
        """(links, unlisted): the symbolic links of the work tree that git can list
        (tracked, untracked, and ignored files), and the ignored folders it lists without
        their contents, which may hold more (repo-relative paths)."""
        listed = self._work_listing()
        links = [path for path, (tracked, mode) in listed.items() if tracked and mode == LINK_MODE]
        unlisted = []
        others = [path for path, (tracked, _) in listed.items() if not tracked]
        ignored = self.run(*_IGNORED)
        for path in [*others, *ignored.decode("utf-8", "surrogateescape").split("\0")]:
            if path.endswith("/"):
                unlisted.append(path.rstrip("/"))
            elif path:
                try:
                    if stat.S_ISLNK(os.lstat(os.path.join(self.root, path)).st_mode):
                        links.append(path)
                except OSError:
                    continue  # gone since: nothing to follow
        return sorted(set(links)), sorted(set(unlisted))

    def changed_paths(self, since: str | None, until: str | None = None) -> set[str]:
        """Repo-relative paths that differ between commit ``since`` (default HEAD) and the
        work tree, or commit ``until`` when given.

        This answers "which paths changed" for ``check --changed``; which manifests those
        paths affect is :mod:`modelgate.pipeline.selection`'s question. A rename is listed as its two
        paths (``--no-renames``: the old one is deleted, the new one added), a deletion as
        the deleted path. Against the work tree, staged and unstaged changes count, and so do
        untracked files git does not ignore. With no commit at all, every file is new.
        """
        ref = since or self.head()
        if ref is None:
            return set(self.list_files(["."]))
        if until is not None:
            out = self.run(*_DIFF, ref, until, "--")
        else:
            # The index too: a staged change the work tree has since undone is still in the commit.
            out = self.run(*_DIFF, ref, "--") + b"\0" + self.run(*_DIFF, "--cached", ref, "--")
            self._work = None  # listed now: the work tree is what this question is about
            untracked = {path for path, (tracked, _) in self._work_listing().items() if not tracked}
            return {p for p in out.decode("utf-8", "surrogateescape").split("\0") if p} | untracked
        return {p for p in out.decode("utf-8", "surrogateescape").split("\0") if p}


# Every tracked and untracked-but-not-ignored file, with the index's mode of the tracked.
_LISTING = ("ls-files", "-z", "-t", "-s", "--cached", "--others", "--exclude-standard")
_IGNORED = ("ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--directory")
_PARENTS = ("rev-list", "--parents", "-n", "1", "--end-of-options")
_DIFF = ("diff", "--name-only", "--no-renames", "--no-ext-diff", "-z")


def _verify(ref: str) -> tuple[str, ...]:
    """The question whose answer is commit ``ref``'s full SHA (nothing when it is none)."""
    return ("rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")


def _limited(raw: bytes, limit: int | None) -> bytes:
    return raw if limit is None or len(raw) <= limit + 1 else raw[: limit + 1]
