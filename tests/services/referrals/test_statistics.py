"""Figures for the municipality overview: per library and per partner taking part, within the actor's scope."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.referrals.commands import deadlines, lifecycle
from services.referrals.queries.statistics import overview_statistics
from shared.contracts.referrals.api.referrals import (
    AcceptReferral,
    GivenContactPerson,
    PlanIntake,
    RecordIntakeHeld,
    ReferralStep,
)
from shared.contracts.referrals.api.statistics import GetReferralsOverviewStatistics
from shared.errors import Forbidden
from shared.tenancy import Actor, Role
from tests.fixtures.platform import RunningPlatform
from tests.services.referrals.conftest import KnownTenant, now, submit, submit_command, work_at


async def test_overview_figures_per_library_and_partner_in_either_direction(
    platform: RunningPlatform, known: KnownTenant
) -> None:
    start = now() - timedelta(days=12)
    to_a = submit_command(known.library_a, referring_partner_id=known.partner_a)
    held = await submit(platform, known.partner_a_actor, to_a, start)
    planned = await submit(platform, known.partner_a_actor, to_a, start)
    overdue = await submit(platform, known.partner_a_actor, to_a, start)
    await submit(
        platform, known.partner_b_actor, submit_command(known.library_b, referring_partner_id=known.partner_b), now()
    )
    # Library A refers someone to partner B: B takes part in it as much as in the referrals it sends.
    await submit(platform, known.staff_a, submit_command(known.library_a, receiving_partner_id=known.partner_b), now())
    work, clock = work_at(platform, start + timedelta(hours=6))
    for referral in (held, planned):
        await lifecycle.accept_referral(
            work, known.staff_a, ReferralStep(referral_id=referral.id, command=AcceptReferral())
        )
    clock.advance(timedelta(hours=18))
    # One intake two days after submission that took place; one planned weeks ahead that has not yet.
    for referral, at in ((held, start + timedelta(days=2)), (planned, clock.now() + timedelta(days=30))):
        intake = PlanIntake(intake_at=at, place="Centrum", contact_person=GivenContactPerson(name="Anna"))
        await lifecycle.plan_intake(work, known.staff_a, ReferralStep(referral_id=referral.id, command=intake))
    clock.advance(timedelta(days=3))
    await lifecycle.record_intake_held(
        work, known.staff_a, ReferralStep(referral_id=held.id, command=RecordIntakeHeld())
    )
    late, _ = work_at(platform, now())
    assert await deadlines.mark_overdue(late, library=known.library_a) == 1

    coordinator = Actor(subject="co", role=Role.COORDINATOR, municipality=known.municipality)
    figures = await overview_statistics(late, coordinator, GetReferralsOverviewStatistics())

    by_library = {entry.library: entry.figures for entry in figures.libraries}
    assert set(by_library) == {known.library_a, known.library_b}
    a = by_library[known.library_a]
    # Measured until the intake took place (48 hours), not until one was planned: the planned one counts nothing.
    assert (a.by_status, a.overdue, a.intakes, a.median_hours_to_intake) == (
        {"intake_held": 1, "intake_planned": 1, "submitted": 2},
        1,
        1,
        48.0,
    )
    assert by_library[known.library_b].by_status == {"submitted": 1}
    by_partner = {entry.partner_id: entry for entry in figures.partners}
    partner_a = by_partner[known.partner_a]
    assert partner_a.figures.by_status == {"intake_held": 1, "intake_planned": 1, "submitted": 1}
    assert (partner_a.referred_by_partner, partner_a.referred_to_partner) == (3, 0)
    partner_b = by_partner[known.partner_b]
    assert partner_b.figures.by_status == {"submitted": 2}  # the one it sent and the one it was sent
    assert (partner_b.referred_by_partner, partner_b.referred_to_partner) == (1, 1)
    assert partner_b.figures.intakes == 0 and partner_b.figures.median_hours_to_intake is None
    assert overdue.id  # the one that stayed unanswered

    staff_view = await overview_statistics(late, known.staff_b, GetReferralsOverviewStatistics())
    assert [entry.library for entry in staff_view.libraries] == [known.library_b]
    with pytest.raises(Forbidden):
        await overview_statistics(late, known.partner_a_actor, GetReferralsOverviewStatistics())
