"""Overdue, expiry and retention on the real database, driven by a clock the test holds."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import sqlalchemy as sa

from services.referrals import store
from services.referrals.commands import deadlines, lifecycle, policy
from services.referrals.queries import referral_list, statistics
from shared.contracts.referrals.api.referrals import (
    AcceptReferral,
    DeclineReferral,
    ListReferrals,
    ReferralStatus,
    ReferralStep,
    SetReferralPolicy,
)
from shared.contracts.referrals.api.statistics import GetReferralStatistics
from shared.contracts.referrals.events import DeclineReason
from tests.fixtures.platform import RunningPlatform
from tests.services.referrals.conftest import (
    SECRETS,
    KnownTenant,
    event_types,
    history_steps,
    now,
    referral_row,
    submit,
    submit_command,
    work_at,
)
from tests.waiting import eventually

SECOND = timedelta(seconds=1)


async def test_an_unanswered_referral_becomes_overdue_once_and_can_still_be_accepted(
    platform: RunningPlatform, known: KnownTenant
) -> None:
    submitted_at = now()
    referral = await submit(
        platform,
        known.partner_a_actor,
        submit_command(known.library_a, referring_partner_id=known.partner_a),
        submitted_at,
    )
    assert referral.respond_by == submitted_at + timedelta(days=10)  # the default policy
    assert referral.respond_by is not None

    just_before, _ = work_at(platform, referral.respond_by - SECOND)
    assert await deadlines.mark_overdue(just_before, library=known.library_a) == 0
    assert (await referral_row(platform, referral.id)).overdue is False

    just_after, _ = work_at(platform, referral.respond_by + SECOND)
    # Two replicas' jobs at the same moment: one event, not two.
    marked = await asyncio.gather(
        deadlines.mark_overdue(just_after, library=known.library_a),
        deadlines.mark_overdue(just_after, library=known.library_a),
    )
    assert sum(marked) == 1
    assert await deadlines.mark_overdue(just_after, library=known.library_a) == 0
    row = await referral_row(platform, referral.id)
    assert (row.overdue, row.status, row.version) == (True, "submitted", 1)
    assert await history_steps(platform, referral.id) == ["submit", "mark_overdue"]

    # Overdue is a marker, not a state: accepting with the version read before the flag still works.
    accepted = await lifecycle.accept_referral(
        just_after, known.staff_a, ReferralStep(referral_id=referral.id, command=AcceptReferral(expected_version=1))
    )
    assert (accepted.status, accepted.overdue, accepted.version) == (ReferralStatus.ACCEPTED, False, 2)
    await eventually(
        lambda: _has(platform, known, referral.id, "referral.overdue.v1"), what="referral.overdue in the stream"
    )


async def test_overdue_referrals_come_first_in_the_librarys_list(platform: RunningPlatform, known: KnownTenant) -> None:
    start = now()
    old = await submit(
        platform, known.partner_a_actor, submit_command(known.library_a, referring_partner_id=known.partner_a), start
    )
    newer = await submit(
        platform,
        known.partner_a_actor,
        submit_command(known.library_a, referring_partner_id=known.partner_a),
        start + timedelta(days=3),
    )
    assert old.respond_by is not None
    work, _ = work_at(platform, old.respond_by + SECOND)
    assert await deadlines.mark_overdue(work, library=known.library_a) == 1

    page = await referral_list.list_referrals(work, known.staff_a, ListReferrals())
    assert [(item.id, item.overdue) for item in page.items] == [(old.id, True), (newer.id, False)]
    only_overdue = await referral_list.list_referrals(work, known.staff_a, ListReferrals(overdue=True))
    assert [item.id for item in only_overdue.items] == [old.id]


async def test_an_unanswered_referral_expires_and_an_accepted_one_does_not(
    platform: RunningPlatform, known: KnownTenant
) -> None:
    submitted_at = now()
    command = submit_command(known.library_a, referring_partner_id=known.partner_a)
    unanswered = await submit(platform, known.partner_a_actor, command, submitted_at)
    answered = await submit(platform, known.partner_a_actor, command, submitted_at)
    work, clock = work_at(platform, submitted_at + timedelta(days=1))
    await lifecycle.accept_referral(
        work, known.staff_a, ReferralStep(referral_id=answered.id, command=AcceptReferral())
    )
    assert unanswered.expires_at == submitted_at + timedelta(days=30)
    assert unanswered.expires_at is not None

    clock.advance(unanswered.expires_at - clock.now() - SECOND)
    assert await deadlines.expire_unanswered(work, library=known.library_a) == 0
    clock.advance(2 * SECOND)
    assert await deadlines.expire_unanswered(work, library=known.library_a) == 1

    expired = await referral_row(platform, unanswered.id)
    assert (expired.status, expired.version, expired.closed_at) == ("expired", 2, clock.now())
    assert (await referral_row(platform, answered.id)).status == "accepted"
    await eventually(
        lambda: _has(platform, known, unanswered.id, "referral.expired.v1"), what="referral.expired in the stream"
    )


async def test_the_librarys_own_policy_sets_the_deadlines(platform: RunningPlatform, known: KnownTenant) -> None:
    submitted_at = now()
    work, _ = work_at(platform, submitted_at)
    view = await policy.set_policy(
        work, known.staff_a, SetReferralPolicy(response_days=3, expiry_days=14, retention_days=30)
    )
    assert (view.is_default, view.version) == (False, 1)

    referral = await submit(
        platform,
        known.partner_a_actor,
        submit_command(known.library_a, referring_partner_id=known.partner_a),
        submitted_at,
    )
    other = await submit(
        platform,
        known.partner_a_actor,
        submit_command(known.library_b, referring_partner_id=known.partner_a),
        submitted_at,
    )
    assert referral.respond_by == submitted_at + timedelta(days=3)
    assert referral.expires_at == submitted_at + timedelta(days=14)
    assert other.respond_by == submitted_at + timedelta(days=10)  # library b keeps the default


async def test_personal_data_is_erased_after_retention_and_the_statistics_still_count(
    platform: RunningPlatform, known: KnownTenant
) -> None:
    submitted_at = now()
    work, clock = work_at(platform, submitted_at)
    await policy.set_policy(work, known.staff_a, SetReferralPolicy(response_days=5, expiry_days=20, retention_days=90))
    referral = await submit(
        platform,
        known.partner_a_actor,
        submit_command(known.library_a, referring_partner_id=known.partner_a),
        submitted_at,
    )
    open_one = await submit(
        platform,
        known.partner_a_actor,
        submit_command(known.library_a, referring_partner_id=known.partner_a),
        submitted_at,
    )
    clock.advance(timedelta(hours=2))
    declined = await lifecycle.decline_referral(
        work,
        known.staff_a,
        ReferralStep(referral_id=referral.id, command=DeclineReferral(reason=DeclineReason.NO_CAPACITY, note="Fatima")),
    )
    assert declined.closed_at == clock.now()
    before = await statistics.statistics(work, known.staff_a, GetReferralStatistics())

    clock.advance(timedelta(days=90) - SECOND)
    assert await deadlines.anonymise_after_retention(work, library=known.library_a) == 0
    clock.advance(2 * SECOND)
    assert await deadlines.anonymise_after_retention(work, library=known.library_a) == 1

    row = await referral_row(platform, referral.id)
    assert row.participant_sealed is None and row.reason is None and row.anonymised_at == clock.now()
    assert (await referral_row(platform, open_one.id)).participant_sealed is not None  # still open: kept
    async with platform.services["referrals"].sessions() as session:
        notes = (
            await session.execute(
                sa.select(store.referral_history.c.note).where(store.referral_history.c.referral_id == referral.id)
            )
        ).scalars()
        assert not any(note and any(secret in note for secret in SECRETS) for note in notes)
    after = await statistics.statistics(work, known.staff_a, GetReferralStatistics())
    assert after.total == before.total == 2
    assert after.by_status == before.by_status == {"declined": 1, "submitted": 1}
    assert after.by_need_area == before.by_need_area == {"language": 2, "digital": 2}
    assert (before.anonymised, after.anonymised) == (0, 1)
    await eventually(
        lambda: _has(platform, known, referral.id, "referral.anonymised.v1"), what="referral.anonymised in the stream"
    )


async def _has(platform: RunningPlatform, known: KnownTenant, referral_id: object, event_type: str) -> bool:
    from uuid import UUID

    assert isinstance(referral_id, UUID)
    return event_type in await event_types(platform.settings.nats_url, known.municipality, referral_id)
