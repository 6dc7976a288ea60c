"""What the courses service keeps of the referrals service's events (libraries and partners: shared/known_parties)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec
from opentelemetry.trace import Span

from services.courses.store import enrolment as enrolment_store
from shared.consumer import apply_referral_rows
from shared.contracts import Envelope, short_type
from shared.contracts.referrals.api.referrals import ReferralStatus
from shared.contracts.referrals.events import ReferralParties
from shared.unit_of_work import UnitOfWork

# The referral events that make a referral known or move it into or out of the states an enrolment fits, and the
# status each leaves behind; the other referral events (overdue, waiting list, a participant to tell …) leave the
# status as it is. A submission (v1, or v2 in either direction) comes to the same consumer as every other step: two
# consumers of their own for the submissions cost a pull and a transaction each per referral for what this one
# receives anyway (issue 17's sixth round).
STATUS_AFTER: dict[str, ReferralStatus] = {
    "referral.submitted": ReferralStatus.SUBMITTED,
    "referral.accepted": ReferralStatus.ACCEPTED,
    "referral.intake_planned": ReferralStatus.INTAKE_PLANNED,
    "referral.intake_held": ReferralStatus.INTAKE_HELD,
    "referral.enrolled": ReferralStatus.ENROLLED,
    "referral.declined": ReferralStatus.DECLINED,
    "referral.withdrawn": ReferralStatus.WITHDRAWN,
    "referral.completed": ReferralStatus.COMPLETED,
    "referral.no_show_recorded": ReferralStatus.NO_SHOW,
    "referral.expired": ReferralStatus.EXPIRED,
}


async def referrals_moved(work: UnitOfWork, consumer: str, events: Sequence[tuple[Envelope, Span]]) -> None:
    """Every step of the referrals (one consumer, a batch at a time in stream order, as a statement handler:
    shared/consumer.py StatementHandler): each referral known with its municipality, its participant and its
    parties (its library and partners), who alone enrol it, and whether it can take an enrolment now (its status).

    One statement with its inbox rows when the batch names each referral once, else in rounds
    (shared/consumer.py apply_referral_rows)."""
    event_ids = [envelope.id for envelope, _ in events]
    await apply_referral_rows(
        work,
        consumer,
        event_ids,
        _known_referrals(events),
        once=enrolment_store.keep_known_referrals_once,
        in_rounds=enrolment_store.keep_known_referrals,
    )


def _known_referrals(events: Sequence[tuple[Envelope, Span]]) -> list[dict[str, Any]]:
    """A row (KNOWN_REFERRAL_COLUMNS and the event's id) for each event that makes a referral known or moves it."""
    rows: list[dict[str, Any]] = []
    for envelope, _ in events:
        if (status := STATUS_AFTER.get(short_type(envelope.type))) is not None:
            parties = msgspec.convert(envelope.data, ReferralParties)
            rows.append(
                {
                    "id": parties.referral_id,
                    "municipality": parties.municipality,
                    "library": parties.library,
                    "participant_pseudonym": parties.participant_pseudonym,
                    "referring_partner_id": parties.referring_partner_id,
                    "receiving_partner_id": parties.receiving_partner_id,
                    "status": status.value,
                    "status_at": envelope.time,
                    "event_id": envelope.id,
                }
            )
    return rows
