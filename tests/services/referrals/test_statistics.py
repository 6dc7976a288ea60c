"""Figures for the municipality overview: per library and per referring partner, within the actor's scope."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.referrals.commands import deadlines, lifecycle
from services.referrals.queries.statistics import overview_statistics
from shared.contracts.referrals.api.referrals import AcceptReferral, ContactPerson, PlanIntake, ReferralStep
from shared.contracts.referrals.api.statistics import GetReferralsOverviewStatistics
from shared.errors import Forbidden
from shared.tenancy import Actor, Role
from tests.conftest import RunningPlatform
from tests.services.referrals.conftest import KnownTenant, now, submit, submit_command, work_at


async def test_overview_figures_per_library_and_referring_partner(
    platform: RunningPlatform, known: KnownTenant
) -> None:
    start = now() - timedelta(days=12)
    to_a = submit_command(known.library_a, referring_partner_id=known.partner_a)
    planned = await submit(platform, known.partner_a_actor, to_a, start)
    overdue = await submit(platform, known.partner_a_actor, to_a, start)
    await submit(
        platform, known.partner_b_actor, submit_command(known.library_b, referring_partner_id=known.partner_b), now()
    )
    work, clock = work_at(platform, start + timedelta(hours=6))
    await lifecycle.accept_referral(work, known.staff_a, ReferralStep(referral_id=planned.id, command=AcceptReferral()))
    clock.advance(timedelta(hours=18))  # planned 24 hours after submission
    intake = PlanIntake(
        intake_at=clock.now() + timedelta(days=3), place="Centrum", contact_person=ContactPerson(name="Anna")
    )
    await lifecycle.plan_intake(work, known.staff_a, ReferralStep(referral_id=planned.id, command=intake))
    late, _ = work_at(platform, now())
    assert await deadlines.mark_overdue(late, library=known.library_a) == 1

    coordinator = Actor(subject="co", role=Role.COORDINATOR, municipality=known.municipality)
    figures = await overview_statistics(late, coordinator, GetReferralsOverviewStatistics())

    by_library = {entry.library: entry.figures for entry in figures.libraries}
    assert set(by_library) == {known.library_a, known.library_b}
    a = by_library[known.library_a]
    assert (a.by_status, a.overdue, a.intakes, a.median_hours_to_intake) == (
        {"intake_planned": 1, "submitted": 1},
        1,
        1,
        24.0,
    )
    assert by_library[known.library_b].by_status == {"submitted": 1}
    by_partner = {entry.partner_id: entry.figures for entry in figures.partners}
    assert by_partner[known.partner_a].by_status == {"intake_planned": 1, "submitted": 1}
    assert by_partner[known.partner_b].intakes == 0 and by_partner[known.partner_b].median_hours_to_intake is None
    assert overdue.id  # the one that stayed unanswered

    staff_view = await overview_statistics(late, known.staff_b, GetReferralsOverviewStatistics())
    assert [entry.library for entry in staff_view.libraries] == [known.library_b]
    with pytest.raises(Forbidden):
        await overview_statistics(late, known.partner_a_actor, GetReferralsOverviewStatistics())
