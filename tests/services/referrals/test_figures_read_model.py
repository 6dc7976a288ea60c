"""The statistics' and the overview's read models (migrations 011 and 013): after a randomised history of referrals,
the counters the changes kept (in all and per month of submission) equal those rebuilt from the referrals, and
every figure, for every period of whole months too, equals the one counted over the referrals themselves."""

from __future__ import annotations

import asyncio
import contextlib
import random
import statistics as statistics_module
from datetime import date, timedelta
from typing import Any

import msgspec
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from launcher.cli import rebuild_figures_command
from services.referrals.commands import deadlines, lifecycle, privacy
from services.referrals.commands.figures import fold_figure_shards
from services.referrals.queries.statistics import (
    overview_statistics,
    statistics,
    statistics_of_counts,
    statistics_of_referrals,
)
from services.referrals.queries.statistics import (
    whole_months as months_of,
)
from services.referrals.store.figures import (
    BUCKET_RATIO,
    FOLD_SHARD,
    SHARDS_TO_FOLD,
    referral_intake_hours,
    referral_intakes,
    referral_month_counts,
    referral_month_need_counts,
)
from shared.clock import LOCAL_TIME
from shared.contracts.referrals.api.participant_data import EraseParticipantData
from shared.contracts.referrals.api.referrals import (
    AcceptReferral,
    CompleteReferral,
    DeclineReferral,
    GivenContactPerson,
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
from tests.fixtures.platform import RunningPlatform
from tests.services.referrals.conftest import KnownTenant, now, submit, submit_command, work_at
from tests.waiting import PATIENCE_SECONDS

REFERRALS = 24
STEPS = 150
DAYS = 100  # the submissions' spread


def outcome(rng: random.Random) -> Outcome:
    return Outcome(
        course_finished=rng.random() < 0.5, moved_to_work=rng.random() < 0.3, further_education=rng.random() < 0.3
    )


async def cells(platform: RunningPlatform, municipality: str) -> dict[str, Any]:
    """The read models of one municipality, shards added up and empty combinations left out."""
    figures: dict[str, Any] = {}
    async with platform.services["referrals"].sessions() as session:
        for table in (
            referral_month_counts,
            referral_month_need_counts,
            referral_intake_hours,
        ):
            key = [c for c in table.c if c.name not in ("shard", "count", "hours")]
            sums = [sa.func.sum(table.c.count), *([sa.func.sum(table.c.hours)] if "hours" in table.c else [])]
            rows = await session.execute(
                sa.select(*key, *sums)
                .where(table.c.municipality == municipality)
                .group_by(*key)
                .having(sa.func.sum(table.c.count) != 0)
            )
            figures[table.name] = sorted(tuple(str(v) for v in row) for row in rows)
        rows = await session.execute(sa.select(referral_intakes).where(referral_intakes.c.municipality == municipality))
        figures["referral_intakes"] = sorted(tuple(str(v) for v in row) for row in rows)
    return figures


async def exact_medians(platform: RunningPlatform, municipality: str) -> dict[str, tuple[int, float]]:
    """Per library and partner: the intakes held and the median of their exact hours (migration 011's rows)."""
    hours: dict[str, list[float]] = {}
    async with platform.services["referrals"].sessions() as session:
        rows = await session.execute(sa.select(referral_intakes).where(referral_intakes.c.municipality == municipality))
        for row in rows:
            for key in (row.library, row.referring_partner_id, row.receiving_partner_id):
                if key is not None:
                    hours.setdefault(str(key), []).append(row.hours)
    return {key: (len(values), statistics_module.median(values)) for key, values in hours.items()}


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
        at = start + timedelta(hours=rng.randint(0, 24 * DAYS))  # over several months, a quarter's end among them
        referrals.append((await submit(platform, actor, command, at), library, staff, partner_actor))

    work, clock = work_at(platform, start + timedelta(days=DAYS + 2))
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
                    intake_at=clock.now() + timedelta(days=1),
                    place="Centrum",
                    contact_person=GivenContactPerson(name="A"),
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
    # Intakes held after random waits, so that every key's median has something to say (few random steps get there).
    for _ in range(8):
        library = rng.choice([known.library_a, known.library_b])
        staff = known.staff_a if library == known.library_a else known.staff_b
        partner, partner_actor = rng.choice(
            [(known.partner_a, known.partner_a_actor), (known.partner_b, known.partner_b_actor)]
        )
        referral = await submit(
            platform, partner_actor, submit_command(library, referring_partner_id=partner), clock.now()
        )
        intake = PlanIntake(
            intake_at=clock.now() + timedelta(days=1), place="Centrum", contact_person=GivenContactPerson(name="A")
        )
        lifecycle_steps: list[tuple[Any, Any]] = [
            (lifecycle.accept_referral, AcceptReferral()),
            (lifecycle.plan_intake, intake),
        ]
        for use_case, step in lifecycle_steps:
            await use_case(work, staff, ReferralStep(referral_id=referral.id, command=step))
        clock.advance(timedelta(days=1, hours=rng.uniform(0, 400)))
        await lifecycle.record_intake_held(
            work, staff, ReferralStep(referral_id=referral.id, command=RecordIntakeHeld())
        )

    viewers = [
        known.staff_a,
        known.staff_b,
        known.partner_a_actor,
        known.partner_b_actor,
        Actor(subject="co", role=Role.COORDINATOR, municipality=known.municipality),
    ]
    operator = Actor(subject="op", role=Role.OPERATOR)
    submitted = {r.submitted_at.astimezone(LOCAL_TIME).date().replace(day=1) for r, *_ in referrals}
    queries = [
        GetReferralStatistics(),
        GetReferralStatistics(library=known.library_a),
        *(GetReferralStatistics(**period) for period in whole_months(min(submitted), max(submitted))),
        GetReferralStatistics(library=known.library_b, submitted_from=min(submitted)),
    ]
    assert len(queries) > 8, "the history spans months, a quarter and a year"
    incremental_cells = await cells(platform, known.municipality)
    statuses = {cell[5] for cell in incremental_cells["referral_month_counts"]}
    assert len(statuses) >= 4, f"the history went several ways: {statuses}"
    incremental = {}
    for viewer in viewers:
        for query in queries:
            months = None
            if query.submitted_from or query.submitted_until:
                months = months_of(query.submitted_from, query.submitted_until)
                assert months is not None, query  # a period of whole months: from the counters per month
            counted = await statistics_of_counts(work, viewer, query, months=months)
            # The read model answers exactly what counting over the referrals answers.
            assert counted == await statistics_of_referrals(work, viewer, query), (viewer.subject, query)
            incremental[(viewer.subject, query)] = counted
    assert any(figures.total for (_, query), figures in incremental.items() if query.submitted_from)
    overview_query = GetReferralsOverviewStatistics(municipality=known.municipality)
    overviews = {
        viewer.subject: await overview_statistics(work, viewer, overview_query)
        for viewer in [*viewers[:2], viewers[-1], operator]
    }

    # The medians from the histogram: within a bucket's width of the median of every intake's exact hours.
    exact = await exact_medians(platform, known.municipality)
    assert exact, "the history held intakes"
    shown = {
        **{e.library: e.figures for e in overviews["co"].libraries},
        **{str(e.partner_id): e.figures for e in overviews["co"].partners},
    }
    assert {key for key, figures in shown.items() if figures.intakes} == set(exact), "every key with intakes"
    for key, (intakes, median) in exact.items():
        assert shown[key].intakes == intakes, key
        median_shown = shown[key].median_hours_to_intake
        assert (
            median_shown is not None and abs(median_shown - median) <= (BUCKET_RATIO - 1) * (1 + median) * 1.05 + 0.05
        )

    await asyncio.to_thread(rebuild_figures_command, platform.settings)  # `partnernet rebuild-figures`

    assert await cells(platform, known.municipality) == incremental_cells
    for viewer in viewers:
        for query in queries:
            assert await statistics(work, viewer, query) == incremental[(viewer.subject, query)]
    for subject, figures in overviews.items():
        viewer = next(v for v in [*viewers, operator] if v.subject == subject)
        assert await overview_statistics(work, viewer, overview_query) == figures


async def test_a_change_never_waits_for_the_counter_rows_another_transaction_holds(
    platform: RunningPlatform, known: KnownTenant
) -> None:
    """Each transaction's counters go on a shard no other transaction holds (migration 017): while one holds a cell's
    counter rows (its triggers fired, its commit not done), submissions counted in the same cell do not wait for it,
    and the figures stay exact. By the transaction's id on 4 shards, one of twelve waited nearly always (97%)."""
    at = now()
    command = submit_command(known.library_b, referring_partner_id=known.partner_b)
    first = await submit(platform, known.partner_b_actor, command, at)
    before = await cells(platform, known.municipality)
    submissions: list[asyncio.Task[Any]] = []
    async with platform.services["referrals"].engine.connect() as holder:
        # A change of `first` that takes one from its cell (submitted, not overdue) and its month's: the rows the
        # submissions add to. Its deferred triggers fire now, so it holds those rows until it ends.
        await holder.execute(
            sa.text("UPDATE referrals.referrals SET overdue = NOT overdue WHERE id = :id"), {"id": first.id}
        )
        await holder.execute(sa.text("SET CONSTRAINTS ALL IMMEDIATE"))
        submissions = [asyncio.create_task(submit(platform, known.partner_b_actor, command, at)) for _ in range(12)]
        _, waiting = await asyncio.wait(submissions, timeout=PATIENCE_SECONDS)
        await holder.rollback()
    await asyncio.gather(*submissions)

    assert not waiting, f"{len(waiting)} of 12 submissions waited for the holder's counter rows"
    after = await cells(platform, known.municipality)
    submitted = [c for c in after["referral_month_counts"] if c[2] == known.library_b and c[5] == "submitted"]
    assert submitted != [
        c for c in before["referral_month_counts"] if c[2] == known.library_b and c[5] == "submitted"
    ], "the submissions were counted"
    await asyncio.to_thread(rebuild_figures_command, platform.settings)
    assert await cells(platform, known.municipality) == after


COUNTER_TABLES = (
    referral_month_counts,
    referral_month_need_counts,
    referral_intake_hours,
)
FIGURES_LOCK = sa.text("SELECT pg_try_advisory_xact_lock(hashtext('referrals.figures'), CAST(:shard AS integer))")


async def shards_in_use(platform: RunningPlatform) -> list[int]:
    async with platform.services["referrals"].sessions() as session:
        return list((await session.execute(SHARDS_TO_FOLD)).scalars())


async def rows_per_cell(platform: RunningPlatform, municipality: str) -> dict[str, set[int]]:
    """Per counter table, how many shard rows its cells of `municipality` have (the distinct numbers)."""
    found: dict[str, set[int]] = {}
    async with platform.services["referrals"].sessions() as session:
        for table in COUNTER_TABLES:
            key = [c for c in table.c if c.name not in ("shard", "count", "hours")]
            rows = await session.execute(
                sa.select(sa.func.count()).where(table.c.municipality == municipality).group_by(*key)
            )
            found[table.name] = set(rows.scalars())
    return found


async def hold_shard(holder: AsyncConnection, shard: int) -> None:
    """Take a figures shard's advisory lock in `holder`'s transaction, as a writer holds it until it ends."""
    assert (await holder.execute(FIGURES_LOCK, {"shard": shard})).scalar_one(), f"shard {shard} was free"


async def spread_over_shards(platform: RunningPlatform, known: KnownTenant, holder: AsyncConnection) -> list[int]:
    """Submissions counted while `holder` holds shard 0 land on shards above 0, as in a burst. While it holds shard
    0 no fold (the running service's neither) can move them. The shards above 0 in use."""
    await hold_shard(holder, 0)
    command = submit_command(known.library_b, referring_partner_id=known.partner_b)
    await asyncio.gather(*(submit(platform, known.partner_b_actor, command, now()) for _ in range(6)))
    return await shards_in_use(platform)


async def test_a_fold_moves_every_shard_to_shard_0_and_keeps_the_figures(
    platform: RunningPlatform, known: KnownTenant
) -> None:
    """The periodic fold (migration 019): after a burst spread the cells over shards, the figures read the same
    before and after it, every cell is one row again, and no shard above 0 is left."""
    command = submit_command(known.library_b, referring_partner_id=known.partner_b)
    await submit(platform, known.partner_b_actor, command, now())
    async with platform.services["referrals"].engine.connect() as holder:
        assert await spread_over_shards(platform, known, holder)
        before = await cells(platform, known.municipality)
        spread = await rows_per_cell(platform, known.municipality)
        await holder.rollback()
    assert max(set().union(*spread.values())) > 1, "a cell spread over shards"

    await fold_figure_shards(platform.services["referrals"].unit_of_work)

    assert await cells(platform, known.municipality) == before
    assert set().union(*(await rows_per_cell(platform, known.municipality)).values()) == {1}
    assert await shards_in_use(platform) == []
    await asyncio.to_thread(rebuild_figures_command, platform.settings)
    assert await cells(platform, known.municipality) == before


async def test_a_busy_shard_is_skipped_and_folded_by_a_later_sweep(
    platform: RunningPlatform, known: KnownTenant
) -> None:
    """The fold takes the shards' locks with the try-variant: while a writer holds shard 0 it folds nothing, while
    one holds shard k it folds the others and leaves k, and the next sweep folds k. The figures never change."""
    work = platform.services["referrals"].unit_of_work
    engine = platform.services["referrals"].engine
    async with engine.connect() as holder_of_0, engine.connect() as holder_of_busy:
        spread = await spread_over_shards(platform, known, holder_of_0)
        assert spread
        busy = spread[0]
        await hold_shard(holder_of_busy, busy)
        before = await cells(platform, known.municipality)

        assert await fold_figure_shards(work) == (0, len(spread)), "shard 0 busy: every shard skipped"
        assert await shards_in_use(platform) == spread
        assert await cells(platform, known.municipality) == before

        await holder_of_0.rollback()
        assert await fold_figure_shards(work) == (len(spread) - 1, 1)
        assert await shards_in_use(platform) == [busy], "the free shards folded, the busy one left"
        assert await cells(platform, known.municipality) == before
        await holder_of_busy.rollback()

    await fold_figure_shards(work)
    assert await shards_in_use(platform) == []
    assert await cells(platform, known.municipality) == before
    assert set().union(*(await rows_per_cell(platform, known.municipality)).values()) == {1}


async def test_a_submission_never_waits_for_a_fold_in_progress(platform: RunningPlatform, known: KnownTenant) -> None:
    """While a fold holds shard 0 and the shard it moves (its rows of the cell changed, not committed), submissions
    counted in the same cell finish: they take other shards. The figures stay exact when the fold commits."""
    command = submit_command(known.library_b, referring_partner_id=known.partner_b)
    await submit(platform, known.partner_b_actor, command, now())
    submissions: list[asyncio.Task[Any]] = []
    engine = platform.services["referrals"].engine
    async with engine.connect() as holder_of_0, engine.connect() as fold:
        spread = await spread_over_shards(platform, known, holder_of_0)
        # The fold's transaction takes the shard it moves before shard 0 is free again: no other fold (the running
        # service's) moves it first. A session takes its own advisory lock again.
        await hold_shard(fold, spread[0])
        await holder_of_0.rollback()
        before = await cells(platform, known.municipality)
        for _ in range(50):  # shard 0 may be held a moment by a submission or the service's own sweep
            if (await fold.execute(FOLD_SHARD, {"shard": spread[0]})).scalar_one():
                break
            await asyncio.sleep(0.02)
        else:
            pytest.fail("the fold never got shard 0")
        submissions = [asyncio.create_task(submit(platform, known.partner_b_actor, command, now())) for _ in range(12)]
        _, waiting = await asyncio.wait(submissions, timeout=PATIENCE_SECONDS)
        await fold.commit()
    await asyncio.gather(*submissions)

    assert not waiting, f"{len(waiting)} of 12 submissions waited for the fold"
    after = await cells(platform, known.municipality)
    assert after != before, "the submissions were counted"
    await asyncio.to_thread(rebuild_figures_command, platform.settings)
    assert await cells(platform, known.municipality) == after


def whole_months(first: date, last: date) -> list[dict[str, Any]]:
    """Periods of whole months between two months: each month, each quarter and year touched, and open ends."""
    months = [first]
    while months[-1] < last:
        months.append((months[-1] + timedelta(days=32)).replace(day=1))

    def last_day(month: date) -> date:
        return (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)

    quarters = sorted({m.replace(month=(m.month - 1) // 3 * 3 + 1) for m in months})
    years = sorted({m.replace(month=1) for m in months})
    return [
        *({"submitted_from": m, "submitted_until": last_day(m)} for m in months),
        *({"submitted_from": q, "submitted_until": last_day(q.replace(month=q.month + 2))} for q in quarters),
        *({"submitted_from": y, "submitted_until": y.replace(month=12, day=31)} for y in years),
        {"submitted_from": months[1] if len(months) > 1 else first},
        {"submitted_until": last_day(first)},
    ]


async def test_a_period_that_cuts_a_month_is_counted_over_its_referrals(
    platform: RunningPlatform, known: KnownTenant
) -> None:
    """The counters keep months: statistics for a period that cuts one count that period's referrals, as before."""
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
