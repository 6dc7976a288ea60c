"""The statistics' and the overview's read models (migration 011): after a randomised history of referrals, the
counters the changes kept equal those rebuilt from the referrals, and every figure equals the one counted over
the referrals themselves."""

from __future__ import annotations

import asyncio
import contextlib
import random
from datetime import timedelta
from typing import Any

import msgspec
import pytest
import sqlalchemy as sa

from launcher.cli import rebuild_figures_command
from services.referrals.commands import deadlines, lifecycle, privacy
from services.referrals.queries.statistics import (
    overview_statistics,
    statistics,
    statistics_of_counts,
    statistics_of_referrals,
)
from services.referrals.store.figures import referral_counts, referral_intakes, referral_need_counts
from shared.contracts.referrals.api.participant_data import EraseParticipantData
from shared.contracts.referrals.api.referrals import (
    AcceptReferral,
    CompleteReferral,
    ContactPerson,
    DeclineReferral,
    PlanIntake,
    RecordIntakeHeld,
    RecordNoShow,
    ReferralStep,
    WithdrawReferral,
)
from shared.contracts.referrals.api.statistics import GetReferralsOverviewStatistics, GetReferralStatistics
from shared.contracts.referrals.events import DeclineReason, Need, Outcome, WithdrawReason
from shared.contracts.vocabulary import SkillArea
from shared.errors import PartnernetError
from shared.tenancy import Actor, Role
from tests.conftest import RunningPlatform
from tests.services.referrals.conftest import KnownTenant, now, submit, submit_command, work_at

REFERRALS = 24
STEPS = 150


def outcome(rng: random.Random) -> Outcome:
    return Outcome(
        course_finished=rng.random() < 0.5, moved_to_work=rng.random() < 0.3, further_education=rng.random() < 0.3
    )


async def cells(platform: RunningPlatform, municipality: str) -> dict[str, Any]:
    """The read models of one municipality, shards added up and empty combinations left out."""
    figures: dict[str, Any] = {}
    async with platform.services["referrals"].sessions() as session:
        for table in (referral_counts, referral_need_counts):
            key = [c for c in table.c if c.name not in ("shard", "count")]
            rows = await session.execute(
                sa.select(*key, sa.func.sum(table.c.count))
                .where(table.c.municipality == municipality)
                .group_by(*key)
                .having(sa.func.sum(table.c.count) != 0)
            )
            figures[table.name] = sorted(tuple(str(v) for v in row) for row in rows)
        rows = await session.execute(sa.select(referral_intakes).where(referral_intakes.c.municipality == municipality))
        figures["referral_intakes"] = sorted(tuple(str(v) for v in row) for row in rows)
    return figures


