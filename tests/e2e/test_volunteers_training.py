"""Volunteers' training over HTTP, with the courses service's events as real envelopes: a delivered purchase for
volunteers becomes a module, a volunteer organisation gives modules only where it partners with the library, and
a module is completed only at a session that has taken place.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.contracts.courses.events import PurchaseDelivered
from shared.ids import new_id
from tests.fixtures.platform import RunningPlatform
from tests.services.volunteers.volunteer_tenant import (
    VolunteerTenant,
    active_volunteer,
    call,
    publish_event,
    volunteer_tenant,
)
from tests.waiting import eventually

YESTERDAY = datetime.now(UTC) - timedelta(days=1)


@pytest.fixture(scope="module")
async def vt(platform: RunningPlatform) -> VolunteerTenant:
    """One tenant for the module: each test makes its own modules and volunteers in it."""
    return await volunteer_tenant(platform)


async def test_a_delivered_purchase_for_volunteers_makes_a_module_available(
    platform: RunningPlatform, vt: VolunteerTenant
) -> None:
    provider = uuid.UUID(vt.organisation)
    bought = PurchaseDelivered(
        purchase_id=new_id(),
        library=vt.library_a,
        municipality=vt.municipality,
        title="Laaggeletterdheid herkennen",
        provider_partner_id=provider,
        for_volunteers=True,
    )
    for_staff = PurchaseDelivered(
        purchase_id=new_id(),
        library=vt.library_a,
        municipality=vt.municipality,
        title="Teamtraining klantcontact",
        provider_partner_id=provider,
        for_volunteers=False,
    )
    for event in (bought, for_staff, bought):  # the same purchase delivered twice is still one module
        await publish_event(platform.settings.nats_url, event, municipality=vt.municipality, library=vt.library_a)

    async def modules() -> list[dict[str, Any]] | None:
        page = await call(platform, vt.staff_a, "GET", "/api/v1/trainings/modules", delivered_by="purchase")
        return page["items"] or None

    (module,) = await eventually(modules, what="the bought module")
    assert module["title"] == "Laaggeletterdheid herkennen"
    assert module["purchase_id"] == str(bought.purchase_id)
    assert module["qualification"] == "laaggeletterdheid-herkennen"
    assert module["provider_partner_id"] == vt.organisation
    # The staff name the qualification the bought module gives, and how long it holds.
    renamed = await call(
        platform,
        vt.staff_a,
        "PATCH",
        f"/api/v1/trainings/modules/{module['id']}",
        {"qualification": "literacy-signals", "validity_months": 36, "expected_version": 1},
    )
    assert renamed["qualification"] == "literacy-signals" and renamed["version"] == 2
    async with platform.client(vt.organisation_token) as api:
        provided = (await api.get("/api/v1/trainings/modules")).json()["items"]
    assert [m["id"] for m in provided] == [module["id"]]  # the organisation sees the module it gives


async def test_a_module_given_by_a_volunteer_organisation_needs_one_that_partners_with_the_library(
    platform: RunningPlatform, vt: VolunteerTenant
) -> None:
    body = {"title": "Taalmaatje worden", "delivered_by": "volunteer_organisation", "validity_months": 24}
    given = await call(
        platform, vt.staff_a, "POST", "/api/v1/trainings/modules", {**body, "provider_partner_id": vt.organisation}
    )
    by_a_stranger = await call(
        platform, vt.staff_a, "POST", "/api/v1/trainings/modules", {**body, "provider_partner_id": vt.stranger}
    )
    by_nobody = await call(platform, vt.staff_a, "POST", "/api/v1/trainings/modules", body)

    assert given["provider_partner_id"] == vt.organisation and given["qualification"] == "taalmaatje-worden"
    assert by_a_stranger.status_code == 422
    assert by_nobody.status_code == 422
    session = await call(
        platform,
        vt.staff_a,
        "POST",
        f"/api/v1/trainings/modules/{given['id']}/sessions",
        {"starts_at": YESTERDAY.isoformat(), "place": "Vrijwilligerscentrale", "capacity": 1},
    )
    first, second = await active_volunteer(platform, vt), await active_volunteer(platform, vt)
    path = f"/api/v1/trainings/sessions/{session['id']}/attendance"
    await call(platform, vt.staff_a, "POST", path, {"volunteer_id": first["id"], "completed": True})
    full = await call(platform, vt.staff_a, "POST", path, {"volunteer_id": second["id"]})
    assert full.status_code == 409  # one place
    async with platform.client(vt.organisation_token) as api:
        seen = await api.get(f"/api/v1/trainings/sessions/{session['id']}")
    assert seen.status_code == 200 and [a["volunteer_id"] for a in seen.json()["attendance"]] == [first["id"]]
    held = await call(platform, vt.coordinator, "GET", "/api/v1/volunteers/qualifications", code="taalmaatje-worden")
    assert [(q["volunteer_id"], q["valid"]) for q in held["items"]] == [(first["id"], True)]


async def test_a_module_is_completed_only_at_a_session_that_has_taken_place(
    platform: RunningPlatform, vt: VolunteerTenant
) -> None:
    volunteer = await active_volunteer(platform, vt)
    module = await call(
        platform, vt.staff_a, "POST", "/api/v1/trainings/modules", {"title": "Privacy", "delivered_by": "library"}
    )
    assert module["qualification"] == "privacy"
    upcoming = await call(
        platform,
        vt.staff_a,
        "POST",
        f"/api/v1/trainings/modules/{module['id']}/sessions",
        {"starts_at": (datetime.now(UTC) + timedelta(days=7)).isoformat(), "place": "Zaal 1"},
    )
    path = f"/api/v1/trainings/sessions/{upcoming['id']}/attendance"
    too_early = await call(platform, vt.staff_a, "POST", path, {"volunteer_id": volunteer["id"], "completed": True})
    absent = await call(
        platform, vt.staff_a, "POST", path, {"volunteer_id": volunteer["id"], "attended": False, "completed": True}
    )

    assert too_early.status_code == 409
    assert absent.status_code == 422
    still = await call(platform, vt.staff_a, "GET", f"/api/v1/volunteers/{volunteer['id']}")
    assert still["qualifications"] == []
