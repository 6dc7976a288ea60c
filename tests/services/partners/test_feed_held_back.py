"""The feed publisher's wait (services/partners/commands/feeds.py `FeedPublisher`): entries held back behind an
older transaction that still runs are looked at again soon, also when entries before them were just sent; the
wait backs off only while nothing goes. The end of that older transaction wakes no one, so the wait is all there
is between it and the held-back entries' publish.

Which transactions hold entries back (store/feed.py FEED_PENDING, migrations 015 and 016): one that has written an
entry and still runs holds back the entries after its own, also when its transaction id is younger than theirs, and
one that writes none (a submit, another service's batch) holds back nothing; on a partners schema of the test's own
(tests/services/partners/test_feed_batch.py's)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from services.partners.commands.feeds import HELD_BACK_SECONDS, MAX_HELD_BACK_SECONDS, FeedPublisher
from services.partners.store import feed as feed_store
from shared.clock import SystemClock
from shared.relay import plain_dsn
from tests.services.partners.test_feed_batch import A, engine

__all__ = ["engine"]  # the fixture: a partners schema with partners
INSERT = (
    "INSERT INTO feed_entries (partner_id, event_id, event_type, time, data)"
    " VALUES ($1, $2, 'nl.partnernet.referral.submitted.v1', $3, $4::jsonb) RETURNING position"
)

POLL_SECONDS = 1.0


class Pending:
    """What FEED_PENDING gives: the first unsettled position on every row, an entry or none on each."""

    def __init__(self, first_unsettled: int | None, positions: list[int]) -> None:
        entries = [{"first_unsettled": first_unsettled, "position": position} for position in positions]
        self.rows = entries or [{"first_unsettled": first_unsettled, "position": None}]

    async def fetch(self, query: str, limit: int) -> list[dict[str, Any]]:
        return self.rows


async def wait_after(publisher: FeedPublisher, first_unsettled: int | None, positions: list[int]) -> float:
    await publisher.pending(Pending(first_unsettled, positions), 256)
    return publisher.wait_seconds(POLL_SECONDS)


async def test_entries_held_back_behind_those_just_sent_are_looked_at_again_soon() -> None:
    publisher = FeedPublisher(publisher=None, clock=SystemClock())  # type: ignore[arg-type]
    assert await wait_after(publisher, 7, [5, 6]) == HELD_BACK_SECONDS


async def test_the_wait_backs_off_only_while_nothing_goes_and_starts_over_when_something_does() -> None:
    publisher = FeedPublisher(publisher=None, clock=SystemClock())  # type: ignore[arg-type]
    waits = [await wait_after(publisher, 7, []) for _ in range(10)]
    assert waits[:3] == [HELD_BACK_SECONDS, 2 * HELD_BACK_SECONDS, 4 * HELD_BACK_SECONDS]
    assert waits[-1] == MAX_HELD_BACK_SECONDS
    assert await wait_after(publisher, 9, [7, 8]) == HELD_BACK_SECONDS
    assert await wait_after(publisher, None, [9]) == POLL_SECONDS, "nothing held back: the poll (and the wake-ups)"


async def connect(engine: AsyncEngine) -> asyncpg.Connection:
    async with engine.connect() as conn:
        schema = str(await conn.scalar(sa.text("SELECT current_schema()")))
    dsn = plain_dsn(engine.url.render_as_string(hide_password=False))
    return await asyncpg.connect(dsn, server_settings={"search_path": schema})


async def pending(relay: asyncpg.Connection) -> tuple[int | None, list[int]]:
    """What the feed publisher's read finds: the first position held back, and the positions it may send."""
    rows = await relay.fetch(feed_store.FEED_PENDING, 10)
    return rows[0]["first_unsettled"], [row["position"] for row in rows if row["position"] is not None]


async def entry(connection: asyncpg.Connection) -> int:
    data = json.dumps({"note": "held back?"})
    return int(await connection.fetchval(INSERT, A, uuid.uuid4(), datetime.now(UTC), data))


