"""A local stand-in for the GitHub REST API: a real HTTP server on 127.0.0.1 in a thread,
answering GET requests with the JSON shapes GitHub documents (pulls, commits, reviews,
team members), paginated with ``Link`` headers, and refusing requests without the token.

Only GitHub is replaced; modelgate's own client talks to it over real HTTP.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

TOKEN = "ghs_test0123456789"
DOCS = "https://docs.github.com/rest"


class FakeGitHub:
    def __init__(self) -> None:
        # (path, page) -> (status, body, extra headers)
        self.routes: dict[tuple[str, int], tuple[int, Any, dict[str, str]]] = {}
        self.requests: list[str] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        # A short poll: shutdown() waits for it, once per test.
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)

    def answer(self, path: str, body: Any, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self.routes[(path, 1)] = (status, body, headers or {})

    def pages(self, path: str, items: list[Any], per_page: int) -> None:
        """``items`` served ``per_page`` at a time, with GitHub's ``Link`` header."""
        chunks = [items[i : i + per_page] for i in range(0, len(items), per_page)] or [[]]
        for number, chunk in enumerate(chunks, 1):
            links = []
            if number < len(chunks):
                links.append(f'<{self.url}{path}?per_page=100&page={number + 1}>; rel="next"')
                links.append(f'<{self.url}{path}?per_page=100&page={len(chunks)}>; rel="last"')
            if number > 1:
                links.append(f'<{self.url}{path}?per_page=100&page=1>; rel="first"')
                links.append(f'<{self.url}{path}?per_page=100&page={number - 1}>; rel="prev"')
            self.routes[(path, number)] = (200, chunk, {"Link": ", ".join(links)} if links else {})

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                page = int(urllib.parse.parse_qs(url.query).get("page", ["1"])[0])
                fake.requests.append(self.path)
                headers: dict[str, str]
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    status, body, headers = 401, {"message": "Bad credentials", "documentation_url": DOCS}, {}
                else:
                    status, body, headers = fake.routes.get(
                        (url.path, page), (404, {"message": "Not Found", "documentation_url": DOCS}, {})
                    )
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("X-GitHub-Media-Type", "github.v3; format=json")
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    fake = FakeGitHub()
    fake.thread.start()
    try:
        yield fake
    finally:
        fake.server.shutdown()
        fake.server.server_close()


# The shapes below follow GitHub's REST API reference (fields a client may read; GitHub
# sends more).


def user(login: str, id: int = 1, type: str = "User") -> dict[str, Any]:
    """A "simple user", as reviews, pulls, commits and team members carry it."""
    api = f"https://api.github.com/users/{login}"
    return {
        "login": login,
        "id": id,
        "node_id": f"U_{id}",
        "avatar_url": f"https://avatars.example/{id}",
        "gravatar_id": "",
        "url": api,
        "html_url": f"https://github.com/{login}",
        "followers_url": f"{api}/followers",
        "following_url": f"{api}/following{{/other_user}}",
        "organizations_url": f"{api}/orgs",
        "repos_url": f"{api}/repos",
        "events_url": f"{api}/events{{/privacy}}",
        "type": type,
        "user_view_type": "public",
        "site_admin": False,
    }


def repository(full_name: str) -> dict[str, Any]:
    owner, name = full_name.split("/")
    return {
        "id": 4242,
        "node_id": "R_4242",
        "name": name,
        "full_name": full_name,
        "private": True,
        "owner": user(owner, 2),
        "html_url": f"https://github.com/{full_name}",
        "url": f"https://api.github.com/repos/{full_name}",
        "default_branch": "main",
        "fork": False,
    }


