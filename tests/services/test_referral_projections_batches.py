"""Courses' and volunteers' projections of the referral events, as their consumers hand them a batch (statement
handlers, shared/consumer.py): a batch that names each referral once is one statement with its inbox rows, one
that names a referral twice is applied in rounds in a transaction; either way each referral ends as one statement
per event would have left it, every event is recorded in the inbox, and a batch handled again changes nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
import sqlalchemy as sa
from opentelemetry import trace
from opentelemetry.trace import Span

from services.courses.commands import projections as courses_projections
from services.volunteers.commands import projections as volunteers_projections
from shared.contracts import Envelope
from shared.ids import new_id
from shared.unit_of_work import UnitOfWork
from tests.fixtures.platform import RunningPlatform

AT = datetime(2026, 3, 2, 9, tzinfo=UTC)
Handler = Callable[[UnitOfWork, str, Sequence[tuple[Envelope, Span]]], Awaitable[None]]


def told(referral_id: UUID, kind: str, minutes: int) -> tuple[Envelope, Span]:
    envelope = Envelope(
        id=new_id(),
        source="/partnernet/referrals",
        type=f"nl.partnernet.referral.{kind}.v1",
        time=AT + timedelta(minutes=minutes),
        subject="batchtown/batchtown-centrale",
        data={
            "referral_id": str(referral_id),
            "participant_pseudonym": f"P-{referral_id.hex[:8]}",
            "library": "batchtown-centrale",
            "municipality": "batchtown",
        },
        municipality="batchtown",
        library="batchtown-centrale",
    )
    return envelope, trace.INVALID_SPAN


@pytest.mark.parametrize(
    ("service", "handler"),
    [("courses", courses_projections.referrals_moved), ("volunteers", volunteers_projections.remember_referrals)],
)
async def test_batches_keep_each_referral_as_its_events_in_order_would_with_their_inbox_rows(
    platform: RunningPlatform, service: str, handler: Handler
) -> None:
    runtime = platform.services[service]
    consumer = f"{service}-batch-test-{new_id()}"
    once, twice, marked = new_id(), new_id(), new_id()
    distinct = [told(once, "submitted", 0), told(twice, "submitted", 0), told(marked, "accepted", 3)]
    # `twice` twice (moved on, then an older step redelivered late), `marked` with an event that moves no state.
    repeated = [told(twice, "accepted", 5), told(marked, "overdue", 4), told(twice, "submitted", 0)]
    if service == "volunteers":  # every referral event names the referral there: `marked` is in this batch twice
        repeated.append(told(twice, "enrolled", 9))
    else:
        repeated += [told(twice, "enrolled", 9), told(marked, "expired", 2)]  # an older step: changes nothing

    for batch in (distinct, repeated, distinct, repeated):  # the second time: a redelivery
        await handler(runtime.unit_of_work, consumer, batch)

    async with runtime.sessions() as session:
        statuses: dict[UUID, str] = dict(
            (
                await session.execute(
                    sa.text("SELECT id, status FROM known_referrals WHERE id = ANY(:ids)"),
                    {"ids": [once, twice, marked]},
                )
            ).all()
        )
        inbox = set(
            (await session.execute(sa.text("SELECT event_id FROM inbox WHERE consumer = :c"), {"c": consumer}))
            .scalars()
            .all()
        )
    assert statuses == {once: "submitted", twice: "enrolled", marked: "accepted"}
    assert inbox == {envelope.id for envelope, _ in distinct + repeated}


@pytest.mark.parametrize(
    ("service", "handler"),
    [("courses", courses_projections.referrals_moved), ("volunteers", volunteers_projections.remember_referrals)],
)
async def test_an_event_handled_before_is_not_applied_again(
    platform: RunningPlatform, service: str, handler: Handler
) -> None:
    """Only the inbox keeps a redelivered event out: the referral's row, changed since by hand, stays as it is."""
    runtime = platform.services[service]
    consumer = f"{service}-batch-test-{new_id()}"
    referral = new_id()
    batch = [told(referral, "accepted", 0)]
    await handler(runtime.unit_of_work, consumer, batch)
    async with runtime.sessions.begin() as session:
        await session.execute(
            sa.text("UPDATE known_referrals SET status = 'declined' WHERE id = :id"), {"id": referral}
        )
    await handler(runtime.unit_of_work, consumer, batch)
    async with runtime.sessions() as session:
        status = (
            await session.execute(sa.text("SELECT status FROM known_referrals WHERE id = :id"), {"id": referral})
        ).scalar_one()
    assert status == "declined"
