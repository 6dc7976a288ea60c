"""How the courses service turns a library's training needs into purchase request drafts, fed with the volunteers
service's events as real envelopes on JetStream: one draft per library that follows its needs (newest revision
wins), is cancelled when they are all met, and a purchase in progress keeps its needs while a new need starts a
new draft."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

from shared.clock import local_today
from shared.contracts.volunteers.events import TrainingNeeded, TrainingNeedMet
from shared.ids import new_id
from shared.tenancy import Role
from tests.fixtures.platform import RunningPlatform
from tests.services.courses.support import course_tenant
from tests.services.volunteers.volunteer_tenant import call, publish_event
from tests.waiting import eventually

SOON = local_today() + timedelta(days=40)


def need(
    tenant: Any, need_id: UUID, qualification: str, volunteers: int, revision: int, by: date = SOON
) -> TrainingNeeded:
    return TrainingNeeded(
        need_id=need_id,
        library=tenant.library_a,
        municipality=tenant.municipality,
        qualification=qualification,
        volunteers=volunteers,
        needed_by=by,
        expiring=volunteers,
        revision=revision,
    )


async def send(platform: RunningPlatform, tenant: Any, event: TrainingNeeded | TrainingNeedMet) -> None:
    await publish_event(platform.settings.nats_url, event, municipality=tenant.municipality, library=tenant.library_a)


async def drafts(platform: RunningPlatform, token: str, library: str) -> list[dict[str, Any]]:
    page = await call(platform, token, "GET", "/api/v1/purchases", library=library)
    return [p for p in page["items"] if p["generated_from_training_needs"]]


async def test_a_librarys_needs_share_one_draft_that_follows_them_until_they_are_met(platform: RunningPlatform) -> None:
    tenant = await course_tenant(platform)
    staff = tenant.staff_a
    first_aid, reading = new_id(), new_id()
    await send(platform, tenant, need(tenant, first_aid, "eerste-hulp", 2, 1))
    await send(platform, tenant, need(tenant, reading, "voorlezen", 1, 1, SOON + timedelta(days=10)))

    async def both_in_one_draft() -> dict[str, Any] | None:
        found = await drafts(platform, staff, tenant.library_a)
        # The needs and the draft's own row are read one after the other: wait for both to show the second need.
        both = len(found) == 1 and len(found[0]["training_needs"]) == 2 and "voorlezen" in found[0]["title"]
        return found[0] if both else None

    draft = await eventually(both_in_one_draft, what="one draft with both needs")
    assert draft["title"] == "Training voor vrijwilligers: eerste-hulp, voorlezen"
    assert draft["estimated_cost_cents"] == 3 * 15_000 and draft["status"] == "requested"
    assert "eerste-hulp: 2 vrijwilligers" in draft["purpose"] and "voorlezen: 1 vrijwilliger," in draft["purpose"]
    coordinator = platform.token(Role.COORDINATOR, municipality=tenant.municipality)
    assert len(await drafts(platform, coordinator, tenant.library_a)) == 1  # the coordinator sees it too
    assert await drafts(platform, tenant.staff_b, tenant.library_a) == []  # another library does not

    # A newer revision changes the draft; an older one, arriving late, changes nothing.
    await send(platform, tenant, need(tenant, first_aid, "eerste-hulp", 4, 3))
    await send(platform, tenant, need(tenant, first_aid, "eerste-hulp", 3, 2))

    async def grown() -> dict[str, Any] | None:
        (found,) = await drafts(platform, staff, tenant.library_a)
        return found if found["estimated_cost_cents"] == 5 * 15_000 else None

    draft = await eventually(grown, what="the draft following the newest revision")
    await send(platform, tenant, need(tenant, reading, "voorlezen", 1, 1))  # a redelivery: nothing new
    await send(
        platform,
        tenant,
        TrainingNeedMet(
            need_id=reading,
            library=tenant.library_a,
            municipality=tenant.municipality,
            qualification="voorlezen",
            revision=2,
        ),
    )

    async def shrunk() -> dict[str, Any] | None:
        (found,) = await drafts(platform, staff, tenant.library_a)
        met = [n["met"] for n in found["training_needs"]] == [False, True]
        return found if met and found["estimated_cost_cents"] == 4 * 15_000 else None

    draft = await eventually(shrunk, what="the met need out of the draft")
    assert (draft["title"], draft["estimated_cost_cents"]) == ("Training voor vrijwilligers: eerste-hulp", 4 * 15_000)
    assert [s["note"] for s in draft["history"]].count("updated from the library's training needs") >= 2

    await send(
        platform,
        tenant,
        TrainingNeedMet(
            need_id=first_aid,
            library=tenant.library_a,
            municipality=tenant.municipality,
            qualification="eerste-hulp",
            revision=4,
        ),
    )

    async def cancelled() -> dict[str, Any] | None:
        (found,) = await drafts(platform, staff, tenant.library_a)
        return found if found["status"] == "cancelled" else None

    draft = await eventually(cancelled, what="a draft without needs cancelled")
    assert draft["history"][-1]["note"] == "the training needs it was drafted for are met"


async def test_a_purchase_in_progress_keeps_its_need_and_a_new_need_starts_a_new_draft(
    platform: RunningPlatform,
) -> None:
    tenant = await course_tenant(platform)
    staff = tenant.staff_a
    first_aid = new_id()
    await send(platform, tenant, need(tenant, first_aid, "eerste-hulp", 2, 1))
    (draft,) = await eventually(lambda: drafts(platform, staff, tenant.library_a), what="the first draft")
    quoted = await call(
        platform,
        staff,
        "POST",
        f"/api/v1/purchases/{draft['id']}/quotes",
        {"provider_name": "EHBO Zuid", "amount_cents": 25_000},
    )
    assert quoted["status"] == "quoted" and quoted["budget_check"]["requested_cents"] == 25_000  # the quote now

    await send(platform, tenant, need(tenant, first_aid, "eerste-hulp", 3, 2))  # grows while being bought
    await send(platform, tenant, need(tenant, new_id(), "taalmaatje", 1, 1))

    async def two_drafts() -> list[dict[str, Any]] | None:
        found = await drafts(platform, staff, tenant.library_a)
        return found if len(found) == 2 else None

    newer, bought = await eventually(two_drafts, what="a second draft for the new need")  # newest first
    assert [n["qualification"] for n in newer["training_needs"]] == ["taalmaatje"]
    assert (bought["id"], bought["status"], bought["version"]) == (draft["id"], "quoted", quoted["version"])
    assert bought["training_needs"][0]["volunteers"] == 3  # the need's numbers follow; the purchase stays as quoted
