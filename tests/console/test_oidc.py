"""Signing in to the console with the configured OpenID Connect provider: the authorization-code flow with PKCE."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from shared.settings import Settings
from tests.console.oidc_provider import Provider, serve_provider
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant
from tests.gateway.stubs import StubbedGateway, stubbed_gateway
from tests.waiting import PATIENCE_SECONDS

CLIENT_ID = "partnernet-console"


@pytest.fixture(scope="module")
def provider(elsewhere: Tenant) -> Iterator[Provider]:
    # The gateway lets in only tokens for registered tenants, so the person's municipality is one that exists.
    with serve_provider(CLIENT_ID, {"role": "coordinator", "municipality": elsewhere.municipality}) as found:
        yield found


@pytest.fixture(scope="module")
async def gateway(platform: RunningPlatform, provider: Provider) -> AsyncIterator[StubbedGateway]:
    """A second gateway on the platform's NATS (so the real services answer), with the provider configured."""
    settings = Settings(**{**platform.settings.__dict__, "oidc_issuer": provider.issuer, "oidc_audience": CLIENT_ID})
    async with stubbed_gateway(settings) as found:
        yield found


async def sign_in(gateway: StubbedGateway, browser: httpx.AsyncClient, next_page: str = "") -> httpx.Response:
    """What a browser does: start at the console, go to the provider, come back with a code."""
    page = await browser.get(f"{gateway.url}/console/sign-in")
    assert "/console/sign-in/oidc/" in page.text
    started = await browser.get(f"{gateway.url}/console/sign-in/oidc/", params={"next": next_page} if next_page else {})
    assert started.status_code == 302, started.text
    flow_cookie = started.headers["set-cookie"]
    assert "HttpOnly" in flow_cookie and "samesite=lax" in flow_cookie.lower()
    at_provider = await browser.get(started.headers["location"])
    assert at_provider.status_code == 302
    return await browser.get(at_provider.headers["location"])


async def test_the_provider_signs_a_person_in_with_its_role_and_scope(
    gateway: StubbedGateway, provider: Provider
) -> None:
    async with httpx.AsyncClient(timeout=PATIENCE_SECONDS) as browser:
        back = await sign_in(gateway, browser, next_page="/console/network")
        assert back.status_code == 200, back.text
        assert re.search(r'http-equiv="refresh" content="0;url=/console/network"', back.text)
        session = next(c for c in back.headers.get_list("set-cookie") if c.startswith("pn_session="))
        assert "HttpOnly" in session and "samesite=strict" in session.lower()
        home = await browser.get(f"{gateway.url}/console/")
        assert home.status_code == 303 and home.headers["location"] == "/console/overview"  # a coordinator
    asked = provider.token_requests[-1]
    assert asked["grant_type"] == "authorization_code" and asked["client_id"] == CLIENT_ID
    assert len(asked["code_verifier"]) >= 43


async def test_the_authorization_request_asks_for_a_code_with_pkce(gateway: StubbedGateway) -> None:
    async with httpx.AsyncClient(timeout=PATIENCE_SECONDS) as browser:
        started = await browser.get(f"{gateway.url}/console/sign-in/oidc/")
    query = {key: values[0] for key, values in parse_qs(urlparse(started.headers["location"]).query).items()}
    assert query["response_type"] == "code" and query["scope"] == "openid"
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert query["redirect_uri"] == f"{gateway.url}/console/sign-in/oidc/callback"
    assert query["state"] and query["nonce"]


async def test_an_answer_that_belongs_to_another_sign_in_is_refused(gateway: StubbedGateway) -> None:
    async with httpx.AsyncClient(timeout=PATIENCE_SECONDS) as browser:
        await browser.get(f"{gateway.url}/console/sign-in/oidc/")
        forged = await browser.get(
            f"{gateway.url}/console/sign-in/oidc/callback", params={"code": "stolen", "state": "someone-elses"}
        )
    assert forged.status_code == 401
    assert "state" in forged.text
    assert "pn_session=" not in forged.headers.get("set-cookie", "")


async def test_an_id_token_made_for_another_sign_in_is_refused(gateway: StubbedGateway, provider: Provider) -> None:
    provider.nonce_override = "not-the-nonce-we-sent"
    try:
        async with httpx.AsyncClient(timeout=PATIENCE_SECONDS) as browser:
            back = await sign_in(gateway, browser)
    finally:
        provider.nonce_override = None
    assert back.status_code == 401
    assert "nonce" in back.text


async def test_without_a_provider_the_console_offers_tokens_only(platform: RunningPlatform) -> None:
    async with httpx.AsyncClient(base_url=platform.base_url, timeout=PATIENCE_SECONDS) as browser:
        page = await browser.get("/console/sign-in")
        assert "/console/sign-in/oidc/" not in page.text
        assert (await browser.get("/console/sign-in/oidc/")).status_code == 404
