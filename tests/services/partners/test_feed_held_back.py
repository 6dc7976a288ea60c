"""The feed publisher's wait (services/partners/commands/feeds.py `FeedPublisher`): entries held back behind an
older transaction that still runs are looked at again soon, also when entries before them were just sent; the
wait backs off only while nothing goes. The end of that older transaction wakes no one, so the wait is all there
is between it and the held-back entries' publish."""

from __future__ import annotations

from typing import Any

from services.partners.commands.feeds import HELD_BACK_SECONDS, MAX_HELD_BACK_SECONDS, FeedPublisher
from shared.clock import SystemClock

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
