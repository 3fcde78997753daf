"""The GitHub REST client against a real local HTTP server: token, pagination, errors, and
where the token may go."""

from __future__ import annotations

import socket

import pytest

from modelgate.approvals.github_client import MAX_PAGES, Client, check_api_url
from modelgate.errors import GitHubError
from tests.github_api import TOKEN, FakeGitHub, github, user

__all__ = ["github"]  # the fixture, imported for pytest


def test_get_sends_the_token_and_parses_json(github: FakeGitHub) -> None:
    github.answer("/repos/acme/fraud/pulls/7", {"number": 7, "user": user("ana")})
    assert Client(github.url, TOKEN).get("/repos/acme/fraud/pulls/7")["user"]["login"] == "ana"


def test_wrong_token_is_an_error_with_githubs_message(github: FakeGitHub) -> None:
    github.answer("/repos/acme/fraud/pulls/7", {"number": 7})
    with pytest.raises(GitHubError) as caught:
        Client(github.url, "wrong").get("/repos/acme/fraud/pulls/7")
    assert str(caught.value) == "GET /repos/acme/fraud/pulls/7: 401 Unauthorized (Bad credentials)"
    assert caught.value.status == 401


def test_get_all_follows_link_headers(github: FakeGitHub) -> None:
    github.pages("/repos/acme/fraud/pulls/7/reviews", [{"id": n} for n in range(7)], per_page=3)
    items = Client(github.url, TOKEN).get_all("/repos/acme/fraud/pulls/7/reviews")
    assert [item["id"] for item in items] == list(range(7))
    assert github.requests == [
        "/repos/acme/fraud/pulls/7/reviews?per_page=100",
        "/repos/acme/fraud/pulls/7/reviews?per_page=100&page=2",
        "/repos/acme/fraud/pulls/7/reviews?per_page=100&page=3",
    ]


def test_a_next_page_on_another_host_is_not_followed(github: FakeGitHub) -> None:
    github.answer("/x", [{"id": 1}], headers={"Link": '<https://evil.example/x?page=2>; rel="next"'})
    with pytest.raises(GitHubError, match=r"the next page is on another host \(https://evil.example\)"):
        Client(github.url, TOKEN).get_all("/x")


def test_a_redirect_to_another_host_is_not_followed(github: FakeGitHub) -> None:
    github.answer("/x", {}, status=302, headers={"Location": "http://127.0.0.2:9/steal"})
    with pytest.raises(GitHubError, match=r"redirected to another host \(http://127.0.0.2:9\)"):
        Client(github.url, TOKEN).get("/x")


def test_a_redirect_within_the_api_is_followed(github: FakeGitHub) -> None:
    moved = {"Location": f"{github.url}/repositories/9/pulls/7"}
    github.answer("/repos/old/name/pulls/7", {}, status=301, headers=moved)
    github.answer("/repositories/9/pulls/7", {"number": 7})
    assert Client(github.url, TOKEN).get("/repos/old/name/pulls/7") == {"number": 7}


def test_endless_pagination_is_refused(github: FakeGitHub) -> None:
    github.pages("/x", [{"id": n} for n in range(MAX_PAGES + 1)], per_page=1)
    with pytest.raises(GitHubError, match=f"more than {MAX_PAGES} pages"):
        Client(github.url, TOKEN).get_all("/x")


def test_a_list_answered_with_an_object_is_an_error(github: FakeGitHub) -> None:
    github.answer("/x", {"message": "Moved"})
    with pytest.raises(GitHubError, match="expected a JSON list, got dict"):
        Client(github.url, TOKEN).get_all("/x")


def test_rate_limit_is_named(github: FakeGitHub) -> None:
    github.answer(
        "/x",
        {"message": "API rate limit exceeded for installation ID 1."},
        status=403,
        headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1793534400"},
    )
    with pytest.raises(GitHubError) as caught:
        Client(github.url, TOKEN).get("/x")
    assert str(caught.value) == (
        "GET /x: 403 Forbidden (API rate limit exceeded for installation ID 1.);"
        " rate limit exhausted until 1793534400 (epoch seconds)"
    )


def test_unreachable_api_is_an_error() -> None:
    with socket.socket() as sock:  # a port nobody listens on: bound, never listening
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        with pytest.raises(GitHubError, match=f"GET /x: cannot reach {url}"):
            Client(url, TOKEN).get("/x")


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://api.github.com", True),
        ("https://ghe.acme.io/api/v3", True),
        ("http://127.0.0.1:8080", True),
        ("http://localhost:8080", True),
        ("http://api.github.com", False),
        ("http://10.0.0.1", False),
        ("file:///etc/passwd", False),
        ("api.github.com", False),
    ],
)
def test_the_token_goes_only_over_https_or_loopback(url: str, ok: bool) -> None:
    problem = check_api_url(url)
    assert (problem is None) == ok
    if not ok:
        assert problem is not None and "must be an https:// URL" in problem
