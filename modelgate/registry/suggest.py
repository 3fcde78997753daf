"""Did-you-mean for the words a user asks the registry for: stages, versions, aliases,
model names and refs. A mistyped word is an error that names the nearest known word,
never an empty answer ("no changes") that looks like a real one."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from modelgate.errors import GitError

if TYPE_CHECKING:
    from modelgate.git.repo import GitRepo


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """`` (did you mean 'production'?)`` with the nearest of ``known``, or ``""``."""
    import difflib

    close = difflib.get_close_matches(word, sorted(set(known)), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def ref_names(repo: GitRepo) -> list[str]:
    """Branches, tags and remote branches, short names (what a user types)."""
    out = repo.run("for-each-ref", "--format=%(refname:short)", "refs/heads", "refs/tags", "refs/remotes", check=False)
    return [line for line in out.decode("utf-8", "replace").splitlines() if line]


def verify_ref(repo: GitRepo, ref: str, what: str = "ref") -> str:
    """The full SHA of commit ``ref``; a GitError naming the nearest ref when there is none."""
    try:
        return repo.verify(ref, what)
    except GitError as exc:
        raise GitError(f"{exc}{did_you_mean(ref, ref_names(repo))}") from None
