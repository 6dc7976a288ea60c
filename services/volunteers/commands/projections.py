"""What this service keeps of other services' events of its own accord: the referrals of its libraries (for language
buddies). Libraries, partners and partnerships are the shared projection's (shared/known_parties.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec
from opentelemetry.trace import Span

from services.volunteers.domain import buddies
from services.volunteers.store import referrals
from shared.contracts import Envelope
from shared.contracts.referrals.events import ReferralParties
from shared.unit_of_work import Transaction


async def remember_referrals(tx: Transaction, events: Sequence[tuple[Envelope, Span]]) -> None:
    """Any referral event (types added later too), a batch at a time in stream order: the referral is known, and
    its state follows the newest event."""
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
            }
        )
    await referrals.remember(tx.session, rows)
