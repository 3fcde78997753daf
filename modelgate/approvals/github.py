"""The ``github`` approval provider: pull-request reviews, read from the GitHub REST API.

A review counts when its reviewer's latest decision is ``APPROVED``, it was given on the
pull request's current head commit, and the reviewer has the write, maintain or admin role
on the repository (asked of the API once per such reviewer). A dismissed review, an
approval of an older commit, one withdrawn by a later "request changes", and one whose
reviewer's role is another (a custom role included) or cannot be read are reported as
rejected with the reason. The pull request's author and the authors of its commits are
reported as the change's authors, whose approvals the ``approvals`` rule refuses.
``@org/team`` entries of a rule are resolved through the teams API. Only people approve: a
review by a bot account (``github-actions[bot]``, which a workflow in the change could
drive) is rejected. Anything else the API does not answer is an error: the rule fails in
CI rather than guess (fail closed).

Settings (config ``approvals:``): ``provider: github``, ``token_env`` (the environment
variable holding the token, default ``GITHUB_TOKEN``; reading team members needs a token
with ``read:org``, which the workflow's own token does not have).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from modelgate.errors import GitHubError
from modelgate.hookspecs import hookimpl

if TYPE_CHECKING:
    from modelgate.approvals.evidence import Approval, ApprovalRequest, Approvals, Rejection
    from modelgate.approvals.github_client import Client

NAME = "github"
MAX_COMMITS = 250  # the pull-request commits API lists no more than this
_REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}$")
_ORG = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")
_SLUG = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
_SHA = re.compile(r"^[0-9a-f]{40}$")
# The roles that may approve, with the legacy permission GitHub reports beside each (it
# maps maintain to write). A custom role is not counted: what it grants cannot be told here.
PUSHING_ROLES = {"admin": "admin", "maintain": "write", "write": "write"}


@hookimpl
def modelgate_approval_providers() -> list[str]:
    return [NAME]


@hookimpl
def modelgate_collect_approvals(request: ApprovalRequest) -> Approvals | None:
    if request.provider != NAME:
        return None
    # Here, not at the top: this module loads on every start, and most runs ask no provider.
    from modelgate.approvals.evidence import Approvals

    try:
        deferred = _verified_on_the_pull_request(request.env)
        if deferred is not None:
            return Approvals(NAME, deferred=deferred)
        return _collect(request)
    except GitHubError as exc:
        return Approvals(NAME, error=str(exc))


def _collect(request: ApprovalRequest) -> Approvals:
    from modelgate.approvals.evidence import Approvals, Rejection
    from modelgate.approvals.github_client import DEFAULT_API, Client, check_api_url

    env = request.env
    token_env = str(request.settings.get("token_env", "GITHUB_TOKEN"))
    token = env.get(token_env)
    if not token:
        raise GitHubError(f"no {token_env} in the environment to read the pull request's reviews with")
    repository = env.get("GITHUB_REPOSITORY", "")
    if not _REPOSITORY.match(repository):
        raise GitHubError(f"GITHUB_REPOSITORY {repository[:200]!r} is not owner/name")
    number = _pull_number(env)
    api = env.get("GITHUB_API_URL") or DEFAULT_API
    problem = check_api_url(api)
    if problem is not None:
        raise GitHubError(problem)
    client = Client(api, token)
    path = f"/repos/{repository}/pulls/{number}"
    pull = client.get(path)
    head = _text(pull, "head", "sha")
    if not _SHA.match(head):
        raise GitHubError(f"GET {path}: head.sha {head[:80]!r} is not a commit id")
    _same_commit(request, head, number)
    commits = client.get_all(f"{path}/commits")
    if len(commits) >= MAX_COMMITS:
        raise GitHubError(
            f"pull request #{number} has {MAX_COMMITS} or more commits, more than the API lists;"
            " its authors cannot all be known"
        )
    authors, unmatched = _authors(_text(pull, "user", "login"), commits)
    reviews = client.get_all(f"{path}/reviews")
    accepted, rejected = _judge(reviews, head, number)
    # Anyone may review a pull request; only those who could push the change themselves approve it.
    kept = []
    for approval in accepted:  # one per reviewer: _judge keeps each reviewer's latest decision
        why = _cannot_push(client, repository, approval.who.lstrip("@"))
        if why is None:
            kept.append(approval)
        else:
            rejected.append(Rejection(approval.who, None, None, why, approval.evidence))
    return Approvals(NAME, tuple(kept), tuple(rejected), authors, unmatched, members=_Teams(client))


def _verified_on_the_pull_request(env: Mapping[str, str]) -> str | None:
    """Why this run's approvals were verified on the pull request rather than here, or None.

    A merge queue (``merge_group``) and a push to the default branch check what pull
    requests do together once merged; GitHub lets a pull request into either only when its
    required status checks passed, this gate with its approvals among them (README: make it
    a required check). Their commits are not the reviewed head, so reviews cannot be asked
    of them. A push to any other branch is not after a review: it is not deferred.
    """
    from modelgate.errors import UsageError
    from modelgate.pipeline.ci import MERGE_QUEUE_EVENT, read_event

    name = env.get("GITHUB_EVENT_NAME")
    if name == MERGE_QUEUE_EVENT:
        return "the merge queue takes only pull requests whose required checks passed"
    if name != "push":
        return None
    try:
        event = read_event(env)
    except UsageError:
        return None
    default = _dig(event, "repository", "default_branch")
    if isinstance(default, str) and default and event.get("ref") == f"refs/heads/{default}":
        return f"a push to the default branch {default[:100]!r}, which takes pull requests whose required checks passed"
    return None


def _cannot_push(client: Client, repository: str, login: str) -> str | None:
    """Why ``login``'s approval does not count for lack of a role on ``repository``, or None
    when their role is write, maintain or admin."""
    if not _ORG.match(login):  # GitHub logins and organisation names share one syntax
        return "not a GitHub login whose role on the repository can be asked"
    path = f"/repos/{repository}/collaborators/{login}/permission"
    try:
        answer = client.get(path)
    except GitHubError as exc:
        return f"their role on {repository} could not be verified: {exc}"
    role, permission = _dig(answer, "role_name"), _dig(answer, "permission")
    if not isinstance(role, str) or not isinstance(permission, str):
        return f"their role on {repository} could not be verified: GET {path}: unexpected answer shape"
    if PUSHING_ROLES.get(role) == permission:
        return None
    return (
        f"has the {role[:60]!r} role on {repository} (permission {permission[:20]!r});"
        " only write, maintain and admin approve"
    )


def _pull_number(env: Mapping[str, str]) -> int:
    """The pull request's number, from the event payload GitHub Actions writes."""
    from modelgate.errors import UsageError
    from modelgate.pipeline.ci import read_event

    name = env.get("GITHUB_EVENT_NAME", "?")
    if not env.get("GITHUB_EVENT_PATH"):
        raise GitHubError("no GITHUB_EVENT_PATH: not running in GitHub Actions")
    try:
        event = read_event(env)
    except UsageError as exc:
        raise GitHubError(str(exc)) from None
    pull = event.get("pull_request")
    number = pull.get("number") if isinstance(pull, dict) else None
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        raise GitHubError(
            f"the {name} event is not about a pull request; approvals are verified on pull requests"
            " (on: pull_request, pull_request_review)"
        )
    return number


