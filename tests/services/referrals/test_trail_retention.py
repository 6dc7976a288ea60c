"""An erased referral's history and access log go PARTNERNET_TRAIL_RETENTION_DAYS after the erasure, and no sooner:
on the session's platform, in a history far ahead of the wall clock.

The sweep deletes every trail past the window, so it also takes those of referrals other tests erased earlier in
this session (all erased long before this history's erasure); none of them looks at a trail again.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from uuid import UUID

import sqlalchemy as sa

from services.referrals import store
from services.referrals.commands import privacy
from services.referrals.commands.retention import prune_erased_trails
from services.referrals.store.retention import PRUNE_TRAILS
from shared.contracts.referrals.api.participant_data import EraseParticipantData
from tests.fixtures.platform import RunningPlatform
from tests.services.referrals.conftest import KnownTenant, now, submit, submit_command, work_at
from tests.waiting import PATIENCE_SECONDS

WINDOW = timedelta(days=365)


async def to_partner(platform: RunningPlatform, known: KnownTenant, at: datetime) -> UUID:
    command = submit_command(known.library_a, receiving_partner_id=known.partner_a)
    return (await submit(platform, known.staff_a, command, at)).id


async def read_by_staff(platform: RunningPlatform, referral_id: UUID, library: str) -> None:
    async with platform.services["referrals"].engine.begin() as conn:
        await conn.execute(
            sa.text(
                "INSERT INTO personal_data_reads (referral_id, library, participant_pseudonym, actor, actor_role,"
                " purpose, at) VALUES (:id, :library, 'P-TEST', 'staff-a', 'staff', 'view', now())"
            ),
            {"id": referral_id, "library": library},
        )


async def trail(platform: RunningPlatform, referral_id: UUID) -> tuple[int, int, bool]:
    """The referral's history lines, its reads in the access log, and whether it waits in the queue."""
    async with platform.services["referrals"].engine.connect() as conn:
        counts = await conn.execute(
            sa.text(
                "SELECT (SELECT count(*) FROM referral_history WHERE referral_id = :id),"
                " (SELECT count(*) FROM personal_data_reads WHERE referral_id = :id),"
                " EXISTS (SELECT 1 FROM erased_trails WHERE referral_id = :id)"
            ),
            {"id": referral_id},
        )
        history, reads, queued = counts.one()
    return int(history), int(reads), bool(queued)


async def test_an_erased_referrals_history_and_access_log_go_after_the_window_and_others_stay(
    platform: RunningPlatform, known: KnownTenant
) -> None:
    start = now() + timedelta(days=4000)
    erased_early, erased_late, kept_open = [await to_partner(platform, known, start) for _ in range(3)]
    for referral_id in (erased_early, erased_late, kept_open):
        await read_by_staff(platform, referral_id, known.library_a)
    for referral_id, after in ((erased_early, timedelta(hours=1)), (erased_late, timedelta(days=200))):
        work, _ = work_at(platform, start + after)
        await privacy.erase_participant_data(work, known.staff_a, EraseParticipantData(referral_id=referral_id))
    before = {r: await trail(platform, r) for r in (erased_early, erased_late, kept_open)}
    assert before[erased_early][2] and before[erased_late][2] and not before[kept_open][2]  # queued at the erasure
    assert all(history > 0 and reads > 0 for history, reads, _ in before.values())

    # A day before the early erasure's window ends nothing of this history goes; a day after, its trail does.
    on_the_eve, _ = work_at(platform, start + timedelta(hours=1) + WINDOW - timedelta(days=1))
    await prune_erased_trails(on_the_eve, WINDOW)
    assert await trail(platform, erased_early) == before[erased_early]
    work, _ = work_at(platform, start + timedelta(hours=1) + WINDOW + timedelta(days=1))

    assert await prune_erased_trails(work, WINDOW, batch=2) >= 1

    assert await trail(platform, erased_early) == (0, 0, False)
    assert await trail(platform, erased_late) == before[erased_late]  # its window runs on
    assert await trail(platform, kept_open) == before[kept_open]  # the data is still held
    row = await referral_row_of(platform, erased_early)
    assert row.anonymised_at is not None and row.status  # the referral itself stays, nameless, for the figures


async def referral_row_of(platform: RunningPlatform, referral_id: UUID) -> sa.Row:
    async with platform.services["referrals"].sessions() as session:
        row = await store.find_referral(session, referral_id)
    assert row is not None
    return row


async def test_steps_and_reads_are_written_while_a_sweep_holds_its_batch(
    platform: RunningPlatform, known: KnownTenant
) -> None:
    start = now() + timedelta(days=6000)
    erased, other = [await to_partner(platform, known, start) for _ in range(2)]
    work, _ = work_at(platform, start)
    await privacy.erase_participant_data(work, known.staff_a, EraseParticipantData(referral_id=erased))
    engine = platform.services["referrals"].engine
    async with engine.connect() as sweep:
        done = await sweep.execute(PRUNE_TRAILS, {"before": start + timedelta(days=1), "batch": 1000})
        assert done.scalar_one() >= 1  # not committed yet

        async def a_step_of_another_referral() -> None:
            async with engine.begin() as conn:
                await conn.execute(
                    store.referral_history.insert().values(
                        referral_id=other, status="submitted", at=start, actor="staff-a", details={}
                    )
                )

        await asyncio.wait_for(
            asyncio.gather(a_step_of_another_referral(), read_by_staff(platform, other, known.library_a)),
            timeout=PATIENCE_SECONDS,
        )
        await sweep.commit()
    history, reads, _ = await trail(platform, other)
    assert history >= 2 and reads >= 1
    assert await trail(platform, erased) == (0, 0, False)
