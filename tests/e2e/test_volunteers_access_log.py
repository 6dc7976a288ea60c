"""Reads of volunteers' personal data over HTTP (issue 14): every answer that shows a person's name and contact
details is in the library's access log (who, in which role and organisation, why, when), readable by the
library's staff only, and part of that person's export."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from services.volunteers.commands.retention import prune_erased_trails
from shared.clock import FixedClock
from shared.unit_of_work import UnitOfWork
from tests.fixtures.platform import RunningPlatform
from tests.services.volunteers.volunteer_tenant import VolunteerTenant, call, volunteer_tenant


@pytest.fixture(scope="module")
async def vt(platform: RunningPlatform) -> VolunteerTenant:
    return await volunteer_tenant(platform)


def someone() -> dict[str, Any]:
    tag = uuid.uuid4().hex[:6]
    return {"name": f"Kees Bos{tag}", "email": f"kees.{tag}@example.org", "phone": "0612121212"}


async def reads(platform: RunningPlatform, token: str, volunteer_id: str) -> list[tuple[str, str, str | None]]:
    found = await call(platform, token, "GET", f"/api/v1/volunteers/{volunteer_id}/access-log")
    assert isinstance(found, dict), found.text
    return [(e["purpose"], e["actor_role"], e["actor_organisation"]) for e in found["items"]]


async def test_every_read_of_a_volunteers_personal_data_is_logged_and_in_their_export(
    platform: RunningPlatform, vt: VolunteerTenant
) -> None:
    person = someone()
    applied = await call(
        platform, vt.organisation_token, "POST", "/api/v1/applications", {"person": person, "library": vt.library_a}
    )
    volunteer_id = applied["id"]
    assert (await reads(platform, vt.staff_a, volunteer_id)) == [("change", "partner", vt.organisation)]

    seen = await call(platform, vt.staff_a, "GET", f"/api/v1/volunteers/{volunteer_id}")
    listed = await call(platform, vt.staff_a, "GET", "/api/v1/volunteers", limit=200)
    by_partner = await call(platform, vt.organisation_token, "GET", f"/api/v1/volunteers/{volunteer_id}")
    by_coordinator = await call(platform, vt.coordinator, "GET", f"/api/v1/volunteers/{volunteer_id}")
    assert seen["person"]["name"] == person["name"] and by_partner["person"]["name"] == person["name"]
    assert any(v["id"] == volunteer_id for v in listed["items"])
    assert by_coordinator["person"] is None  # no name shown: no read of the person

    # Newest first: the partner's view, the staff's list, the staff's view, the answer to the application.
    assert await reads(platform, vt.staff_a, volunteer_id) == [
        ("view", "partner", vt.organisation),
        ("list", "staff", vt.library_a),
        ("view", "staff", vt.library_a),
        ("change", "partner", vt.organisation),
    ]
    library_log = await call(platform, vt.staff_a, "GET", "/api/v1/volunteers/access-log", limit=200)
    assert {e["volunteer_id"] for e in library_log["items"]} >= {volunteer_id}
    assert person["name"] not in str(library_log) and person["email"] not in str(library_log)

    exported = await call(platform, vt.staff_a, "GET", f"/api/v1/volunteers/{volunteer_id}/export")
    assert [(e["purpose"], e["actor_role"]) for e in exported["access_log"]] == [
        ("change", "partner"),
        ("view", "staff"),
        ("list", "staff"),
        ("view", "partner"),
        ("export", "staff"),  # the export is itself a read, and in the log it hands over
    ]


async def test_only_the_librarys_staff_read_the_access_log(platform: RunningPlatform, vt: VolunteerTenant) -> None:
    applied = await call(platform, vt.staff_a, "POST", "/api/v1/applications", {"person": someone()})
    volunteer_id = applied["id"]
    for token, status in (
        (vt.staff_b, 404),  # another library's person: as if they did not exist
        (vt.organisation_token, 403),
        (vt.coordinator, 403),
        (vt.base.operator, 403),
    ):
        refused = await call(platform, token, "GET", f"/api/v1/volunteers/{volunteer_id}/access-log")
        assert refused.status_code == status, (token, refused.text)
    other_library = await call(platform, vt.staff_b, "GET", "/api/v1/volunteers/access-log")
    assert volunteer_id not in str(other_library)
    bad = await call(platform, vt.staff_a, "GET", "/api/v1/volunteers/access-log", cursor="not-a-cursor")
    assert bad.status_code in (400, 422)


async def test_an_anonymised_persons_access_log_goes_after_the_trail_window_and_others_stay(
    platform: RunningPlatform, vt: VolunteerTenant
) -> None:
    """PARTNERNET_TRAIL_RETENTION_DAYS after the erasure (README, *Privacy*). The sweep runs here on a clock a year
    ahead, so it also takes the logs of people other tests of this session erased; none looks at them again."""
    applied = [
        await call(
            platform, vt.organisation_token, "POST", "/api/v1/applications", {"person": p, "library": vt.library_a}
        )
        for p in (someone(), someone())
    ]
    erased, kept = (a["id"] for a in applied)
    for volunteer_id in (erased, kept):
        assert await call(platform, vt.staff_a, "GET", f"/api/v1/volunteers/{volunteer_id}")
    done = await call(platform, vt.staff_a, "POST", f"/api/v1/volunteers/{erased}/erase")
    assert isinstance(done, dict), done.text
    runtime = platform.services["volunteers"]
    window = timedelta(days=platform.settings.trail_retention_days)

    async def logged(volunteer_id: str) -> int:
        async with runtime.engine.connect() as conn:
            found = await conn.execute(
                sa.text("SELECT count(*) FROM volunteer_data_reads WHERE volunteer_id = :id"), {"id": volunteer_id}
            )
            return int(found.scalar_one())

    before = (await logged(erased), await logged(kept))
    assert before[0] >= 2 and before[1] >= 2
    eve = datetime.now(UTC) + window - timedelta(days=1)
    await prune_erased_trails(UnitOfWork(runtime.sessions, FixedClock(eve)), window)
    assert (await logged(erased), await logged(kept)) == before  # the window has not passed yet

    after = datetime.now(UTC) + window + timedelta(days=1)
    assert await prune_erased_trails(UnitOfWork(runtime.sessions, FixedClock(after)), window) >= 1

    assert (await logged(erased), await logged(kept)) == (0, before[1])  # the person still held keeps theirs
