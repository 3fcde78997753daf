"""The run's context: approvals asked ahead give what asking when a rule needs them gives,
through a git of their own, and an error raised there is raised where they are taken."""

from __future__ import annotations

import threading

import pytest

from modelgate.approvals.evidence import ApprovalRequest, Approvals
from modelgate.datamodel.config import Config
from modelgate.errors import GitError
from modelgate.git.repo import GitRepo
from modelgate.git.trees import CommitTree
from modelgate.hookspecs import hookimpl
from modelgate.pipeline.context import Context
from modelgate.plugins import make_plugin_manager
from tests.conftest import Repo


class Provider:
    """A provider that reads the trusted tree, as signed-commits reads its allowed signers."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.asked: list[tuple[threading.Thread, ApprovalRequest, bytes]] = []

    @hookimpl
    def modelgate_approval_providers(self) -> list[str]:
        return ["test"]

    @hookimpl
    def modelgate_collect_approvals(self, request: ApprovalRequest) -> Approvals | None:
        if request.provider != "test":
            return None
        self.asked.append((threading.current_thread(), request, request.tree.read("signers")))
        if self.error is not None:
            raise self.error
        return Approvals("test", change_authors=("ana@acme.io",))


def _context(repo: Repo, provider: Provider) -> tuple[Context, GitRepo]:
    repo.write("signers", "ana@acme.io ssh-ed25519 AAAA\n")
    sha = repo.commit("base")
    pm = make_plugin_manager(autoload=False)
    pm.register(provider)
    git = GitRepo(str(repo.root))
    context = Context(
        root=str(repo.root),
        config=Config(),
        checks={},
        tree=CommitTree(git, sha),
        git=git,
        hook=pm.hook,
        approvals_provider="test",
    )
    return context, git


def test_approvals_asked_ahead_are_what_asking_then_gives(repo: Repo) -> None:
    ahead, now = Provider(), Provider()
    context, git = _context(repo, ahead)
    try:
        context.approvals_ahead()
        context.approvals_ahead()  # asked once, however often begun
        found = context.approvals()
        assert context.approvals() is found
        [(thread, request, signers)] = ahead.asked
        # On a thread of its own, through a git of its own on the same repository and commit.
        assert thread is not threading.current_thread()
        assert request.git is not None and request.git is not git and request.git.root == git.root
        assert isinstance(request.tree, CommitTree) and request.tree.repo is request.git
        # ... which was closed when the provider was done (its cat-file ended).
        assert request.git._catfile is None
        other, other_git = _context(repo, now)
        try:
            assert other.approvals() == found
            [(thread_now, _, signers_now)] = now.asked
            assert thread_now is threading.current_thread() and signers_now == signers
        finally:
            other_git.close()
    finally:
        context.close()
        git.close()


def test_an_error_raised_ahead_is_raised_where_the_approvals_are_taken(repo: Repo) -> None:
    context, git = _context(repo, Provider(GitError("git log failed: bad object")))
    try:
        context.approvals_ahead()
        with pytest.raises(GitError, match="bad object"):
            context.approvals()
    finally:
        context.close()
        git.close()


def test_approvals_begun_and_never_taken_are_waited_for_at_the_end(repo: Repo) -> None:
    provider = Provider()
    context, git = _context(repo, provider)
    context.approvals_ahead()
    context.close()
    git.close()
    [(thread, request, _)] = provider.asked
    assert not thread.is_alive()
    assert request.git is not None and request.git._catfile is None
