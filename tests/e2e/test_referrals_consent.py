"""Consent over HTTP: it names the receiving party by its id (never a typed name), what is shared and until when;
a revocation recorded by either side, or the passing of its last day, ends every party's view of the person at once,
withdraws what was open, and reaches the partner's feed, the history and the access log."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest
import sqlalchemy as sa

from services.referrals import store
from services.referrals.commands import consent
from tests.e2e.test_referrals_lifecycle import submit
from tests.e2e.test_webhooks import (
    Receiver,
    deliveries,
    receiver,  # noqa: F401  - the partner's endpoint fixture
    register,
    verified,
)
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant
from tests.referral_bodies import consent_body, referral_body
from tests.services.referrals.conftest import now, pooled_tenant, work_at
from tests.waiting import eventually

DESK = {"told_at": "2026-02-01T10:00:00+01:00", "told_via": "in_person", "note": "zei het aan de balie"}
PERSON = "Fatima El Amrani"


@pytest.fixture
async def tenant(platform: RunningPlatform) -> Tenant:
    """A fresh tenant, one of a batch registered side by side (quicker than one at a time)."""
    return await pooled_tenant(platform)


async def read(platform: RunningPlatform, token: str, referral_id: str) -> dict[str, Any]:
    async with platform.client(token) as api:
        response = await api.get(f"/api/v1/referrals/{referral_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def feed_of(platform: RunningPlatform, tenant: Tenant, referral_id: str) -> list[dict[str, Any]]:
    async with platform.client(tenant.partner_a_token) as api:
        response = await api.get(f"/api/v1/partners/{tenant.partner_a}/feed", params={"limit": 200})
    assert response.status_code == 200, response.text
    return [entry for entry in response.json()["items"] if entry["data"].get("referral_id") == referral_id]


async def feed_carries(platform: RunningPlatform, tenant: Tenant, referral_id: str, *types: str) -> list[dict]:
    async def arrived() -> list[dict] | None:
        entries = await feed_of(platform, tenant, referral_id)
        have = {entry["type"].removeprefix("nl.partnernet.") for entry in entries}
        return entries if set(types) <= have else None

    return await eventually(arrived, what=f"{types} in the referring partner's feed")


async def test_consent_to_a_typed_name_or_to_someone_outside_the_referral_is_refused(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    cases = {
        "a typed name": consent_body(library=tenant.library_a) | {"given_to": "Albert Heijn"},
        "a party outside the referral": consent_body(partner_id=str(uuid4())),
        "another library, not the receiving one": consent_body(library=tenant.library_b),
        "nothing shared": consent_body(library=tenant.library_a, shares=[]),
        "something that is not shared data": consent_body(library=tenant.library_a, shares=["bank_account"]),
    }
    async with platform.client(tenant.partner_a_token) as api:
        for case, given in cases.items():
            body = referral_body(tenant.library_a, tenant.partner_a, consent=given)
            response = await api.post("/api/v1/referrals", json=body)
            assert response.status_code == 422, (case, response.text)
            assert response.headers["content-type"].startswith("application/problem+json"), case
        outsider = await api.post(
            "/api/v1/referrals",
            json=referral_body(tenant.library_a, tenant.partner_a, consent=consent_body(library=tenant.library_b)),
        )
    assert outsider.json()["detail"] == (
        f"consent can only be given to the parties of this referral; library {tenant.library_b} is not one of them"
    )
    async with platform.client(tenant.staff_a) as api:
        assert (await api.get("/api/v1/referrals")).json()["items"] == []


async def test_the_consent_is_kept_as_given_to_the_receiving_library_for_what_it_shares(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    referral = await submit(
        platform, tenant, consent=consent_body(library=tenant.library_a, shares=["reason", "contact_details"])
    )
    seen = await read(platform, tenant.staff_a, referral["id"])
    assert seen["consent"]["given_to"] == [{"library": tenant.library_a, "partner_id": None}]
    assert seen["consent"]["shares"] == ["contact_details", "reason"]
    assert (seen["consent_state"], seen["consent_ended_at"]) == ("given", None)


async def test_the_library_records_a_revocation_told_at_the_desk_and_no_party_sees_the_person_any_more(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    referral = await submit(platform, tenant)
    assert (await read(platform, tenant.partner_a_token, referral["id"]))["participant"]["name"] == PERSON
    async with platform.client(tenant.staff_a) as api:
        assert (await api.post(f"/api/v1/referrals/{referral['id']}/accept")).status_code == 200
        revoked = await api.post(f"/api/v1/referrals/{referral['id']}/revoke-consent", json=DESK)
        again = await api.post(f"/api/v1/referrals/{referral['id']}/revoke-consent", json=DESK)
    assert revoked.status_code == 200, revoked.text
    assert again.status_code == 409 and again.json()["detail"] == "the consent is already revoked"
    view = revoked.json()
    assert (view["status"], view["withdraw_reason"], view["consent_state"]) == (
        "withdrawn",
        "consent_withdrawn",
        "revoked",
    )
    revocation = view["consent_revocation"]
    assert (revocation["recorded_by"], revocation["told_via"]) == ("receiving", "in_person")
    assert [entry["step"] for entry in view["history"]] == ["submit", "accept", "revoke_consent", "withdraw"]

    for token in (tenant.partner_a_token, tenant.staff_a):
        seen = await read(platform, token, referral["id"])
        assert (seen["participant"], seen["reason"], seen["withheld_because"]) == (None, None, "consent_revoked")
        assert seen["participant_pseudonym"] == referral["participant_pseudonym"]

    async with platform.client(tenant.staff_a) as api:
        log = (await api.get(f"/api/v1/referrals/{referral['id']}/access-log")).json()["items"]
    assert log[0]["purpose"] == "consent_revoked" and log[0]["actor_organisation"] == tenant.library_a
    entries = await feed_carries(platform, tenant, referral["id"], "referral.consent_revoked.v1")
    (event,) = [entry for entry in entries if entry["type"].endswith("consent_revoked.v1")]
    assert (event["data"]["recorded_by"], event["data"]["told_via"]) == ("receiving", "in_person")
    assert PERSON not in str(entries)


async def test_a_withdrawal_because_consent_was_withdrawn_ends_the_consent_too(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    referral = await submit(platform, tenant)
    async with platform.client(tenant.partner_a_token) as api:
        withdrawn = await api.post(f"/api/v1/referrals/{referral['id']}/withdraw", json={"reason": "consent_withdrawn"})
    assert withdrawn.status_code == 200, withdrawn.text
    assert (withdrawn.json()["status"], withdrawn.json()["consent_revocation"]["recorded_by"]) == (
        "withdrawn",
        "referring",
    )
    seen = await read(platform, tenant.staff_a, referral["id"])
    assert (seen["participant"], seen["consent_state"]) == (None, "revoked")
    await feed_carries(platform, tenant, referral["id"], "referral.consent_revoked.v1", "referral.withdrawn.v1")


async def test_only_the_parties_record_a_revocation(platform: RunningPlatform, tenant: Tenant) -> None:
    referral = await submit(platform, tenant)
    async with platform.client(tenant.partner_b_token) as api:  # not a party: as if it did not exist
        assert (await api.post(f"/api/v1/referrals/{referral['id']}/revoke-consent", json=DESK)).status_code == 404
    async with platform.client(tenant.staff_b) as api:
        assert (await api.post(f"/api/v1/referrals/{referral['id']}/revoke-consent", json=DESK)).status_code == 404
    async with platform.client(tenant.partner_a_token) as api:
        bad = await api.post(f"/api/v1/referrals/{referral['id']}/revoke-consent", json={"told_via": "pigeon"})
        assert bad.status_code == 422
    assert (await read(platform, tenant.staff_a, referral["id"]))["consent_state"] == "given"


async def test_a_consent_whose_last_day_passed_ends_like_a_revocation(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    today = now()
    last_day = (today + timedelta(days=1)).date().isoformat()
    referral = await submit(platform, tenant, consent=consent_body(library=tenant.library_a, valid_until=last_day))
    async with platform.client(tenant.staff_a) as api:
        assert (await api.post(f"/api/v1/referrals/{referral['id']}/accept")).status_code == 200

    work, clock = work_at(platform, today)
    assert await consent.expire_lapsed_consents(work, library=tenant.library_a) == 0  # still its last day ahead
    clock.advance(timedelta(days=3))
    assert await consent.expire_lapsed_consents(work, library=tenant.library_a) == 1
    assert await consent.expire_lapsed_consents(work, library=tenant.library_a) == 0

    for token in (tenant.partner_a_token, tenant.staff_a):
        seen = await read(platform, token, referral["id"])
        assert (seen["participant"], seen["withheld_because"], seen["consent_state"]) == (
            None,
            "consent_expired",
            "expired",
        )
        assert (seen["status"], seen["withdraw_reason"]) == ("withdrawn", "consent_withdrawn")
    async with platform.services["referrals"].sessions() as session:
        purposes = (
            await session.execute(
                sa.select(store.personal_data_reads.c.purpose).where(
                    store.personal_data_reads.c.referral_id == referral["id"]
                )
            )
        ).scalars()
        assert "consent_expired" in set(purposes)
    await feed_carries(platform, tenant, referral["id"], "referral.consent_expired.v1", "referral.withdrawn.v1")


async def test_a_revocation_reaches_the_referrers_webhook_with_pseudonyms_only(
    platform: RunningPlatform,
    tenant: Tenant,
    receiver: Receiver,  # noqa: F811  - the fixture imported above
) -> None:
    path, webhook_id, secret = await register(platform, tenant, receiver, "referral.consent_revoked")
    referral = await submit(platform, tenant)
    async with platform.client(tenant.staff_a) as api:
        assert (await api.post(f"/api/v1/referrals/{referral['id']}/revoke-consent", json=DESK)).status_code == 200

    async def delivered() -> list[dict[str, Any]]:
        return await deliveries(platform, tenant, webhook_id, status="delivered")

    (delivery,) = await eventually(delivered, what="the revocation delivered to the referrer's webhook")
    (request,) = [r for r in receiver.at(path) if r.answered == 200]
    assert request.event["id"] == delivery["event_id"]
    assert request.event["type"] == "nl.partnernet.referral.consent_revoked.v1"
    assert request.event["data"]["referral_id"] == referral["id"]
    assert request.event["data"]["participant_pseudonym"].startswith("F-")
    assert verified(secret, request.headers, request.body) and PERSON.encode() not in request.body
