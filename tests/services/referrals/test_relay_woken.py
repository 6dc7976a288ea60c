"""A submission wakes the outbox relay itself instead of the outbox trigger's NOTIFY in its commit (kernel migration
005): a writing transaction that notifies holds PostgreSQL's one notification lock across its commit's WAL flush,
so every notifying commit of the server waited for the one before it (issue 17's sixth round).

What a commit notified is read on a LISTEN connection up to a marker notified after it: PostgreSQL delivers
notifications in commit order, so whatever the submission's commit sent arrives before the marker."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from services.referrals.commands import submission
from shared.clock import FixedClock
from shared.outbox import notify_channel
from shared.relay import Relay, plain_dsn
from shared.unit_of_work import UnitOfWork, ambient_transaction
from tests.fixtures.platform import RunningPlatform
from tests.services.referrals.conftest import KnownTenant, now, submit_command, vault_of
from tests.waiting import PATIENCE_SECONDS

CHANNEL = notify_channel("referrals")
MARKER = "marker"


def relay_of(platform: RunningPlatform, *, active: bool) -> Relay[Any, Any]:
    """An outbox relay object that is not running: active as the process's relay that holds the lock, or not, as
    a standby's."""
    relay: Relay[Any, Any] = Relay(
        name="outbox",
        outlet=platform.services["referrals"].relay.outlet,
        database_url=platform.settings.database_url,
        schema="referrals",
        channel=CHANNEL,
        exclusive=True,
    )
    relay.active = active
    return relay


async def notified_by(platform: RunningPlatform, action: Callable[[], Awaitable[object]]) -> list[str]:
    """The payloads notified on the referrals' outbox channel by what `action` committed."""
    dsn = plain_dsn(platform.settings.database_url)
    listener, marker = await asyncpg.connect(dsn), await asyncpg.connect(dsn)
    payloads: list[str] = []
    marked = asyncio.Event()

    def heard(_connection: object, _pid: int, _channel: str, payload: str) -> None:
        if payload == MARKER:
            marked.set()
        elif not marked.is_set():
            payloads.append(payload)

    try:
        await listener.add_listener(CHANNEL, heard)
        await action()
        await marker.execute("SELECT pg_notify($1, $2)", CHANNEL, MARKER)
        await asyncio.wait_for(marked.wait(), timeout=PATIENCE_SECONDS)
    finally:
        await listener.close()
        await marker.close()
    return payloads


async def test_a_submission_wakes_its_process_s_active_relay_and_its_commit_sends_no_notify(
    platform: RunningPlatform, known: KnownTenant
) -> None:
    runtime = platform.services["referrals"]
    relay = relay_of(platform, active=True)
    work = UnitOfWork(runtime.sessions, FixedClock(now()), runtime.reads, [relay])

    heard = await notified_by(
        platform,
        lambda: submission.submit_referral(work, vault_of(platform), known.partner_a_actor, command(known)),
    )

    assert heard == []
    assert relay._wake.is_set()  # what the trigger's NOTIFY did: the relay sweeps at once


async def test_a_submission_in_a_process_whose_relay_is_a_standby_notifies_the_active_one_after_its_commit(
    platform: RunningPlatform, known: KnownTenant
) -> None:
    runtime = platform.services["referrals"]
    relay = relay_of(platform, active=False)
    work = UnitOfWork(runtime.sessions, FixedClock(now()), runtime.reads, [relay])

    heard = await notified_by(
        platform,
        lambda: submission.submit_referral(work, vault_of(platform), known.partner_a_actor, command(known)),
    )

    assert heard == [""]
    assert not relay._wake.is_set()


async def test_a_submission_in_an_idempotent_call_s_transaction_notifies_with_that_transaction_s_commit(
    platform: RunningPlatform, known: KnownTenant
) -> None:
    runtime = platform.services["referrals"]
    relay = relay_of(platform, active=True)
    work = UnitOfWork(runtime.sessions, FixedClock(now()), runtime.reads, [relay])

    async def in_a_transaction() -> None:
        async with runtime.sessions.begin() as session:
            with ambient_transaction(session):
                await submission.submit_referral(work, vault_of(platform), known.partner_a_actor, command(known))

    heard = await notified_by(platform, in_a_transaction)

    assert heard == [""]  # the trigger's, at that transaction's commit
    assert not relay._wake.is_set()  # woken before the commit, the relay would find nothing and sleep till its poll


def command(known: KnownTenant) -> Any:
    return submit_command(known.library_a, referring_partner_id=known.partner_a)
