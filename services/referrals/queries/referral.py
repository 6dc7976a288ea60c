"""One referral as its parties see it; a read that shows the person is written to the access log."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from types import SimpleNamespace
from typing import Any, cast
from uuid import UUID

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.referrals import domain, store
from services.referrals.domain import consent as consent_rules
from services.referrals.queries.duplicates import with_duplicates
from services.referrals.store import duplicates as duplicate_store
from services.referrals.store import partnerships, personal_data
from services.referrals.store.personal_data import ParticipantVault
from shared.contracts.partners.api.organisations import PartnerStatus
from shared.contracts.referrals.api.participant_data import AccessLogEntry, AccessPurpose
from shared.contracts.referrals.api.referrals import (
    Arrival,
    Consent,
    ConsentRevocation,
    ConsentState,
    ContactChannel,
    ContactPerson,
    GetReferral,
    HistoryEntry,
    Intake,
    Participant,
    ReferralStatus,
    ReferralSummary,
    ReferralView,
)
from shared.contracts.referrals.events import DeclineReason, Need, Outcome, WithdrawReason
from shared.errors import NotFound, PartnernetError
from shared.tenancy import Actor, Role
from shared.unit_of_work import Transaction, UnitOfWork

# What a freshly written referral has in the columns its insert leaves to their defaults.
UNSET_ON_SUBMIT: dict[str, Any] = {
    "overdue": False,
    "enrolment_id": None,
    "intake": None,
    "intake_held_at": None,
    "outcome": None,
    "decline_reason": None,
    "withdraw_reason": None,
    "closed_at": None,
    "anonymised_at": None,
    "note": None,
    "consent_ended_at": None,
    "consent_state": ConsentState.GIVEN.value,
    "consent_revocation": None,
}

log = logging.getLogger(__name__)


def as_written(values: dict[str, Any]) -> sa.Row:
    """The values a use case has just inserted, readable as the row it would read back (so it need not)."""
    return cast(sa.Row, SimpleNamespace(**(UNSET_ON_SUBMIT | values)))


def parties_of(row: sa.Row) -> domain.Parties:
    return domain.Parties(
        library=row.library,
        municipality=row.municipality,
        referring_partner_id=row.referring_partner_id,
        receiving_partner_id=row.receiving_partner_id,
    )


def may_read(actor: Actor, row: sa.Row) -> bool:
    return domain.may_read(
        actor,
        library=row.library,
        municipality=row.municipality,
        referring_partner_id=row.referring_partner_id,
        receiving_partner_id=row.receiving_partner_id,
    )


def may_read_personal_data(actor: Actor, row: sa.Row) -> bool:
    return domain.may_read_personal_data(
        actor,
        library=row.library,
        referring_partner_id=row.referring_partner_id,
        receiving_partner_id=row.receiving_partner_id,
    )


def consent_of(row: sa.Row) -> Consent:
    return msgspec.convert(row.consent, Consent)


WITHHELD_TEXT = "—"  # where a text must stay but is not for the caller (as an erased one reads)


def without_purpose(consent: Consent) -> Consent:
    return msgspec.structs.replace(consent, purpose=WITHHELD_TEXT)


def consent_state_of(row: sa.Row, now: datetime) -> ConsentState:
    return consent_rules.consent_state(ConsentState(row.consent_state), row.consent_valid_until, now)


def shown_to(actor: Actor, row: sa.Row, now: datetime, standing: sa.Row | None = None) -> consent_rules.Disclosure:
    """What of the participant of `row` the actor is shown now (domain/consent.py); `standing` is the partner's
    (store/partnerships.py partner_standing) where the actor is a partner."""
    return consent_rules.disclosure(
        actor,
        parties_of(row),
        consent=consent_of(row),
        state=consent_state_of(row, now),
        status=ReferralStatus(row.status),
        organisation_active=standing is None or standing.status in (None, PartnerStatus.ACTIVE.value),
        partnership_ended=standing is not None and standing.partnership_ended and not standing.partnered,
    )


async def shown_to_reader(session: AsyncSession, actor: Actor, row: sa.Row, now: datetime) -> consent_rules.Disclosure:
    """`shown_to`, with a partner's standing looked up (one round trip more, for partners only)."""
    standing = None
    if actor.role is Role.PARTNER and actor.partner is not None and may_read_personal_data(actor, row):
        standing = await partnerships.partner_standing(session, UUID(actor.partner), row.library, row.municipality)
    return shown_to(actor, row, now, standing)