async def test_a_running_transaction_that_writes_no_entry_holds_no_entry_back(engine: AsyncEngine) -> None:
    older, writer, relay = await connect(engine), await connect(engine), await connect(engine)
    try:
        running = older.transaction()
        await running.start()
        await older.fetchval("SELECT pg_current_xact_id()")  # older than the entry's writer, and still running
        position = await entry(writer)

        assert await pending(relay) == (None, [position])
        await running.rollback()
    finally:
        for connection in (older, writer, relay):
            await connection.close()


async def test_a_running_transaction_that_has_written_an_entry_holds_back_the_later_ones_until_it_ends(
    engine: AsyncEngine,
) -> None:
    slow, fast, relay = await connect(engine), await connect(engine), await connect(engine)
    try:
        running = slow.transaction()
        await running.start()
        late = await entry(slow)
        early = await entry(fast)  # committed first, with the later position
        assert late < early

        assert await pending(relay) == (early, [])
        await running.commit()
        assert await pending(relay) == (None, [late, early])
    finally:
        for connection in (slow, fast, relay):
            await connection.close()


async def test_an_older_transaction_that_writes_its_entry_later_gets_a_later_position(engine: AsyncEngine) -> None:
    older, writer, relay = await connect(engine), await connect(engine), await connect(engine)
    try:
        running = older.transaction()
        await running.start()
        await older.fetchval("SELECT pg_current_xact_id()")
        first = await entry(writer)
        assert await pending(relay) == (None, [first])
        await relay.execute(feed_store.FEED_MARK_PUBLISHED, [first], datetime.now(UTC))  # sent
        second = await entry(older)  # the older transaction's entry comes after the one sent
        assert second > first
        assert await pending(relay) == (None, [])
        await running.commit()
        assert await pending(relay) == (None, [second])
    finally:
        for connection in (older, writer, relay):
            await connection.close()


async def test_a_running_writer_with_a_younger_id_holds_back_an_older_writer_s_later_entry(engine: AsyncEngine) -> None:
    older, younger, relay = await connect(engine), await connect(engine), await connect(engine)
    try:
        first, second = older.transaction(), younger.transaction()
        await first.start()
        await older.fetchval("SELECT pg_current_xact_id()")  # its id first (a consumer's inbox row) ...
        await second.start()
        earlier = await entry(younger)  # ... the younger takes the earlier position, and runs on
        later = await entry(older)
        await first.commit()
        assert earlier < later

        assert await pending(relay) == (later, [])  # by the ids alone `later` went first, and a cursor passed `earlier`
        await second.commit()
        assert await pending(relay) == (None, [earlier, later])
    finally:
        for connection in (older, younger, relay):
            await connection.close()


async def test_a_batch_published_whole_is_marked_and_the_next_read_in_one_statement(engine: AsyncEngine) -> None:
    writer, slow, relay = await connect(engine), await connect(engine), await connect(engine)
    publisher = FeedPublisher(publisher=None, clock=SystemClock())  # type: ignore[arg-type]  # nothing is sent here
    try:
        first, second = await entry(writer), await entry(writer)
        out = await publisher.pending(relay, 10)
        assert [row["position"] for row in out] == [first, second]
        running = slow.transaction()
        await running.start()
        held = await entry(slow)  # taken while the batch is out, committed later
        later = await entry(writer)

        await publisher.settle(relay, out, [None, None])
        assert publisher.wait_seconds(POLL_SECONDS) == HELD_BACK_SECONDS  # `later` waits for `held`: nothing read
        assert await pending(relay) == (later, [])  # and the batch is marked: first and second are not read again

        await running.commit()
        out = await publisher.pending(relay, 10)
        assert [row["position"] for row in out] == [held, later]
        newer = await entry(writer)  # committed while that batch is out
        await publisher.settle(relay, out, [None, None])
        assert publisher.wait_seconds(POLL_SECONDS) == 0.0  # read with the mark: sent without waiting for a wake-up
        await entry(writer)  # committed after the mark's read: not in the batch read ahead
        assert [row["position"] for row in await publisher.pending(relay, 10)] == [newer]
    finally:
        for connection in (writer, slow, relay):
            await connection.close()
