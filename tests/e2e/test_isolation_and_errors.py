"""From the outside: a token sees only its own scope, bad input changes nothing, every failure is a problem."""

from __future__ import annotations

from pathlib import Path

import httpx
import sqlalchemy as sa

from launcher.embedded import EmbeddedNats
from services.referrals import store as referral_store
from shared.tenancy import Actor, Role
from shared.tokens import TokenIssuer
from tests.fixtures.platform import RunningPlatform, another_gateway, make_settings
from tests.fixtures.tenants import Tenant
from tests.referral_bodies import consent_body, referral_body
from tests.waiting import PATIENCE_SECONDS

PROBLEM = "application/problem+json"


async def submit(platform: RunningPlatform, token: str, body: dict) -> httpx.Response:
    async with platform.client(token) as api:
        return await api.post("/api/v1/referrals", json=body)


async def count_referrals(platform: RunningPlatform, library: str) -> int:
    async with platform.services["referrals"].sessions() as session:
        return (
            await session.execute(sa.select(sa.func.count()).where(referral_store.referrals.c.library == library))
        ).scalar_one()


async def test_staff_of_library_a_gets_404_for_library_bs_referral(platform: RunningPlatform, tenant: Tenant) -> None:
    response = await submit(platform, tenant.partner_a_token, referral_body(tenant.library_b, tenant.partner_a))
    assert response.status_code == 201
    referral_id = response.json()["id"]
    async with platform.client(tenant.staff_a) as api:
        other = await api.get(f"/api/v1/referrals/{referral_id}")
        missing = await api.get("/api/v1/referrals/01a226a7-0000-7000-8000-000000000000")
    assert other.status_code == 404
    assert other.headers["content-type"].startswith(PROBLEM)
    # Exactly like a referral that does not exist: nothing leaks.
    assert other.json()["type"] == missing.json()["type"] == "urn:partnernet:problem:not-found"
    async with platform.client(tenant.staff_b) as api:
        assert (await api.get(f"/api/v1/referrals/{referral_id}")).status_code == 200


async def test_staff_of_library_a_cannot_submit_for_library_b(platform: RunningPlatform, tenant: Tenant) -> None:
    before = await count_referrals(platform, tenant.library_b)
    response = await submit(platform, tenant.staff_a, referral_body(tenant.library_b, tenant.partner_a))
    assert response.status_code == 403
    assert response.json()["type"] == "urn:partnernet:problem:forbidden"
    assert await count_referrals(platform, tenant.library_b) == before


async def test_partner_cannot_submit_on_behalf_of_another_partner(platform: RunningPlatform, tenant: Tenant) -> None:
    response = await submit(platform, tenant.partner_b_token, referral_body(tenant.library_a, tenant.partner_a))
    assert response.status_code == 403


async def test_staff_of_another_municipality_sees_nothing(
    platform: RunningPlatform, tenant: Tenant, elsewhere: Tenant
) -> None:
    response = await submit(platform, tenant.partner_a_token, referral_body(tenant.library_a, tenant.partner_a))
    referral_id = response.json()["id"]
    outsider = elsewhere.staff_a
    coordinator_elsewhere = platform.token(Role.COORDINATOR, municipality=elsewhere.municipality)
    for token in (outsider, coordinator_elsewhere):
        async with platform.client(token) as api:
            assert (await api.get(f"/api/v1/referrals/{referral_id}")).status_code == 404
            assert (await api.get(f"/api/v1/partners/{tenant.partner_a}")).status_code == 404
    own_coordinator = platform.token(Role.COORDINATOR, municipality=tenant.municipality)
    async with platform.client(own_coordinator) as api:
        seen = await api.get(f"/api/v1/referrals/{referral_id}")
    assert seen.status_code == 200
    assert seen.json()["participant"] is None  # coordinators see the pseudonym, not the person


async def test_a_partner_reads_only_its_own_feed(platform: RunningPlatform, tenant: Tenant) -> None:
    async with platform.client(tenant.partner_b_token) as api:
        assert (await api.get(f"/api/v1/partners/{tenant.partner_a}/feed")).status_code == 404
        assert (await api.get(f"/api/v1/partners/{tenant.partner_b}/feed")).status_code == 200
    async with platform.client(tenant.staff_a) as api:
        assert (await api.get(f"/api/v1/partners/{tenant.partner_a}/feed")).status_code == 404