async def as_seen_by(session: AsyncSession, actor: Actor, row: sa.Row, now: datetime) -> ReferralView:
    """The referral without its history, as far as the actor is shown it (a version conflict's current state)."""
    return referral_view(row, shown=await shown_to_reader(session, actor, row, now))


def history_entry(row: sa.Row | HistoryEntry, *, free_text: bool = True) -> HistoryEntry:
    """A history row as its entry (one read on a direct connection is decoded to entries already); its note only
    where the reader is shown free text."""
    if isinstance(row, HistoryEntry):
        return row if free_text or row.note is None else msgspec.structs.replace(row, note=None)
    return HistoryEntry(
        status=ReferralStatus(row.status),
        step=row.step,
        at=row.at,
        actor=row.actor,
        version=row.version,
        details=row.details or {},
        note=row.note if free_text else None,
    )


def referral_view(
    row: sa.Row,
    *,
    participant: Participant | None = None,
    history: Sequence[sa.Row | HistoryEntry] | None = None,
    shown: consent_rules.Disclosure | None = None,
    consent_state: ConsentState | None = None,
) -> ReferralView:
    """The referral; `participant` only where the caller may see it and the read is logged; the reason and the
    outcome as far as `shown` (what the caller is shown) allows."""
    shown = shown or consent_rules.Disclosure(person=participant is not None, reason=True, outcome=True)
    return ReferralView(
        id=row.id,
        status=ReferralStatus(row.status),
        library=row.library,
        municipality=row.municipality,
        referring_partner_id=row.referring_partner_id,
        participant_pseudonym=row.participant_pseudonym,
        needs=msgspec.convert(row.needs, list[Need]),
        reason=row.reason if shown.reason else None,
        preferred_channel=ContactChannel(row.preferred_channel),
        contact_person=msgspec.convert(row.contact_person, ContactPerson),
        consent=consent_of(row) if shown.free_text else without_purpose(consent_of(row)),
        submitted_at=row.submitted_at,
        participant=participant,
        version=row.version,
        direction=parties_of(row).direction,
        referring_library=row.referring_library,
        receiving_partner_id=row.receiving_partner_id,
        course_id=row.course_id,
        enrolment_id=row.enrolment_id,
        respond_by=row.respond_by,
        expires_at=row.expires_at,
        overdue=row.overdue,
        intake=msgspec.convert(row.intake, Intake) if row.intake is not None else None,
        intake_held_at=row.intake_held_at,
        outcome=msgspec.convert(row.outcome, Outcome) if row.outcome is not None and shown.outcome else None,
        decline_reason=DeclineReason(row.decline_reason) if row.decline_reason else None,
        withdraw_reason=WithdrawReason(row.withdraw_reason) if row.withdraw_reason else None,
        closed_at=row.closed_at,
        anonymised_at=row.anonymised_at,
        history=[history_entry(entry, free_text=shown.free_text) for entry in history or []],
        consent_state=consent_state or ConsentState(row.consent_state),
        consent_ended_at=row.consent_ended_at,
        consent_revocation=(
            msgspec.convert(row.consent_revocation, ConsentRevocation) if row.consent_revocation is not None else None
        ),
        withheld=shown.withheld,
        withheld_because=shown.because,
        arrival=Arrival(row.arrival) if row.arrival is not None else None,
    )


async def log_read(tx: Transaction, row: sa.Row, actor: Actor, purpose: AccessPurpose) -> None:
    await personal_data.log_personal_data_read(tx.session, **access_entry_values(row, actor, purpose, tx.clock.now()))


def access_entry_values(row: sa.Row, actor: Actor, purpose: AccessPurpose, at: datetime) -> dict[str, Any]:
    """The access-log row of one read of a participant's personal data."""
    return {
        "referral_id": row.id,
        "library": row.library,
        "participant_pseudonym": row.participant_pseudonym,
        "actor": actor.subject,
        "actor_role": actor.role.value,
        "actor_organisation": actor.library or actor.partner,
        "purpose": purpose.value,
        "at": at,
    }


def summary(row: sa.Row) -> ReferralSummary:
    return ReferralSummary(
        id=row.id,
        status=ReferralStatus(row.status),
        direction=parties_of(row).direction,
        library=row.library,
        municipality=row.municipality,
        referring_partner_id=row.referring_partner_id,
        referring_library=row.referring_library,
        receiving_partner_id=row.receiving_partner_id,
        course_id=row.course_id,
        participant_pseudonym=row.participant_pseudonym,
        needs=msgspec.convert(row.needs, list[Need]),
        submitted_at=row.submitted_at,
        respond_by=row.respond_by,
        overdue=row.overdue,
        version=row.version,
        updated_at=row.updated_at,
        anonymised=row.anonymised_at is not None,
        arrival=Arrival(row.arrival) if row.arrival is not None else None,
    )


