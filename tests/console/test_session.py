"""The console's session over plain HTTP: signing in, cookies, CSRF, headers, roles and scope, the live stream."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from shared.tenancy import Role
from tests.console.conftest import ConsoleClient
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant, register_tenant
from tests.referral_bodies import referral_body
from tests.waiting import PATIENCE_SECONDS


@pytest.fixture(scope="module")
async def tenant(platform: RunningPlatform) -> Tenant:
    return await register_tenant(platform)


async def test_a_page_without_a_session_sends_the_visitor_to_the_sign_in(console: ConsoleClient) -> None:
    response = await console.get("/console/inbox")
    assert response.status_code == 303
    assert response.headers["location"] == "/console/sign-in?next=/console/inbox"


async def test_signing_in_keeps_the_token_in_a_strict_http_only_cookie(console: ConsoleClient, tenant: Tenant) -> None:
    response = await console.sign_in(tenant.staff_a)
    assert response.headers["location"] == "/console/inbox"
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("pn_session="))
    assert "HttpOnly" in cookie
    assert "samesite=strict" in cookie.lower()
    assert "Path=/console" in cookie
    inbox = await console.get("/console/inbox")
    assert inbox.status_code == 200
    assert tenant.library_a in inbox.text


async def test_a_token_that_does_not_hold_is_refused_in_plain_words(console: ConsoleClient) -> None:
    await console.get("/console/sign-in")
    response = await console.post("/console/sign-in", {"token": "eyJhbGciOiJIUzI1NiJ9.bm90LWEtdG9rZW4.c2ln"})
    assert response.status_code == 401
    assert "U bent niet (meer) ingelogd, of uw token is niet geldig." in response.text
    assert "pn_session=" not in response.headers.get("set-cookie", "")


async def test_a_form_without_its_csrf_token_is_refused(console: ConsoleClient, tenant: Tenant) -> None:
    await console.sign_in(tenant.staff_a)
    await console.get("/console/inbox")
    refused = await console.post("/console/sign-out", csrf=False)
    assert refused.status_code == 403
    assert "Het formulier is verlopen" in refused.text
    forged = await console.post("/console/sign-out", {"csrf_token": "0" * 64})
    assert forged.status_code == 403
    accepted = await console.post("/console/sign-out")
    assert accepted.status_code == 303
    assert (await console.get("/console/inbox")).status_code == 303  # signed out: back to the sign-in


async def test_the_csrf_token_is_bound_to_the_sign_in(platform: RunningPlatform, tenant: Tenant) -> None:
    """A token from before signing in (or from another browser) does not work for the signed-in session."""
    first, second = ConsoleClient(platform), ConsoleClient(platform)
    try:
        await first.get("/console/sign-in")
        before = first.csrf
        await first.sign_in(tenant.staff_a)
        await second.sign_in(tenant.staff_a)
        await second.get("/console/inbox")
        assert (await first.post("/console/sign-out", {"csrf_token": before})).status_code == 403
        assert (await first.post("/console/sign-out", {"csrf_token": second.csrf})).status_code == 403
    finally:
        await first.aclose()
        await second.aclose()


async def test_pages_carry_a_strict_content_security_policy_and_are_not_cached(
    console: ConsoleClient, tenant: Tenant
) -> None:
    await console.sign_in(tenant.partner_a_token)
    response = await console.get("/console/inbox")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/console/static/htmx.min.js", "javascript"),
        ("/console/static/console.js", "javascript"),
        ("/console/static/console.css", "text/css"),
    ],
)
async def test_every_asset_comes_from_the_gateway_itself(console: ConsoleClient, path: str, kind: str) -> None:
    response = await console.get(path)
    assert response.status_code == 200
    assert kind in response.headers["content-type"]
    assert "max-age=3600" in response.headers["cache-control"]
    page = await console.get("/console/sign-in")
    for reference in ("src=", "href="):
        for value in page.text.split(reference)[1:]:
            target = value[1:].split('"')[0]
            assert not target.startswith(("http:", "https:", "//")), target


async def test_only_console_pages_are_offered_after_signing_in(console: ConsoleClient, tenant: Tenant) -> None:
    for target in ("https://elsewhere.example/", "//elsewhere.example/", "/api/v1/referrals"):
        await console.get("/console/sign-in")  # a new sign-in is a new CSRF token
        response = await console.post("/console/sign-in", {"token": tenant.staff_a, "next": target})
        assert response.headers["location"] == "/console/inbox"


async def test_a_page_not_for_the_role_says_so(console: ConsoleClient, tenant: Tenant) -> None:
    await console.sign_in(tenant.partner_a_token)
    response = await console.get("/console/volunteers")
    assert response.status_code == 403
    assert "Deze pagina is niet bedoeld voor uw rol." in response.text


async def test_another_librarys_referral_is_not_found_in_plain_words(
    platform: RunningPlatform, console: ConsoleClient, tenant: Tenant
) -> None:
    async with platform.client(tenant.partner_a_token) as api:
        created = await api.post("/api/v1/referrals", json=referral_body(tenant.library_a, tenant.partner_a))
    assert created.status_code == 201, created.text
    await console.sign_in(tenant.staff_b)
    response = await console.get(f"/console/referrals/{created.json()['id']}")
    assert response.status_code == 404
    assert "Dit bestaat niet, of u heeft er geen toegang toe." in response.text
    assert created.json()["participant_pseudonym"] not in response.text
    assert (await console.get(f"/console/referrals/{uuid.uuid4()}")).status_code == 404


async def test_the_language_switch_turns_the_console_english_and_back(console: ConsoleClient, tenant: Tenant) -> None:
    await console.get("/console/sign-in")
    switched = await console.post("/console/language", {"lang": "en", "next": "/console/sign-in"})
    assert switched.status_code == 303 and switched.headers["location"] == "/console/sign-in"
    english = await console.get("/console/sign-in")
    assert '<html lang="en">' in english.text and "Sign in" in english.text
    await console.post("/console/language", {"lang": "nl", "next": "/console/sign-in"})
    assert "Inloggen" in (await console.get("/console/sign-in")).text


async def test_the_live_stream_is_for_library_staff_only(console: ConsoleClient, tenant: Tenant) -> None:
    await console.sign_in(tenant.partner_a_token)
    assert (await console.get("/console/live/referrals")).status_code == 403
    await console.sign_in(tenant.staff_a)
    async with console.http.stream("GET", "/console/live/referrals") as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        first = await asyncio.wait_for(stream.aiter_lines().__anext__(), PATIENCE_SECONDS)
        assert first.startswith((":", "retry"))


async def test_a_coordinator_reads_referrals_but_gets_no_steps(
    platform: RunningPlatform, console: ConsoleClient, tenant: Tenant
) -> None:
    async with platform.client(tenant.partner_a_token) as api:
        created = (await api.post("/api/v1/referrals", json=referral_body(tenant.library_a, tenant.partner_a))).json()
    coordinator = platform.token(Role.COORDINATOR, municipality=tenant.municipality)
    await console.sign_in(coordinator)
    page = await console.get(f"/console/referrals/{created['id']}")
    assert page.status_code == 200
    assert created["participant_pseudonym"] in page.text
    assert "/accept" not in page.text
    step = await console.post(f"/console/referrals/{created['id']}/accept", {"expected_version": "1"})
    assert step.status_code == 403  # the referrals service says no; the page says it in plain words
    assert "Dit mag u met uw rol niet doen." in step.text


async def test_an_expired_session_asks_to_sign_in_again(platform: RunningPlatform, tenant: Tenant) -> None:
    async with httpx.AsyncClient(base_url=platform.base_url, cookies={"pn_session": "not-a-token"}) as http:
        response = await http.get("/console/inbox")
    assert response.status_code == 303
    assert response.headers["location"] == "/console/sign-in?next=/console/inbox&expired=true"
    assert 'pn_session=""' in response.headers["set-cookie"] or "pn_session=;" in response.headers["set-cookie"]
