"""Training needs: who needs which qualification by when (pure), and on the real database one open need per
library and qualification, published again only when its numbers change, refusals counted in, met once nobody
needs it."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import Any
from uuid import UUID, uuid4

import msgspec
import pytest
import sqlalchemy as sa

from services.volunteers.commands.training_needs import plan_training_needs
from services.volunteers.domain.training import add_months
from services.volunteers.domain.training_needs import (
    EXPIRY_HORIZON_DAYS,
    REFUSAL_LEAD_DAYS,
    Holder,
    NeedFigures,
    Refusal,
    assess,
    differs,
    months_between,
    validity_months,
)
from services.volunteers.store import training_needs as needs
from shared.clock import FixedClock, local_date
from shared.contracts import Envelope
from shared.outbox import outbox
from shared.unit_of_work import UnitOfWork
from tests.fixtures.platform import RunningPlatform
from tests.services.volunteers.volunteer_tenant import (
    VolunteerTenant,
    active_volunteer,
    call,
    course_needing_volunteers,
    opening_for,
    qualify,
    volunteer_tenant,
)

TODAY = date(2027, 3, 1)
A, B, C = uuid4(), uuid4(), uuid4()

# --- the rule, without servers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("holders", "refusals", "expected"),
    [
        ([], [], None),
        ([Holder(A, None)], [], None),  # does not expire
        ([Holder(A, TODAY + timedelta(days=EXPIRY_HORIZON_DAYS + 1))], [], None),  # not yet
        (
            [Holder(A, TODAY + timedelta(days=EXPIRY_HORIZON_DAYS)), Holder(B, TODAY + timedelta(days=10))],
            [],
            NeedFigures(volunteers=2, expiring=2, refused=0, needed_by=TODAY + timedelta(days=10)),
        ),
        (  # ran out already: still needed, by the day it ran out
            [Holder(A, TODAY - timedelta(days=5))],
            [],
            NeedFigures(volunteers=1, expiring=1, refused=0, needed_by=TODAY - timedelta(days=5)),
        ),
        (
            [],
            [Refusal(A, TODAY)],
            NeedFigures(volunteers=1, expiring=0, refused=1, needed_by=TODAY + timedelta(days=REFUSAL_LEAD_DAYS)),
        ),
        ([], [Refusal(A, TODAY, holds=True, valid_until=None)], None),  # qualified since
        ([], [Refusal(A, TODAY, holds=True, valid_until=TODAY + timedelta(days=400))], None),
        (  # refused, and what they hold runs out soon: one volunteer, counted under both reasons
            [Holder(A, TODAY + timedelta(days=5))],
            [Refusal(A, TODAY, holds=True, valid_until=TODAY + timedelta(days=5)), Refusal(C, TODAY)],
            NeedFigures(volunteers=2, expiring=1, refused=2, needed_by=TODAY + timedelta(days=5)),
        ),
    ],
)
def test_who_needs_the_training_and_by_when(
    holders: list[Holder], refusals: list[Refusal], expected: NeedFigures | None
) -> None:
    assert assess(holders, refusals, TODAY) == expected


def test_only_other_numbers_are_news() -> None:
    figures = NeedFigures(volunteers=2, expiring=2, refused=0, needed_by=TODAY)
    assert not differs(figures, 2, 2, 0, TODAY)
    assert differs(figures, 3, 2, 1, TODAY) and differs(figures, 2, 2, 0, TODAY + timedelta(days=1))


def test_the_validity_of_a_renewal_comes_from_the_librarys_modules_else_its_grants() -> None:
    assert months_between(date(2020, 1, 10), date(2021, 1, 9)) == 12
    assert validity_months([None, 24, 12], [(date(2020, 1, 1), date(2020, 6, 30))]) == 24
    grants = [
        (date(2020, 1, 1), date(2020, 12, 31)),
        (date(2021, 1, 1), date(2021, 12, 31)),
        (date(2020, 1, 1), date(2022, 12, 31)),
    ]
    assert validity_months([None], grants) == 12
    assert validity_months([], []) is None


# --- on the database --------------------------------------------------------------------------------------

CODE = "eerste-hulp"


@pytest.fixture(scope="module")
async def vt(platform: RunningPlatform) -> VolunteerTenant:
    return await volunteer_tenant(platform)


def work_at(platform: RunningPlatform, at: datetime) -> UnitOfWork:
    return UnitOfWork(platform.services["volunteers"].sessions, FixedClock(at))


def obtained_for(valid_until: date, months: int = 12) -> datetime:
    """When to have taken a course of `months` so that it holds until `valid_until`."""
    return datetime.combine(add_months(valid_until + timedelta(days=1), -months), datetime.min.time(), UTC).replace(
        hour=9
    )


async def published(platform: RunningPlatform, event_type: str, library: str) -> list[dict[str, Any]]:
    async with platform.services["volunteers"].sessions() as session:
        payloads = (
            await session.execute(sa.select(outbox.c.payload).where(outbox.c.event_type == event_type))
        ).scalars()
        envelopes = [msgspec.json.decode(p, type=Envelope) for p in payloads]
    return sorted(
        (e.data for e in envelopes if e.data.get("library") == library), key=lambda data: data.get("revision", 0)
    )


async def test_expiring_qualifications_and_refusals_make_one_need_that_is_published_only_on_change(
    platform: RunningPlatform, vt: VolunteerTenant
) -> None:
    now = datetime.now(UTC)
    today = local_date(now)
    first, second, refused = [await active_volunteer(platform, vt) for _ in range(3)]
    for volunteer, days in ((first, 20), (second, 40)):
        start = obtained_for(today + timedelta(days=days))
        await qualify(platform, vt, volunteer["id"], CODE, session_start=start, validity_months=12)

    # The clock's review, on two replicas at the same moment: one event between them (none if the platform's
    # own periodic review came first), and a second review is quiet.
    runs = await asyncio.gather(*(plan_training_needs(work_at(platform, now), now, library=vt.library_a) for _ in "ab"))
    assert sorted(runs) in ([0, 0], [0, 1])
    assert await plan_training_needs(work_at(platform, now), now, library=vt.library_a) == 0

    course = await course_needing_volunteers(platform, vt, 2)
    opening = await opening_for(platform, vt, course)
    path = f"/api/v1/open-assignments/{opening['id']}"
    await call(platform, vt.staff_a, "PATCH", path, {"qualifications_needed": [CODE]})
    body = {"volunteer_id": refused["id"], "kind": "course", "opening_id": opening["id"]}
    for _ in range(2):  # refused twice: still one volunteer in need
        assert (await call(platform, vt.staff_a, "POST", "/api/v1/assignments", body)).status_code == 409

    # One of them stops for a while: the next review counts one fewer.
    await call(platform, vt.staff_a, "POST", f"/api/v1/volunteers/{second['id']}/deactivate")
    assert await plan_training_needs(work_at(platform, now), now, library=vt.library_a) in (0, 1)

    updates = await published(platform, "nl.partnernet.training.needed.v1", vt.library_a)
    numbers = [(u["volunteers"], u["expiring"], u["refused"]) for u in updates]
    assert len({u["need_id"] for u in updates}) == 1  # one need all along
    assert [u["revision"] for u in updates] == list(range(1, len(updates) + 1))
    assert all(one != other for one, other in pairwise(numbers))  # published on change only
    # (One more step at the start only if the platform's periodic review ran between the two grants.)
    assert numbers[-3:] == [(2, 2, 0), (3, 2, 1), (2, 1, 1)]
    assert updates[-3]["needed_by"] == str(today + timedelta(days=20)) and updates[-3]["validity_months"] == 12
    assert first["id"] not in str(updates) and "Sanne" not in str(updates)  # counts, not people
    async with platform.services["volunteers"].sessions() as session:
        open_need = await needs.open_need(session, needs.NeedKey(vt.library_a, vt.municipality, CODE))
    assert open_need is not None and (open_need.volunteers, open_need.revision) == (2, len(updates))


async def test_a_need_is_met_once_nobody_needs_the_training_any_more(
    platform: RunningPlatform, vt: VolunteerTenant
) -> None:
    now = datetime.now(UTC)
    today = local_date(now)
    code = "voorleesvrijwilliger"
    volunteer = await active_volunteer(platform, vt)
    await qualify(
        platform,
        vt,
        volunteer["id"],
        code,
        session_start=obtained_for(today + timedelta(days=3), 24),
        validity_months=24,
    )
    await plan_training_needs(work_at(platform, now), now, library=vt.library_a)  # (or the periodic review did)
    (need,) = [
        n
        for n in await published(platform, "nl.partnernet.training.needed.v1", vt.library_a)
        if n["qualification"] == code
    ]

    # Renewed by the library's own training (recording it reviews the need at once).
    await qualify(platform, vt, volunteer["id"], code, session_start=now - timedelta(hours=1), validity_months=24)

    (met,) = [
        m
        for m in await published(platform, "nl.partnernet.training_need.met.v1", vt.library_a)
        if m["qualification"] == code
    ]
    assert (met["need_id"], met["revision"]) == (need["need_id"], 2)
    assert await plan_training_needs(work_at(platform, now), now, library=vt.library_a) == 0
    async with platform.services["volunteers"].sessions() as session:
        status = (
            await session.execute(
                sa.select(needs.training_needs.c.status).where(needs.training_needs.c.id == UUID(need["need_id"]))
            )
        ).scalar_one()
    assert status == needs.MET
