"""What this service keeps of other services' events of its own accord: the referrals of its libraries (for language
buddies). Libraries, partners and partnerships are the shared projection's (shared/known_parties.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec
from opentelemetry.trace import Span

from services.volunteers.domain import buddies
from services.volunteers.store import referrals
from shared.consumer import apply_referral_rows
from shared.contracts import Envelope
from shared.contracts.referrals.events import ReferralParties
from shared.unit_of_work import UnitOfWork


async def remember_referrals(work: UnitOfWork, consumer: str, events: Sequence[tuple[Envelope, Span]]) -> None:
    """Any referral event (types added later too), a batch at a time in stream order, as a statement handler
    (shared/consumer.py StatementHandler): the referral is known, and its state follows the newest event.

    One statement with its inbox rows when the batch names each referral once, else in rounds
    (shared/consumer.py apply_referral_rows)."""
    event_ids = [envelope.id for envelope, _ in events]
    await apply_referral_rows(
        work, consumer, event_ids, _known_referrals(events), once=referrals.remember_once, in_rounds=referrals.remember
    )


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
