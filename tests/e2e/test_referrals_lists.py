"""Lists staff and partners work from: incoming and outgoing by status, overdue first, a partner's own,
search by pseudonym and date, cursor pages; and the statistics."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest

from services.referrals.commands import deadlines, lifecycle
from shared.clock import LOCAL_TIME
from shared.contracts.referrals.api.referrals import AcceptReferral, ReferralStep
from shared.tenancy import Role
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant
from tests.referral_bodies import referral_body
from tests.services.referrals.conftest import KnownTenant, now, pooled_tenant, submit, submit_command, work_at


@pytest.fixture
async def tenant(platform: RunningPlatform) -> Tenant:
    """A fresh tenant, one of a batch registered side by side (quicker than one at a time)."""
    return await pooled_tenant(platform)


async def listed(platform: RunningPlatform, token: str, **params: Any) -> list[dict[str, Any]]:
    async with platform.client(token) as api:
        response = await api.get("/api/v1/referrals", params=params)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["id"] for item in items]


async def test_lists_by_direction_status_and_overdue_first_and_a_partners_own(
    platform: RunningPlatform, tenant: Tenant, elsewhere: Tenant
) -> None:
    known = KnownTenant(
        tenant.municipality, tenant.library_a, tenant.library_b, UUID(tenant.partner_a), UUID(tenant.partner_b)
    )
    to_a = submit_command(tenant.library_a, referring_partner_id=known.partner_a)
    late = await submit(platform, known.partner_a_actor, to_a, now() - timedelta(days=11))
    first = await submit(platform, known.partner_a_actor, to_a, now() - timedelta(minutes=2))
    second = await submit(platform, known.partner_a_actor, to_a, now() - timedelta(minutes=1))
    from_b = await submit(
        platform, known.partner_b_actor, submit_command(tenant.library_a, referring_partner_id=known.partner_b), now()
    )
    to_b = await submit(
        platform, known.partner_a_actor, submit_command(tenant.library_b, referring_partner_id=known.partner_a), now()
    )
    outgoing = await submit(
        platform, known.staff_a, submit_command(tenant.library_a, receiving_partner_id=known.partner_b), now()
    )
    work, _ = work_at(platform, now())
    await deadlines.mark_overdue(work, library=tenant.library_a)
    await lifecycle.accept_referral(work, known.staff_a, ReferralStep(referral_id=first.id, command=AcceptReferral()))
    as_ids = lambda *views: [str(view.id) for view in views]  # noqa: E731

    # The library's incoming work: the overdue one first, then newest first.
    incoming = await listed(platform, tenant.staff_a, direction="incoming")
    assert ids(incoming) == as_ids(late, from_b, second, first)
    assert [item["overdue"] for item in incoming] == [True, False, False, False]
    one_by_one, cursor = [], None
    async with platform.client(tenant.staff_a) as api:
        while True:
            params: dict[str, Any] = {"direction": "incoming", "limit": 1, **({"cursor": cursor} if cursor else {})}
            page = (await api.get("/api/v1/referrals", params=params)).json()
            one_by_one += ids(page["items"])
            if not (cursor := page.get("next_cursor")):
                break
    assert one_by_one == ids(incoming)  # the cursor carries the overdue flag across pages
    assert ids(await listed(platform, tenant.staff_a, direction="outgoing")) == as_ids(outgoing)
    assert ids(await listed(platform, tenant.staff_a, status="accepted")) == as_ids(first)
    assert ids(await listed(platform, tenant.staff_a, overdue="true")) == as_ids(late)
    assert ids(await listed(platform, tenant.staff_b)) == as_ids(to_b)

    # A partner's own: what it sent, and what it was sent.
    assert ids(await listed(platform, tenant.partner_a_token)) == as_ids(late, to_b, second, first)
    assert ids(await listed(platform, tenant.partner_b_token, direction="incoming")) == as_ids(outgoing)
    assert ids(await listed(platform, tenant.partner_b_token, direction="outgoing")) == as_ids(from_b)
    coordinator = platform.token(Role.COORDINATOR, municipality=tenant.municipality)
    assert len(await listed(platform, coordinator)) == 6
    assert await listed(platform, platform.token(Role.COORDINATOR, municipality=elsewhere.municipality)) == []
    assert all(item.get("participant") is None for item in incoming)  # a list is not a read of the person


async def test_search_by_pseudonym_and_date_and_page_through_with_a_cursor(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    known = KnownTenant(
        tenant.municipality, tenant.library_a, tenant.library_b, UUID(tenant.partner_a), UUID(tenant.partner_b)
    )
    command = submit_command(tenant.library_a, referring_partner_id=known.partner_a)
    last_week = await submit(platform, known.partner_a_actor, command, now() - timedelta(days=7))
    recent = [await submit(platform, known.partner_a_actor, command, now() - timedelta(seconds=s)) for s in range(4)]

    found = await listed(platform, tenant.staff_a, pseudonym=recent[2].participant_pseudonym.lower())
    assert ids(found) == [str(recent[2].id)]
    assert await listed(platform, tenant.staff_b, pseudonym=recent[2].participant_pseudonym) == []
    day = last_week.submitted_at.astimezone(LOCAL_TIME).date().isoformat()
    assert ids(await listed(platform, tenant.staff_a, submitted_from=day, submitted_until=day)) == [str(last_week.id)]
    today = now().astimezone(LOCAL_TIME).date().isoformat()
    assert str(last_week.id) not in ids(await listed(platform, tenant.staff_a, submitted_from=today))

    pages: list[list[str]] = []
    cursor = None
    async with platform.client(tenant.staff_a) as api:
        while True:
            params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            page = (await api.get("/api/v1/referrals", params=params)).json()
            pages.append(ids(page["items"]))
            cursor = page.get("next_cursor")
            if not cursor:
                break
        bad = await api.get("/api/v1/referrals", params={"cursor": "not-a-cursor"})
    assert [len(page) for page in pages] == [2, 2, 1]
    assert [i for page in pages for i in page] == ids(await listed(platform, tenant.staff_a, limit=200))
    assert bad.status_code == 422


async def test_statistics_count_what_happened_without_personal_data(platform: RunningPlatform, tenant: Tenant) -> None:
    async with platform.client(tenant.partner_a_token) as api:
        for _ in range(2):
            await api.post("/api/v1/referrals", json=referral_body(tenant.library_a, tenant.partner_a))
    async with platform.client(tenant.staff_a) as api:
        response = await api.get("/api/v1/referrals/statistics")
    assert response.status_code == 200, response.text
    stats = response.json()
    assert (stats["total"], stats["by_status"], stats["by_direction"]) == (
        2,
        {"submitted": 2},
        {"to_library": 2, "to_partner": 0},
    )
    assert stats["by_need_area"] == {"language": 2, "job_seeking": 2}