async def test_bad_input_is_a_problem_and_writes_nothing(platform: RunningPlatform, tenant: Tenant) -> None:
    before = await count_referrals(platform, tenant.library_a)
    cases = {
        "no consent": {k: v for k, v in referral_body(tenant.library_a, tenant.partner_a).items() if k != "consent"},
        "no needs": referral_body(tenant.library_a, tenant.partner_a, needs=[]),
        "unknown need": referral_body(tenant.library_a, tenant.partner_a, needs=[{"area": "juggling"}]),
        "expired consent": referral_body(
            tenant.library_a,
            tenant.partner_a,
            consent=consent_body(library=tenant.library_a, given_at="2020-01-01T00:00:00Z", valid_until="2020-02-01"),
        ),
        "consent time without a zone": referral_body(
            tenant.library_a,
            tenant.partner_a,
            consent=consent_body(library=tenant.library_a, given_at="2026-01-01T09:00:00"),
        ),  # The vocabulary's Email and Phone hold for the participant and the contact person as everywhere else.
        "participant's e-mail without a domain": referral_body(
            tenant.library_a, tenant.partner_a, participant={"name": "Fatima El Amrani", "email": "fatima@"}
        ),
        "participant's phone in words": referral_body(
            tenant.library_a, tenant.partner_a, participant={"name": "Fatima El Amrani", "phone": "bel maar"}
        ),
        "contact person's e-mail with a space": referral_body(
            tenant.library_a, tenant.partner_a, contact_person={"name": "Jan", "email": "jan @werkplein.example"}
        ),
        "contact person's phone of one digit": referral_body(
            tenant.library_a, tenant.partner_a, contact_person={"name": "Jan", "phone": "1"}
        ),
    }
    for case, body in cases.items():
        response = await submit(platform, tenant.partner_a_token, body)
        assert response.status_code == 422, case
        assert response.headers["content-type"].startswith(PROBLEM), case
        assert response.json()["type"] == "urn:partnernet:problem:invalid-input", case
    async with platform.client(tenant.partner_a_token) as api:
        not_json = await api.post(
            "/api/v1/referrals", content=b"{not json", headers={"content-type": "application/json"}
        )
    assert not_json.status_code in (400, 422)
    assert not_json.headers["content-type"].startswith(PROBLEM)
    assert await count_referrals(platform, tenant.library_a) == before


async def test_requests_without_a_valid_token_are_refused(platform: RunningPlatform, tenant: Tenant) -> None:
    async with platform.client() as api:
        anonymous = await api.get(f"/api/v1/partners/{tenant.partner_a}")
    async with platform.client("not-a-token") as api:
        forged = await api.get(f"/api/v1/partners/{tenant.partner_a}")
    for response in (anonymous, forged):
        assert response.status_code == 401
        assert response.json()["type"] == "urn:partnernet:problem:unauthorized"


async def test_health_answers_when_every_service_answers(platform: RunningPlatform) -> None:
    async with platform.client() as api:
        response = await api.get("/health")
    assert response.status_code == 200
    assert set(response.json()["services"]) == {"partners", "referrals", "volunteers", "courses"}


async def test_a_service_that_does_not_answer_is_a_503_problem_not_a_hang(tmp_path: Path, database_url: str) -> None:
    """A gateway on a broker where no service runs: every call fails fast with the service named."""
    with EmbeddedNats(tmp_path / "nats") as lonely_broker:
        settings = make_settings(lonely_broker.url, database_url, tmp_path / "data")
        async with another_gateway(settings) as url:
            token = TokenIssuer(settings.jwt_secret).issue(Actor(subject="op", role=Role.OPERATOR))
            async with httpx.AsyncClient(
                base_url=url, timeout=PATIENCE_SECONDS, headers={"Authorization": f"Bearer {token}"}
            ) as api:
                referral = await api.get("/api/v1/referrals/01a226a7-0000-7000-8000-000000000000")
                health = await api.get("/health")
    assert referral.status_code == 503
    assert referral.headers["content-type"].startswith(PROBLEM)
    assert referral.json()["type"] == "urn:partnernet:problem:service-unavailable"
    assert referral.json()["service"] == "referrals"
    assert health.status_code == 503
    assert health.json()["services"]["referrals"]["status"] == "down"
