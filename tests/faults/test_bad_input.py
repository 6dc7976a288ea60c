"""Bad input at the gateway: a clear 4xx problem and nothing stored; text that is valid, however hostile it looks,
is stored and returned exactly as sent."""

from __future__ import annotations

import json
from typing import Any

import httpx
import sqlalchemy as sa

from services.referrals import store as referral_store
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant
from tests.referral_bodies import referral_body

PROBLEM = "application/problem+json"
HOSTILE_TEXT = {
    "reason": "'); DROP TABLE referrals; -- and \" OR 1=1; --",
    "contact": "<script>alert(1)</script><img src=x onerror=alert(2)>",
    "participant": "Zoë O'Brien-Ünal 👩🏽‍🏫 \\u0000 ${jndi:ldap://x} {{7*7}} ‮txt.exe",
}


async def count_referrals(platform: RunningPlatform, library: str) -> int:
    async with platform.services["referrals"].sessions() as session:
        return (
            await session.execute(sa.select(sa.func.count()).where(referral_store.referrals.c.library == library))
        ).scalar_one()


async def post_raw(platform: RunningPlatform, token: str, content: bytes, content_type: str) -> httpx.Response:
    async with platform.client(token) as api:
        return await api.post("/api/v1/referrals", content=content, headers={"content-type": content_type})


def nested(depth: int) -> bytes:
    return b'{"library": ' + b"[" * depth + b"]" * depth + b"}"


def bad_bodies(tenant: Tenant) -> dict[str, tuple[bytes, str]]:
    valid = referral_body(tenant.library_a, tenant.partner_a)
    as_json = "application/json"

    def with_(**changes: Any) -> bytes:
        return json.dumps({**valid, **changes}).encode()

    return {
        "malformed JSON": (b'{"library": "x", ', as_json),
        "not JSON at all": (b"library=x&reason=y", "application/x-www-form-urlencoded"),
        "empty body": (b"", as_json),
        "a list, not an object": (b"[1, 2, 3]", as_json),
        "needs is a string": (with_(needs="language"), as_json),
        "library is a number": (with_(library=12345), as_json),
        "partner id is not a uuid": (with_(referring_partner_id="'; DROP TABLE referrals; --"), as_json),
        "valid_until is a boolean": (with_(consent={**valid["consent"], "valid_until": True}), as_json),
        "reason too long": (with_(reason="x" * 5000), as_json),
        "nested 500 levels deep": (nested(500), as_json),
        "huge body (2 MiB)": (with_(reason="x" * (2 * 1024 * 1024)), as_json),
    }


async def test_bad_input_is_a_clear_4xx_problem_and_stores_nothing(platform: RunningPlatform, tenant: Tenant) -> None:
    before = await count_referrals(platform, tenant.library_a)
    answers: dict[str, int] = {}
    for case, (content, content_type) in bad_bodies(tenant).items():
        response = await post_raw(platform, tenant.partner_a_token, content, content_type)
        answers[case] = response.status_code
        assert 400 <= response.status_code < 500, f"{case}: {response.status_code} {response.text[:300]}"
        assert response.headers["content-type"].startswith(PROBLEM), case
        problem = response.json()
        assert problem["status"] == response.status_code and problem["type"].startswith("urn:partnernet:problem:"), case
    print(f"[fault] bad input: sent={len(answers)} accepted=0 stored=0 answers={answers}")
    assert answers["huge body (2 MiB)"] == 413
    assert await count_referrals(platform, tenant.library_a) == before, "nothing was stored"


async def test_unknown_fields_are_refused(platform: RunningPlatform, tenant: Tenant) -> None:
    before = await count_referrals(platform, tenant.library_a)
    body = referral_body(tenant.library_a, tenant.partner_a, status="completed", is_admin=True)
    async with platform.client(tenant.partner_a_token) as api:
        response = await api.post("/api/v1/referrals", json=body)
    assert response.status_code == 422, response.text
    assert await count_referrals(platform, tenant.library_a) == before


async def test_json_nested_deeper_than_the_recursion_limit_is_refused(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    before = await count_referrals(platform, tenant.library_a)
    response = await post_raw(platform, tenant.partner_a_token, nested(100_000), "application/json")
    assert await count_referrals(platform, tenant.library_a) == before
    assert response.status_code == 400, response.text


async def test_text_with_a_nul_character_is_refused_not_a_server_error(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    before = await count_referrals(platform, tenant.library_a)
    body = referral_body(tenant.library_a, tenant.partner_a, reason="Wil\u0000solliciteren")
    async with platform.client(tenant.partner_a_token) as api:
        response = await api.post("/api/v1/referrals", json=body)
    assert await count_referrals(platform, tenant.library_a) == before
    assert response.status_code == 422, response.text


async def test_hostile_looking_text_is_stored_and_returned_exactly_as_sent(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    body = referral_body(
        tenant.library_a,
        tenant.partner_a,
        reason=HOSTILE_TEXT["reason"],
        contact_person={"name": HOSTILE_TEXT["contact"], "email": "x@example.org"},
        participant={"name": HOSTILE_TEXT["participant"], "birth_date": "1984-03-02"},
    )
    async with platform.client(tenant.partner_a_token) as api:
        created = await api.post("/api/v1/referrals", json=body)
        assert created.status_code == 201, created.text
        read = await api.get(f"/api/v1/referrals/{created.json()['id']}")
    assert read.status_code == 200
    for view in (created.json(), read.json()):
        assert view["reason"].encode() == HOSTILE_TEXT["reason"].encode()
        assert view["contact_person"]["name"].encode() == HOSTILE_TEXT["contact"].encode()
        assert view["participant"]["name"].encode() == HOSTILE_TEXT["participant"].encode()
    assert read.headers["content-type"].startswith("application/json"), "never rendered as HTML"
    assert await count_referrals(platform, tenant.library_a) >= 1, "the referrals table is still there"