def _same_commit(request: ApprovalRequest, head: str, number: int) -> None:
    """The checked commit must be the pull request's head or GitHub's merge of it: an
    approval of the head says nothing about any other commit."""
    if request.git is None or request.head is None:
        raise GitHubError("the github provider needs the pull request's git checkout")
    checked = request.head
    # GitHub's merge (refs/pull/N/merge) has the base as first parent and the head as second.
    if checked == head or request.git.parents(checked)[1:] == [head]:
        return
    raise GitHubError(
        f"this run checks {checked[:12]}, which is neither pull request #{number}'s head"
        f" {head[:12]} nor a merge of it (the pull request moved on?); re-run on the current head"
    )


def _authors(opener: str, commits: list[Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(the change's authors as ``@login``, commit authors with no GitHub account)."""
    authors = {f"@{opener}"}
    unmatched = set()
    for commit in commits:
        if not isinstance(commit, dict):
            raise GitHubError("the pull request's commits: unexpected answer shape")
        for role in ("author", "committer"):
            user = commit.get(role)
            if isinstance(user, dict) and isinstance(user.get("login"), str):
                authors.add(f"@{user['login']}")
            elif role == "author":  # git's author email is linked to no GitHub account
                email = _dig(commit, "commit", "author", "email")
                unmatched.add(str(email or f"the author of {str(commit.get('sha'))[:12]}"))
    return tuple(sorted(authors, key=str.casefold)), tuple(sorted(unmatched))


def _judge(reviews: list[Any], head: str, number: int) -> tuple[list[Approval], list[Rejection]]:
    """Each reviewer's latest decision: an approval of the head counts, the rest say why not."""
    from modelgate.approvals.evidence import Approval, Rejection

    accepted: list[Approval] = []
    rejected: list[Rejection] = []
    latest: dict[str, dict[str, Any]] = {}
    approved: set[str] = set()
    for review in reviews:
        if not isinstance(review, dict):
            raise GitHubError("the pull request's reviews: unexpected answer shape")
        user = review.get("user")
        login = user.get("login") if isinstance(user, dict) else None
        state = review.get("state")
        if not isinstance(login, str):
            if state == "APPROVED":
                rejected.append(
                    Rejection(
                        "(deleted account)",
                        None,
                        None,
                        "the reviewer's account no longer exists",
                        _evidence(review, number),
                    )
                )
            continue
        # COMMENTED and PENDING reviews change nobody's decision, as on GitHub.
        if state in ("APPROVED", "CHANGES_REQUESTED", "DISMISSED"):
            latest[login.casefold()] = review
            if state == "APPROVED":
                approved.add(login.casefold())
    for key, review in latest.items():
        who = f"@{review['user']['login']}"
        state, commit = review.get("state"), str(review.get("commit_id"))
        evidence = _evidence(review, number)
        if state == "APPROVED" and review["user"].get("type") != "User":
            # A workflow the change edits can make github-actions[bot] approve it.
            kind = str(review["user"].get("type"))[:40]
            rejected.append(Rejection(who, None, None, f"an approval by a {kind} account, not a person", evidence))
        elif state == "APPROVED" and commit == head:
            when = str(review.get("submitted_at") or "")
            accepted.append(Approval(who, None, None, when, NAME, evidence))
        elif state == "APPROVED":
            rejected.append(
                Rejection(who, None, None, f"approved {commit[:12]}, not the head {head[:12]} (stale)", evidence)
            )
        elif state == "DISMISSED":
            rejected.append(Rejection(who, None, None, "the review was dismissed", evidence))
        elif key in approved:
            rejected.append(Rejection(who, None, None, "requested changes after approving", evidence))
    return accepted, rejected


def _evidence(review: dict[str, Any], number: int) -> str:
    return f"review {review.get('id')} of pull request #{number} on {str(review.get('commit_id'))[:40]}"


def _dig(data: Any, *keys: str) -> Any:
    """``data[k1][k2]...``, or None where the answer has another shape."""
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def _text(data: Any, *keys: str) -> str:
    found = _dig(data, *keys)
    if not isinstance(found, str):
        raise GitHubError(f"the pull request: unexpected answer shape (no {'.'.join(keys)})")
    return found


class _Teams:
    """Team members through the API, asked once per team and run."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.found: dict[str, frozenset[str] | str] = {}

    def __call__(self, team: str) -> frozenset[str]:
        if team not in self.found:
            self.found[team] = self._members(team)
        answer = self.found[team]
        if isinstance(answer, str):
            raise LookupError(answer)
        return answer

    def _members(self, team: str) -> frozenset[str] | str:
        org, _, slug = team.lstrip("@").partition("/")
        if not _ORG.match(org) or not _SLUG.match(slug):
            return "not an @org/team name"
        try:
            members = self.client.get_all(f"/orgs/{org}/teams/{slug}/members")
        except GitHubError as exc:
            hint = (
                "; reading teams needs a token with read:org (config approvals.token_env)"
                if exc.status in (403, 404)
                else ""
            )
            return f"{exc}{hint}"
        return frozenset(f"@{m['login']}" for m in members if isinstance(m, dict) and isinstance(m.get("login"), str))