@pytest.mark.parametrize("seed", [7, 2025])
async def test_rebuilt_figures_equal_the_incremental_ones_after_a_random_history(
    platform: RunningPlatform, known: KnownTenant, seed: int
) -> None:
    rng = random.Random(seed)
    # The whole history lies ahead of the wall clock: the running platform's deadline job (every 60 s, on the
    # system clock) then finds nothing due in it and cannot change referrals between the figures compared.
    # The test's own sweeps run on the history's clock instead.
    start = now() + timedelta(days=2)
    referrals = []
    for _ in range(REFERRALS):
        to_partner = rng.random() < 0.25
        library = rng.choice([known.library_a, known.library_b])
        needs = [Need(area=rng.choice(list(SkillArea))) for _ in range(rng.randint(0, 3))]
        staff = known.staff_a if library == known.library_a else known.staff_b
        partner = rng.choice([known.partner_a, known.partner_b])
        partner_actor = known.partner_a_actor if partner == known.partner_a else known.partner_b_actor
        if to_partner:
            actor = staff
            command = submit_command(library, receiving_partner_id=partner)
        else:
            actor = partner_actor
            command = submit_command(library, referring_partner_id=partner)
        command = msgspec.structs.replace(command, needs=needs)
        at = start + timedelta(hours=rng.randint(0, 24 * 10))
        referrals.append((await submit(platform, actor, command, at), library, staff, partner_actor))

    work, clock = work_at(platform, start + timedelta(days=12))
    taken = 0
    for _ in range(STEPS):
        referral, library, staff, partner_actor = rng.choice(referrals)
        actor = staff if rng.random() < 0.7 else partner_actor  # the parties; a step not theirs is refused
        clock.advance(timedelta(hours=rng.randint(1, 30)))
        commands: list[Any] = [
            (lifecycle.accept_referral, AcceptReferral()),
            (lifecycle.decline_referral, DeclineReferral(reason=rng.choice(list(DeclineReason)))),
            (
                lifecycle.plan_intake,
                PlanIntake(
                    intake_at=clock.now() + timedelta(days=1), place="Centrum", contact_person=ContactPerson(name="A")
                ),
            ),
            (lifecycle.record_intake_held, RecordIntakeHeld()),
            (lifecycle.complete_referral, CompleteReferral(outcome=outcome(rng))),
            (lifecycle.withdraw_referral, WithdrawReferral(reason=WithdrawReason.NO_LONGER_NEEDED)),
            (lifecycle.record_no_show, RecordNoShow()),
        ]
        use_case, command = rng.choice(commands)
        try:
            await use_case(work, actor, ReferralStep(referral_id=referral.id, command=command))
            taken += 1
        except PartnernetError:
            pass  # not this actor's step, or not from this status: refused, and nothing changed
        if rng.random() < 0.05:
            await deadlines.mark_overdue(work_at(platform, clock.now())[0], library=library)
        if rng.random() < 0.04:
            with contextlib.suppress(PartnernetError):
                await privacy.erase_participant_data(work, staff, EraseParticipantData(referral_id=referral.id))
    assert taken >= 15, "the history took enough steps to say something"

    viewers = [
        known.staff_a,
        known.staff_b,
        known.partner_a_actor,
        known.partner_b_actor,
        Actor(subject="co", role=Role.COORDINATOR, municipality=known.municipality),
    ]
    operator = Actor(subject="op", role=Role.OPERATOR)
    queries = [GetReferralStatistics(), GetReferralStatistics(library=known.library_a)]
    incremental_cells = await cells(platform, known.municipality)
    statuses = {cell[4] for cell in incremental_cells["referral_counts"]}
    assert len(statuses) >= 4, f"the history went several ways: {statuses}"
    incremental = {}
    for viewer in viewers:
        for query in queries:
            counted = await statistics_of_counts(work, viewer, query)
            # The read model answers exactly what counting over the referrals answers.
            assert counted == await statistics_of_referrals(work, viewer, query), (viewer.subject, query)
            incremental[(viewer.subject, query.library)] = counted
    overview_query = GetReferralsOverviewStatistics(municipality=known.municipality)
    overviews = {
        viewer.subject: await overview_statistics(work, viewer, overview_query)
        for viewer in [*viewers[:2], viewers[-1], operator]
    }

    await asyncio.to_thread(rebuild_figures_command, platform.settings)  # `partnernet rebuild-figures`

    assert await cells(platform, known.municipality) == incremental_cells
    for viewer in viewers:
        for query in queries:
            assert await statistics(work, viewer, query) == incremental[(viewer.subject, query.library)]
    for subject, figures in overviews.items():
        viewer = next(v for v in [*viewers, operator] if v.subject == subject)
        assert await overview_statistics(work, viewer, overview_query) == figures


async def test_a_period_of_submission_is_counted_over_its_referrals(
    platform: RunningPlatform, known: KnownTenant
) -> None:
    """The counters keep no dates: statistics for a period count that period's referrals, as before."""
    old, recent = now() - timedelta(days=30), now()
    command = submit_command(known.library_a, referring_partner_id=known.partner_a)
    await submit(platform, known.partner_a_actor, command, old)
    await submit(platform, known.partner_a_actor, command, recent)
    work, _ = work_at(platform, now())

    everything = await statistics(work, known.staff_a, GetReferralStatistics())
    this_week = await statistics(
        work, known.staff_a, GetReferralStatistics(submitted_from=(recent - timedelta(days=7)).date())
    )

    assert everything.total == 2 and this_week.total == 1
