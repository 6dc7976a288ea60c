"""The courses service's referrals, a consumer's batch in one statement (services/courses/store/enrolment.py
keep_known_referrals): the same referral twice in a batch ends as one statement per event would leave it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from services.courses.store import known_referrals
from services.courses.store.enrolment import keep_known_referrals
from shared.ids import new_id
from tests.fixtures.platform import RunningPlatform

AT = datetime(2026, 3, 2, 9, tzinfo=UTC)


def told(referral_id: Any, status: str, minutes: int) -> dict[str, Any]:
    return {
        "id": referral_id,
        "municipality": "batchtown",
        "library": "batchtown-centrale",
        "participant_pseudonym": f"P-{referral_id.hex[:8]}",
        "referring_partner_id": None,
        "receiving_partner_id": None,
        "status": status,
        "status_at": AT + timedelta(minutes=minutes),
    }


async def test_a_batch_with_a_referral_twice_keeps_its_newest_status_whatever_the_order(
    platform: RunningPlatform,
) -> None:
    in_order, out_of_order, alone = new_id(), new_id(), new_id()
    batch = [
        told(in_order, "submitted", 0),
        told(out_of_order, "accepted", 5),
        told(alone, "submitted", 0),
        told(in_order, "accepted", 5),
        told(out_of_order, "submitted", 0),  # a submission redelivered after its acceptance
        told(in_order, "enrolled", 9),
    ]

    async with platform.services["courses"].sessions.begin() as session:
        await keep_known_referrals(session, batch)

    async with platform.services["courses"].sessions() as session:
        rows = (
            await session.execute(
                sa.select(known_referrals.c.id, known_referrals.c.status).where(
                    known_referrals.c.id.in_([in_order, out_of_order, alone])
                )
            )
        ).all()
    assert dict(rows) == {in_order: "enrolled", out_of_order: "accepted", alone: "submitted"}
