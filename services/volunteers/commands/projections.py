"""What this service keeps of other services' events of its own accord: the referrals of its libraries (for language
buddies). Libraries, partners and partnerships are the shared projection's (shared/known_parties.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec
from opentelemetry.trace import Span

from services.volunteers.domain import buddies
from services.volunteers.store import referrals
from shared.consumer import first_time
from shared.contracts import Envelope
from shared.contracts.referrals.events import ReferralParties
from shared.unit_of_work import UnitOfWork


async def remember_referrals(work: UnitOfWork, consumer: str, events: Sequence[tuple[Envelope, Span]]) -> None:
    """Any referral event (types added later too), a batch at a time in stream order, as a statement handler
    (shared/consumer.py StatementHandler): the referral is known, and its state follows the newest event.

    A batch that names each referral once is one statement with its inbox rows, in autocommit: no BEGIN, inbox and
    COMMIT round trips, no session (issue 17's ninth round). One that names a referral twice applies its events in
    rounds, in a transaction with the inbox rows, as one statement per event would have left them."""
    event_ids = [envelope.id for envelope, _ in events]
    rows = _known_referrals(events)
    if len({row["id"] for row in rows}) == len(rows):
        async with work.direct_statements() as connection:
            await referrals.remember_once(connection, consumer, event_ids, rows)
        return
    async with work.transaction() as tx:
        new = await first_time(tx, consumer, event_ids)
        await referrals.remember(tx.session, [row for row in rows if row["event_id"] in new])


def _known_referrals(events: Sequence[tuple[Envelope, Span]]) -> list[dict[str, Any]]:
    """A row (store/referrals.py COLUMNS and the event's id) for each event: `status` None for one that says nothing
    of the referral's state."""
    rows: list[dict[str, Any]] = []
    for envelope, _ in events:
        parties = msgspec.convert(envelope.data, ReferralParties)
        rows.append(
            {
                "id": parties.referral_id,
                "participant_pseudonym": parties.participant_pseudonym,
                "library": parties.library,
                "municipality": parties.municipality,
                "referring_partner_id": parties.referring_partner_id,
                "receiving_partner_id": parties.receiving_partner_id,
                "status": buddies.status_of(envelope.type),
                "status_at": envelope.time,
                "event_id": envelope.id,
            }
        )
    return rows