def access_entry(row: sa.Row) -> AccessLogEntry:
    return AccessLogEntry(
        id=row.id,
        referral_id=row.referral_id,
        participant_pseudonym=row.participant_pseudonym,
        library=row.library,
        actor=row.actor,
        actor_role=row.actor_role,
        actor_organisation=row.actor_organisation,
        purpose=AccessPurpose(row.purpose),
        at=row.at,
    )


async def get_referral(work: UnitOfWork, vault: ParticipantVault, actor: Actor, query: GetReferral) -> ReferralView:
    """One referral as far as the caller may see it; the library's staff see its possible duplicates with it.

    The read every party polls, so it runs on a direct connection (shared/db.py): the referral and its history
    in one prepared statement, without a transaction (each statement sees the latest committed data). A read
    that shows the participant is written to the access log before the answer leaves: for the library's staff by
    the statement that reads the referral (a data-modifying CTE on the disclosure rule in SQL, committed with it;
    the warnings, where there are any, in a second), for a partner in a statement of its own; if the log cannot
    be written, the read fails and shows nothing.
    """
    as_partner = actor.role is Role.PARTNER and actor.partner is not None
    as_staff = actor.role is Role.STAFF and actor.library is not None
    now = work.clock.now()
    async with work.direct() as db:
        if as_partner:
            statement, values = partnerships.READ_REFERRAL_AS_PARTNER, {"partner_id": UUID(actor.partner)}
        elif as_staff:  # the read logged by the statement itself where the person is shown (store/personal_data.py)
            statement, values = personal_data.READ_REFERRAL_AS_STAFF, staff_read_values(actor, now)
        else:
            statement, values = store.READ_REFERRAL, {}
        found = await db.fetchrow(statement, referral_id=query.referral_id, **values)
        row = cast(sa.Row, found)
        # Out of scope answers exactly like missing, so a referral's existence never leaks.
        if found is None or not may_read(actor, row):
            raise NotFound(f"referral {query.referral_id} not found")
        participant = None
        standing = partner_standing_of(row) if as_partner and may_read_personal_data(actor, row) else None
        shown = shown_to(actor, row, now, standing)
        person_shown = row.participant_sealed is not None and shown.person
        if as_staff and person_shown != bool(row.access_logged):
            # The rule in Python and in SQL disagree: show nothing rather than the person unlogged.
            log.error("who is shown the participant: domain and SQL disagree", extra={"referral_id": str(row.id)})
            raise PartnernetError("the referral could not be read")
        if person_shown:
            participant = vault.unseal(row.participant_sealed)
            if not as_staff:
                await db.execute(personal_data.LOG_READ, **access_entry_values(row, actor, AccessPurpose.VIEW, now))
        warnings: list[sa.Row] = []
        if sees_duplicates(actor, row) and row.has_warnings:
            warnings = cast(list[sa.Row], await db.fetch(duplicate_store.WARNINGS_OF, referral_id=row.id))
    history = _HISTORY.decode(row.history)
    view = referral_view(
        row, participant=participant, history=history, shown=shown, consent_state=consent_state_of(row, now)
    )
    return with_duplicates(view, actor, warnings)


_HISTORY = msgspec.json.Decoder(list[HistoryEntry])


def staff_read_values(actor: Actor, now: datetime) -> dict[str, Any]:
    """READ_REFERRAL_AS_STAFF's parameters: the reader, and the access-log row's keywords that are not the
    referral's own columns (access_entry_values)."""
    return {
        "library": actor.library,
        "actor": actor.subject,
        "actor_role": actor.role.value,
        "actor_organisation": actor.library,
        "purpose": AccessPurpose.VIEW.value,
        "at": now,
    }


def partner_standing_of(row: sa.Row) -> sa.Row:
    """The partner's standing read with the referral (store/partnerships.py READ_REFERRAL_AS_PARTNER), as
    `shown_to` takes it."""
    standing = SimpleNamespace(
        status=row.partner_status, partnered=row.partnered, partnership_ended=row.partnership_ended
    )
    return cast(sa.Row, standing)


def sees_duplicates(actor: Actor, row: sa.Row) -> bool:
    """Only the library's own staff learn that the person may have another referral."""
    return actor.role is Role.STAFF and actor.library == row.library