def pull(number: int, author: str, head: str, base: str, repo: str = "acme/fraud") -> dict[str, Any]:
    api = f"https://api.github.com/repos/{repo}"
    return {
        "url": f"{api}/pulls/{number}",
        "id": 1000 + number,
        "node_id": f"PR_{number}",
        "html_url": f"https://github.com/{repo}/pull/{number}",
        "number": number,
        "commits_url": f"{api}/pulls/{number}/commits",
        "review_comments_url": f"{api}/pulls/{number}/comments",
        "state": "open",
        "locked": False,
        "title": "Promote fraud-detector 1.0.0 to production",
        "user": user(author, 11),
        "body": "",
        "labels": [],
        "milestone": None,
        "draft": False,
        "created_at": "2026-11-01T10:00:00Z",
        "updated_at": "2026-11-01T12:00:00Z",
        "closed_at": None,
        "merged_at": None,
        "merge_commit_sha": "e" * 40,
        "assignees": [],
        "requested_reviewers": [],
        "requested_teams": [],
        "head": {
            "label": f"{author}:promote",
            "ref": "promote",
            "sha": head,
            "user": user(author, 11),
            "repo": repository(repo),
        },
        "base": {
            "label": f"{repo.split('/')[0]}:main",
            "ref": "main",
            "sha": base,
            "user": user(repo.split("/")[0], 2),
            "repo": repository(repo),
        },
        "author_association": "MEMBER",
        "auto_merge": None,
        "merged": False,
        "mergeable": True,
        "mergeable_state": "blocked",
        "comments": 0,
        "review_comments": 0,
        "commits": 1,
        "additions": 3,
        "deletions": 1,
        "changed_files": 1,
    }


def commit(sha: str, login: str | None, email: str, repo: str = "acme/fraud") -> dict[str, Any]:
    person = {"name": email.split("@")[0], "email": email, "date": "2026-11-01T11:00:00Z"}
    return {
        "url": f"https://api.github.com/repos/{repo}/commits/{sha}",
        "sha": sha,
        "node_id": f"C_{sha[:8]}",
        "html_url": f"https://github.com/{repo}/commit/{sha}",
        "comments_url": f"https://api.github.com/repos/{repo}/commits/{sha}/comments",
        "commit": {
            "url": f"https://api.github.com/repos/{repo}/git/commits/{sha}",
            "author": person,
            "committer": person,
            "message": "promote",
            "comment_count": 0,
            "tree": {"sha": "f" * 40, "url": "https://api.github.com/tree"},
            "verification": {"verified": False, "reason": "unsigned", "signature": None, "payload": None},
        },
        "author": user(login, 20) if login else None,
        "committer": user(login, 20) if login else None,
        "parents": [{"sha": "0" * 40, "url": "https://api.github.com/parent"}],
    }


def review(
    id: int, login: str, state: str, commit_id: str, repo: str = "acme/fraud", number: int = 7
) -> dict[str, Any]:
    return {
        "id": id,
        "node_id": f"PRR_{id}",
        "user": user(login, 30 + id % 50),
        "body": "",
        "state": state,
        "html_url": f"https://github.com/{repo}/pull/{number}#pullrequestreview-{id}",
        "pull_request_url": f"https://api.github.com/repos/{repo}/pulls/{number}",
        "author_association": "MEMBER",
        "submitted_at": "2026-11-01T12:30:00Z",
        "commit_id": commit_id,
        "_links": {"html": {"href": "https://github.com/"}, "pull_request": {"href": "https://api.github.com/"}},
    }


# The legacy `permission` GitHub reports beside each built-in role (maintain maps to write,
# triage to read).
LEGACY_PERMISSION = {
    "admin": "admin",
    "maintain": "write",
    "write": "write",
    "triage": "read",
    "read": "read",
    "none": "none",
}


def permission(login: str, role: str, legacy: str | None = None) -> dict[str, Any]:
    """GET /repos/{owner}/{repo}/collaborators/{username}/permission: the legacy
    ``permission``, the full ``role_name`` (custom roles included) and the collaborator."""
    legacy = legacy or LEGACY_PERMISSION[role]
    ranks = {"none": 0, "read": 1, "triage": 2, "write": 3, "maintain": 4, "admin": 5}
    rank = ranks.get(role, ranks[legacy])  # a custom role grants at least its base role
    flags = {name: rank >= level for level, name in enumerate(["pull", "triage", "push", "maintain", "admin"], 1)}
    return {"permission": legacy, "role_name": role, "user": {**user(login), "permissions": flags, "role_name": role}}
