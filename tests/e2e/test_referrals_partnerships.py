"""Referrals only within a partnership, over HTTP as each role: none without an active partnership between the
partner and the library or the municipality's agreement the coordinator records; an ended partnership or
agreement stops new referrals and, like a suspended partner, leaves that partner pseudonyms only."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.test_referrals_consent import read
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant, register_tenant
from tests.referral_bodies import referral_body, to_partner_body
from tests.services.referrals.conftest import pooled_tenant
from tests.waiting import eventually

PERSON = "Fatima El Amrani"


@pytest.fixture
async def unpartnered(platform: RunningPlatform) -> Tenant:
    """A municipality whose partners have no partnership and no agreement yet."""
    return await register_tenant(platform, agreements=False)


@pytest.fixture
async def tenant(platform: RunningPlatform) -> Tenant:
    return await pooled_tenant(platform)


async def post(platform: RunningPlatform, token: str, path: str, body: dict[str, Any] | None = None) -> Any:
    async with platform.client(token) as api:
        return await api.post(path, json=body)


async def partner_refers(platform: RunningPlatform, tenant: Tenant, library: str) -> Any:
    return await post(platform, tenant.partner_a_token, "/api/v1/referrals", referral_body(library, tenant.partner_a))


async def test_no_referral_without_a_partnership_or_an_agreement_in_either_direction(
    platform: RunningPlatform, unpartnered: Tenant
) -> None:
    tenant = unpartnered
    refused = await partner_refers(platform, tenant, tenant.library_a)
    assert refused.status_code == 409, refused.text
    assert refused.json()["detail"] == (
        f"referring partner {tenant.partner_a} has no active partnership with library {tenant.library_a} and no "
        "municipality-wide referral agreement: no new referrals between them"
    )
    to_partner = await post(
        platform, tenant.staff_a, "/api/v1/referrals", to_partner_body(tenant.library_a, tenant.partner_b)
    )
    assert to_partner.status_code == 409, to_partner.text
    async with platform.client(tenant.staff_a) as api:
        assert (await api.get("/api/v1/referrals")).json()["items"] == []


async def test_a_partnership_allows_referrals_with_its_library_and_its_end_stops_them_and_hides_the_person(
    platform: RunningPlatform, unpartnered: Tenant
) -> None:
    tenant = unpartnered
    body = {
        "library": tenant.library_a,
        "partner_id": tenant.partner_a,
        "roles": ["referrer"],
        "starts_on": "2026-01-01",
    }
    created = await post(platform, tenant.staff_a, "/api/v1/partnerships", body)
    assert created.status_code == 201, created.text
    partnership = f"/api/v1/partnerships/{created.json()['id']}"
    assert (await post(platform, tenant.staff_a, f"{partnership}/activate")).status_code == 200

    async def accepted() -> dict[str, Any] | None:
        response = await partner_refers(platform, tenant, tenant.library_a)
        return dict(response.json()) if response.status_code == 201 else None

    referral = await eventually(accepted, what="the partnership to reach the referrals service")
    assert (await post(platform, tenant.staff_a, f"/api/v1/referrals/{referral['id']}/accept")).status_code == 200
    assert (await partner_refers(platform, tenant, tenant.library_b)).status_code == 409  # not with another library
    assert (await read(platform, tenant.partner_a_token, referral["id"]))["participant"]["name"] == PERSON

    assert (
        await post(platform, tenant.staff_a, f"{partnership}/end", {"reason": "project afgerond"})
    ).status_code == 200

    async def refused() -> bool:
        return (await partner_refers(platform, tenant, tenant.library_a)).status_code == 409

    await eventually(refused, what="the end of the partnership to reach the referrals service")
    seen = await read(platform, tenant.partner_a_token, referral["id"])
    assert (seen["participant"], seen["reason"], seen["withheld_because"]) == (None, None, "partnership_ended")
    assert seen["participant_pseudonym"] == referral["participant_pseudonym"]
    assert (await read(platform, tenant.staff_a, referral["id"]))["participant"]["name"] == PERSON  # the library's


async def test_the_coordinator_records_a_municipality_wide_agreement_and_ends_it(
    platform: RunningPlatform, unpartnered: Tenant, elsewhere: Tenant
) -> None:
    tenant = unpartnered
    path = "/api/v1/referrals/agreements"
    assert (await post(platform, tenant.staff_a, path, {"partner_id": tenant.partner_a})).status_code == 403
    assert (await post(platform, tenant.partner_a_token, path, {"partner_id": tenant.partner_a})).status_code == 403
    assert (await post(platform, elsewhere.coordinator, path, {"partner_id": tenant.partner_a})).status_code == 404
    recorded = await post(platform, tenant.coordinator, path, {"partner_id": tenant.partner_a, "note": "convenant"})
    assert recorded.status_code == 201, recorded.text
    agreement = recorded.json()
    assert (agreement["status"], agreement["municipality"]) == ("in_force", tenant.municipality)
    twice = await post(platform, tenant.coordinator, path, {"partner_id": tenant.partner_a})
    assert twice.status_code == 409

    referrals = [await partner_refers(platform, tenant, library) for library in (tenant.library_a, tenant.library_b)]
    assert [response.status_code for response in referrals] == [201, 201]  # every library of the municipality
    async with platform.client(tenant.staff_b) as api:
        listed = (await api.get(path)).json()["items"]
    assert [item["id"] for item in listed] == [agreement["id"]]

    ended = await post(platform, tenant.coordinator, f"{path}/{agreement['id']}/end")
    assert ended.status_code == 200 and ended.json()["status"] == "ended"
    assert (await partner_refers(platform, tenant, tenant.library_a)).status_code == 409
    seen = await read(platform, tenant.partner_a_token, referrals[0].json()["id"])
    assert (seen["participant"], seen["withheld_because"]) == (None, "partnership_ended")


async def test_a_suspended_partner_sees_pseudonyms_only_on_referrals_it_was_part_of(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    submitted = await partner_refers(platform, tenant, tenant.library_a)
    referral_id = submitted.json()["id"]
    assert (await post(platform, tenant.staff_a, f"/api/v1/referrals/{referral_id}/accept")).status_code == 200
    assert (await read(platform, tenant.partner_a_token, referral_id))["participant"]["name"] == PERSON
    suspended = await post(
        platform, tenant.coordinator, f"/api/v1/partners/{tenant.partner_a}/suspend", {"reason": "onderzoek"}
    )
    assert suspended.status_code == 200, suspended.text

    async def hidden() -> dict[str, Any] | None:
        seen = await read(platform, tenant.partner_a_token, referral_id)
        return seen if seen["participant"] is None else None

    seen = await eventually(hidden, what="the suspension to reach the referrals service")
    assert (seen["reason"], seen["withheld_because"]) == (None, "partner_inactive")
    assert (await read(platform, tenant.staff_a, referral_id))["participant"]["name"] == PERSON


async def test_a_suspended_partnership_takes_no_new_referrals_and_hides_the_person_until_resumed(
    platform: RunningPlatform, unpartnered: Tenant
) -> None:
    from tests.e2e.participant_support import issue_code, participant, visible_text
    from tests.e2e.test_participant_rights import today

    tenant = unpartnered
    body = {
        "library": tenant.library_a,
        "partner_id": tenant.partner_a,
        "roles": ["referrer"],
        "starts_on": "2026-01-01",
    }
    created = await post(platform, tenant.staff_a, "/api/v1/partnerships", body)
    assert created.status_code == 201, created.text
    partnership = f"/api/v1/partnerships/{created.json()['id']}"
    assert (await post(platform, tenant.staff_a, f"{partnership}/activate")).status_code == 200

    async def accepted() -> dict[str, Any] | None:
        response = await partner_refers(platform, tenant, tenant.library_a)
        return dict(response.json()) if response.status_code == 201 else None

    referral = await eventually(accepted, what="the partnership to reach the referrals service")
    assert (await post(platform, tenant.staff_a, f"/api/v1/referrals/{referral['id']}/accept")).status_code == 200
    code = (await issue_code(platform, tenant, referral["id"]))["code"]

    suspended = await post(platform, tenant.staff_a, f"{partnership}/suspend", {"reason": "evaluatie"})
    assert suspended.status_code == 200, suspended.text

    async def refused() -> bool:
        return (await partner_refers(platform, tenant, tenant.library_a)).status_code == 409

    await eventually(refused, what="the suspension to reach the referrals service")
    seen = await read(platform, tenant.partner_a_token, referral["id"])
    assert (seen["participant"], seen["reason"], seen["withheld_because"]) == (None, None, "partnership_ended")
    assert (await read(platform, tenant.staff_a, referral["id"]))["participant"]["name"] == PERSON
    async with participant(platform) as browser:
        blocks = visible_text((await browser.get(f"/p/{code}")).text)
    (line,) = [b for b in blocks if b.startswith("UWV")]
    assert line.endswith(f"Ziet uw gegevens niet meer sinds {today()}."), line

    assert (await post(platform, tenant.staff_a, f"{partnership}/resume")).status_code == 200
    resumed = await eventually(accepted, what="the resumption to reach the referrals service")
    assert resumed["participant"]["name"] == PERSON
    assert (await read(platform, tenant.partner_a_token, referral["id"]))["participant"]["name"] == PERSON
    async with participant(platform) as browser:
        blocks = visible_text((await browser.get(f"/p/{code}")).text)
    assert any(b.startswith("UWV") and b.endswith("Mag uw gegevens zien tot 10 januari 2099.") for b in blocks)
