"""Minimal disclosure over HTTP, as each side: before accepting, the receiving library or partner sees what it needs
to decide (needs, the reason, the preferred channel) and not who the person is; after accepting, their contact
details, and only what the consent shares."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.test_referrals_consent import feed_carries, read
from tests.e2e.test_referrals_lifecycle import INTAKE, OUTCOME
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant
from tests.referral_bodies import consent_body, referral_body, to_partner_body
from tests.services.referrals.conftest import pooled_tenant

PERSON = "Fatima El Amrani"


@pytest.fixture
async def tenant(platform: RunningPlatform) -> Tenant:
    return await pooled_tenant(platform)


async def submit(platform: RunningPlatform, token: str, body: dict[str, Any]) -> dict[str, Any]:
    async with platform.client(token) as api:
        response = await api.post("/api/v1/referrals", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def accept(platform: RunningPlatform, token: str, referral_id: str) -> None:
    async with platform.client(token) as api:
        assert (await api.post(f"/api/v1/referrals/{referral_id}/accept")).status_code == 200


async def access_log(platform: RunningPlatform, tenant: Tenant, referral_id: str) -> list[str]:
    async with platform.client(tenant.staff_a) as api:
        items = (await api.get(f"/api/v1/referrals/{referral_id}/access-log")).json()["items"]
    return [item["actor_role"] for item in items]


async def test_the_receiving_library_sees_the_person_only_after_accepting(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    referral = await submit(platform, tenant.partner_a_token, referral_body(tenant.library_a, tenant.partner_a))
    before = await read(platform, tenant.staff_a, referral["id"])
    assert (before["participant"], before["withheld_because"], before["withheld"]) == (
        None,
        "not_accepted",
        ["contact_details"],
    )
    assert before["reason"] and [need["area"] for need in before["needs"]] == ["language", "job_seeking"]
    assert before["preferred_channel"] == "phone"
    assert await access_log(platform, tenant, referral["id"]) == []  # nothing personal was read
    assert (await read(platform, tenant.partner_a_token, referral["id"]))["participant"]["name"] == PERSON

    await accept(platform, tenant.staff_a, referral["id"])
    after = await read(platform, tenant.staff_a, referral["id"])
    assert (after["participant"]["name"], after["withheld_because"]) == (PERSON, None)
    assert "staff" in await access_log(platform, tenant, referral["id"])


async def test_the_receiving_partner_sees_the_person_only_after_accepting(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    referral = await submit(platform, tenant.staff_a, to_partner_body(tenant.library_a, tenant.partner_b))
    before = await read(platform, tenant.partner_b_token, referral["id"])
    assert (before["participant"], before["withheld_because"]) == (None, "not_accepted")
    assert (await read(platform, tenant.staff_a, referral["id"]))["participant"]["name"] == PERSON  # it referred
    await accept(platform, tenant.partner_b_token, referral["id"])
    assert (await read(platform, tenant.partner_b_token, referral["id"]))["participant"]["name"] == PERSON


async def test_after_accepting_the_receiving_side_sees_only_what_the_consent_shares(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    reason_only = consent_body(library=tenant.library_a, shares=["reason"])
    no_contact = await submit(
        platform, tenant.partner_a_token, referral_body(tenant.library_a, tenant.partner_a, consent=reason_only)
    )
    contact_only = consent_body(library=tenant.library_a, shares=["contact_details"])
    no_reason = await submit(
        platform, tenant.partner_a_token, referral_body(tenant.library_a, tenant.partner_a, consent=contact_only)
    )
    for referral in (no_contact, no_reason):
        await accept(platform, tenant.staff_a, referral["id"])
    seen = await read(platform, tenant.staff_a, no_contact["id"])
    assert (seen["participant"], bool(seen["reason"]), seen["withheld_because"]) == (None, True, "consent_scope")
    seen = await read(platform, tenant.staff_a, no_reason["id"])
    assert (seen["participant"]["name"], seen["reason"], seen["withheld"]) == (PERSON, None, ["reason"])
    referrer = await read(platform, tenant.partner_a_token, no_reason["id"])
    assert referrer["reason"] is not None  # the referrer wrote it


async def test_the_outcome_goes_back_to_the_referrer_only_where_the_consent_shares_it(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    no_outcome = consent_body(library=tenant.library_a, shares=["contact_details", "reason"])
    referral = await submit(
        platform, tenant.partner_a_token, referral_body(tenant.library_a, tenant.partner_a, consent=no_outcome)
    )
    async with platform.client(tenant.staff_a) as api:
        for route, body in (("accept", None), ("plan-intake", INTAKE), ("intake-held", None), ("complete", OUTCOME)):
            response = await api.post(f"/api/v1/referrals/{referral['id']}/{route}", json=body)
            assert response.status_code == 200, response.text
    assert (await read(platform, tenant.staff_a, referral["id"]))["outcome"]["moved_to_work"] is True
    referrer = await read(platform, tenant.partner_a_token, referral["id"])
    assert (referrer["status"], referrer["outcome"], referrer["withheld"]) == ("completed", None, ["outcome"])
    entries = await feed_carries(platform, tenant, referral["id"], "referral.completed.v2")
    (completed,) = [entry for entry in entries if "referral.completed" in entry["type"]]
    assert completed["data"].get("outcome") is None


async def test_coordinators_and_operators_see_the_course_of_a_referral_but_no_free_text_about_the_person(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    """They are no party: the reason, the consent's purpose and the history's notes can all name the person."""
    secret = "Fatima's schuldhulpverlening via haar broer"
    consent = consent_body(library=tenant.library_a, purpose=f"taalcursus; {secret}")
    body = referral_body(tenant.library_a, tenant.partner_a, reason=f"Wil solliciteren; {secret}", consent=consent)
    referral = await submit(platform, tenant.partner_a_token, body)
    async with platform.client(tenant.staff_a) as api:
        accepted = await api.post(f"/api/v1/referrals/{referral['id']}/accept", json={"note": f"Belde: {secret}"})
        assert accepted.status_code == 200, accepted.text
        stale = await api.post(
            f"/api/v1/referrals/{referral['id']}/plan-intake", json=INTAKE, headers={"If-Match": '"1"'}
        )
    assert stale.status_code == 409 and secret in stale.text  # staff are a party: their own stale view has it all

    for token in (tenant.coordinator, tenant.operator):
        seen = await read(platform, token, referral["id"])
        assert (seen["status"], seen["participant_pseudonym"]) == ("accepted", referral["participant_pseudonym"])
        assert [need["area"] for need in seen["needs"]] == ["language", "job_seeking"]
        assert (seen["participant"], seen["reason"], seen["withheld_because"]) == (None, None, "not_a_party")
        assert seen["consent"]["purpose"] == "—" and seen["consent"]["valid_until"] == "2099-01-10"
        assert [entry["step"] for entry in seen["history"]] == ["submit", "accept"]
        assert secret not in str(seen) and PERSON not in str(seen)
        async with platform.client(token) as api:
            listed = await api.get("/api/v1/referrals", params={"library": tenant.library_a})
            stats = await api.get("/api/v1/referrals/statistics", params={"municipality": tenant.municipality})
        assert listed.status_code == 200 and referral["id"] in listed.text and secret not in listed.text
        assert stats.status_code in (200, 403) and secret not in stats.text
    # A party still reads it all.
    assert secret in (await read(platform, tenant.staff_a, referral["id"]))["reason"]
    assert secret in (await read(platform, tenant.partner_a_token, referral["id"]))["consent"]["purpose"]


async def test_a_stale_step_answers_with_no_more_than_the_caller_may_see(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    contact_only = consent_body(library=tenant.library_a, shares=["contact_details"])
    body = referral_body(tenant.library_a, tenant.partner_a, consent=contact_only)
    referral = await submit(platform, tenant.partner_a_token, body)
    async with platform.client(tenant.staff_a) as api:
        stale = await api.post(f"/api/v1/referrals/{referral['id']}/accept", headers={"If-Match": '"7"'})
    assert stale.status_code == 409, stale.text
    current = stale.json()["current"]
    assert (current["reason"], current["withheld_because"]) == (None, "not_accepted")
    assert body["reason"] not in stale.text
