"""PATCH /api/v1/partners/{id} is a JSON merge patch (RFC 7396): a field left out stays, `null` clears an optional
one (addresses, contacts and skill areas become empty), the name and kind cannot be cleared, and a partner clears
its own contact details but not its KvK number. Before, `null` meant "leave it", so nothing could be cleared."""

from __future__ import annotations

from typing import Any

import pytest

from shared.tenancy import Role
from tests.e2e.test_partners_lifecycle import FULL_PARTNER
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant


@pytest.fixture
async def registered(platform: RunningPlatform, tenant: Tenant) -> dict[str, Any]:
    async with platform.client(tenant.staff_a) as api:
        body = {**FULL_PARTNER, "email": "info@taalhuis.example", "phone": "030-7654321"}
        response = await api.post("/api/v1/partners", json={**body, "municipality": tenant.municipality})
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_null_clears_an_optional_field_and_a_field_left_out_stays(
    platform: RunningPlatform, tenant: Tenant, registered: dict[str, Any]
) -> None:
    path = f"/api/v1/partners/{registered['id']}"
    async with platform.client(tenant.staff_a) as api:
        cleared = await api.patch(
            path,
            json={
                "chamber_of_commerce_number": None,
                "email": None,
                "website": None,
                "addresses": None,
                "skill_areas": [],
            },
        )
        assert cleared.status_code == 200, cleared.text
        after = (await api.get(path)).json()
        history = (await api.get(f"{path}/history")).json()
    for field in ("chamber_of_commerce_number", "email", "website"):
        assert after[field] is None, field
    assert after["addresses"] == [] and after["skill_areas"] == []
    # left out: as they were
    assert (after["name"], after["kind"], after["phone"]) == ("Taalhuis Noord", "adult_education_school", "030-7654321")
    assert after["contacts"] == registered["contacts"] and after["version"] == registered["version"] + 1
    update = [entry for entry in history["items"] if entry.get("action") == "update"][-1]
    assert update["changes"]["website"] == {"from": "https://taalhuis.example", "to": None}


async def test_the_name_and_kind_cannot_be_cleared_and_nothing_changes(
    platform: RunningPlatform, tenant: Tenant, registered: dict[str, Any]
) -> None:
    path = f"/api/v1/partners/{registered['id']}"
    async with platform.client(tenant.staff_a) as api:
        for body in ({"name": None}, {"kind": None, "website": None}):
            refused = await api.patch(path, json=body)
            assert refused.status_code in (400, 422), refused.text
            assert refused.headers["content-type"].startswith("application/problem+json")
        after = (await api.get(path)).json()
    assert after["name"] == "Taalhuis Noord" and after["website"] == "https://taalhuis.example"
    assert after["version"] == registered["version"]


async def test_a_partner_clears_its_contact_details_but_not_its_kvk_number(
    platform: RunningPlatform, tenant: Tenant, registered: dict[str, Any]
) -> None:
    partner_token = platform.token(Role.PARTNER, municipality=tenant.municipality, partner=str(registered["id"]))
    path = f"/api/v1/partners/{registered['id']}"
    async with platform.client(partner_token) as api:
        kvk = await api.patch(path, json={"chamber_of_commerce_number": None})
        assert kvk.status_code == 403, kvk.text
        own = await api.patch(path, json={"website": None, "contacts": None})
        assert own.status_code == 200, own.text
    assert own.json()["website"] is None and own.json()["contacts"] == []
    assert own.json()["chamber_of_commerce_number"] == "41178553"


async def test_the_openapi_document_says_which_fields_null_clears(platform: RunningPlatform) -> None:
    async with platform.client() as api:
        document = (await api.get("/schema/openapi.json")).json()
    fields = document["components"]["schemas"]["PartnerChanges"]["properties"]

    def nullable(field: str) -> bool:
        return any(option.get("type") == "null" for option in fields[field].get("oneOf", [fields[field]]))

    assert not nullable("name") and not nullable("kind")
    assert all(nullable(field) for field in ("chamber_of_commerce_number", "email", "phone", "website", "addresses"))


async def test_a_partnerships_end_date_review_date_and_note_can_be_cleared(
    platform: RunningPlatform, tenant: Tenant, registered: dict[str, Any]
) -> None:
    terms = {
        "library": tenant.library_a,
        "partner_id": registered["id"],
        "roles": ["referrer"],
        "starts_on": "2026-01-01",
        "ends_on": "2099-12-31",
        "review_on": "2098-01-01",
        "note": "Jaarlijks evalueren",
        "library_contributions": ["location"],
    }
    async with platform.client(tenant.staff_a) as api:
        made = await api.post("/api/v1/partnerships", json=terms)
        assert made.status_code == 201, made.text
        path = f"/api/v1/partnerships/{made.json()['id']}"
        refused = await api.patch(path, json={"roles": None, "ends_on": None})
        assert refused.status_code in (400, 422), refused.text  # the roles cannot be cleared: nothing changes
        cleared = await api.patch(
            path, json={"ends_on": None, "review_on": None, "note": None, "library_contributions": None}
        )
        assert cleared.status_code == 200, cleared.text
        after = (await api.get(path)).json()
    assert (after["ends_on"], after["review_on"], after["note"]) == (None, None, None)
    assert (
        after["library_contributions"] == [] and after["roles"] == ["referrer"] and after["starts_on"] == "2026-01-01"
    )
    assert after["version"] == made.json()["version"] + 1
