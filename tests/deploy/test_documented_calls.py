"""Every call of the API the READMEs show (`POST /api/v1/…` in the text, `curl …/api/v1/…` in the runbook's steps)
is one the gateway has, with that method: the runbook's first call once answered 405 (a GET of a path that only
takes POST), and the retention table named a deliveries path that never existed."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import pytest
from litestar.routes import HTTPRoute

from gateway.app import create_app
from shared.settings import Settings

REPO = Path(__file__).resolve().parents[2]
DOCUMENTS = ("README.md", "deploy/README.md")
MENTION = re.compile(r"\b(GET|POST|PUT|PATCH|DELETE) `?(/api/v1/[^\s`)\],;]*)")
CURL_URL = re.compile(r"https?://[^/\s]+(/api/v1/[^\s'\"]*)")


def template(path: str) -> str:
    """A path with each parameter as `{}`: `{referral_id}`, `{id}`, `<id>` and the routes' `{x:uuid}` alike."""
    return re.sub(r"\{[^}]*\}|<[^>]*>", "{}", path.split("?")[0]).rstrip(".:")


def curl_calls(text: str) -> list[tuple[str, str]]:
    """(method, path) of each curl command (continuation lines joined): POST where it sends data, else -X's or GET."""
    calls = []
    for command in re.findall(r"curl (?:[^\n]*\\\n)*[^\n]*", text):
        url = CURL_URL.search(command)
        if url is None:
            continue
        method = re.search(r"-X\s*([A-Z]+)", command)
        sends = re.search(r"\s(-d|--data[\w-]*|--json)\s", command)
        calls.append((method.group(1) if method else "POST" if sends else "GET", url.group(1)))
    return calls


def documented_calls() -> list[tuple[str, str, str]]:
    calls = []
    for document in DOCUMENTS:
        text = (REPO / document).read_text()
        calls += [(document, method, path) for method, path in MENTION.findall(text)]
        calls += [(document, method, path) for method, path in curl_calls(text)]
    return calls


@pytest.fixture(scope="module")
def routes() -> set[tuple[str, str]]:
    app = create_app(Settings(jwt_secret=secrets.token_urlsafe(32)))  # connects to nothing until it starts
    return {
        (method, template(route.path))
        for route in app.routes
        if isinstance(route, HTTPRoute)
        for handler in route.route_handlers
        for method in handler.http_methods
    }


def test_every_documented_call_is_a_route_with_that_method(routes: set[tuple[str, str]]) -> None:
    calls = documented_calls()
    assert len(calls) > 40 and any(document == "deploy/README.md" for document, _, _ in calls), "the calls were read"
    assert ("deploy/README.md", "POST", "/api/v1/municipalities") in calls, "the runbook's curl steps were read"
    unknown = [call for call in calls if (call[1], template(call[2])) not in routes]
    assert unknown == []
