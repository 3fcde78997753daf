"""A small GitHub REST API client: GET with a token, JSON answers, pagination.

Standard library only (urllib), imported when a provider asks GitHub something, never at
start-up. The token goes only to the configured API origin: a redirect or a pagination
link to another origin is refused, and plain ``http`` is accepted only on the loopback
interface (a GitHub Enterprise test double), never across a network.
"""

from __future__ import annotations

import ipaddress
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from modelgate import __version__
from modelgate.errors import GitHubError

DEFAULT_API = "https://api.github.com"
TIMEOUT = 30.0  # seconds per request
MAX_BYTES = 16 << 20  # one page of JSON; GitHub's largest are a few MiB
MAX_PAGES = 50  # 100 items a page: 5000 reviews, members or commits is already absurd
_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="next"')


class Client:
    """GET requests to one GitHub API origin with one token."""

    def __init__(self, api_url: str, token: str) -> None:
        self.base = api_url.rstrip("/")
        self.origin = _origin(self.base)
        self.token = token
        self._opener = urllib.request.build_opener(_SameOrigin(self.origin))

    def get(self, path: str) -> Any:
        """The JSON answer to ``GET {api}{path}``."""
        return self._request(self.base + path, path)[0]

    def get_all(self, path: str) -> list[Any]:
        """Every item of a paginated list, following ``Link: <...>; rel="next"``."""
        separator = "&" if "?" in path else "?"
        url: str | None = f"{self.base}{path}{separator}per_page=100"
        items: list[Any] = []
        pages = 0
        while url is not None:
            pages += 1
            if pages > MAX_PAGES:
                raise GitHubError(f"GET {path}: more than {MAX_PAGES} pages; refusing to judge a partial list")
            # Errors name the path asked for; later pages, their own address.
            data, link = self._request(url, path if pages == 1 else url.removeprefix(self.base))
            if not isinstance(data, list):
                raise GitHubError(f"GET {path}: expected a JSON list, got {type(data).__name__}")
            items.extend(data)
            url = _next_page(link)
            if url is not None and _origin(url) != self.origin:
                raise GitHubError(f"GET {path}: the next page is on another host ({_origin(url)}); not following it")
        return items

    def _request(self, url: str, shown: str) -> tuple[Any, str]:
        request = urllib.request.Request(
            url,
            headers={
                "Accept": "application/vnd.github+json",
                "Authorization": f"Bearer {self.token}",
                "X-GitHub-Api-Version": "2022-11-28",
                "User-Agent": f"modelgate/{__version__}",
            },
        )
        try:
            with self._opener.open(request, timeout=TIMEOUT) as response:
                body = response.read(MAX_BYTES + 1)
                link = response.headers.get("Link", "")
        except urllib.error.HTTPError as exc:
            raise GitHubError(f"GET {shown}: {_describe(exc)}", exc.code) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise GitHubError(f"GET {shown}: cannot reach {self.origin}: {reason}") from None
        if len(body) > MAX_BYTES:
            raise GitHubError(f"GET {shown}: answer larger than {MAX_BYTES >> 20} MiB")
        try:
            return json.loads(body), link
        except (ValueError, RecursionError):
            raise GitHubError(f"GET {shown}: the answer is not JSON (or nested too deeply)") from None


def check_api_url(url: str) -> str | None:
    """Why ``url`` may not receive a token, or None when it may."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return None
    if parts.scheme == "http" and parts.hostname and _loopback(parts.hostname):
        return None
    return f"GITHUB_API_URL {url[:200]!r} must be an https:// URL (plain http only on the loopback interface)"


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _origin(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _next_page(link: str) -> str | None:
    found = _NEXT.search(link)
    return found.group(1) if found else None


def _describe(exc: urllib.error.HTTPError) -> str:
    """``404 Not Found (message from GitHub)``, with the rate limit made explicit."""
    try:
        message = str(json.loads(exc.read(64 << 10)).get("message", ""))[:200]
    except (ValueError, AttributeError, OSError):
        message = ""
    text = f"{exc.code} {exc.reason}" + (f" ({message})" if message else "")
    if exc.code in (403, 429) and exc.headers.get("X-RateLimit-Remaining") == "0":
        text += f"; rate limit exhausted until {exc.headers.get('X-RateLimit-Reset', '?')} (epoch seconds)"
    return text


class _SameOrigin(urllib.request.HTTPRedirectHandler):
    """Follow redirects within the API origin only: the request carries the token."""

    def __init__(self, origin: str) -> None:
        self.origin = origin

    def redirect_request(
        self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any, newurl: str
    ) -> urllib.request.Request | None:
        if _origin(newurl) != self.origin:
            raise GitHubError(f"GitHub redirected to another host ({_origin(newurl)}); not following it")
        return super().redirect_request(req, fp, code, msg, headers, newurl)
