"""A participant's personal data at rest: sealed and pseudonymised by the vault, erased on request or after
retention, and every read of it in the access log (`personal_data_reads`)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.ext.asyncio import AsyncSession

from services.referrals.domain.consent import ACCEPTED_ONWARDS, ENDED
from services.referrals.store import (
    ACCESS_ENTRY_COLUMNS,
    history_json,
    personal_data_reads,
    referral_history,
    referrals,
)
from services.referrals.store.duplicates import duplicate_warnings, warnings_of
from shared.clock import LOCAL_TIME
from shared.contracts.referrals.api.referrals import ConsentState, Participant
from shared.contracts.referrals.events import SharedData
from shared.db import Prepared
from shared.personal_data import Sealer


class ParticipantVault:
    """Seals participants' personal data at rest and derives their pseudonyms; the keys never leave this service.

    `encryption_keys` is one Fernet key or several, comma-separated, newest first: data is sealed with
    the newest and opened with any of them, so a new key is introduced before `rotate` re-seals old data
    and the old key is retired.
    """

    def __init__(self, encryption_keys: str, pseudonym_key: str) -> None:
        self._sealer = Sealer(encryption_keys)
        self._pseudonym_key = pseudonym_key.encode()

    def seal(self, participant: Participant) -> bytes:
        return self._sealer.seal(participant)

    def unseal(self, sealed: bytes) -> Participant:
        return self._sealer.unseal(sealed, Participant)

    def reseal(self, sealed: bytes) -> bytes:
        """The same data sealed with the newest key."""
        return self._sealer.reseal(sealed)

    def pseudonym(self, referral_id: UUID) -> str:
        # Keyed, so a pseudonym cannot be traced back without the key; short enough to read out on the phone.
        digest = hmac.new(self._pseudonym_key, referral_id.bytes, hashlib.sha256).digest()
        return "P-" + base64.b32encode(digest[:6]).decode().rstrip("=")


ERASED_TEXT_JSON = '"—"'  # what an erased free text reads as where a text must stay (the consent's purpose)


async def erase_personal_data(session: AsyncSession, referral_id: UUID) -> None:
    """Everything that may say who the participant is: the sealed data and free text about them."""
    # The consent's purpose and the consent as first recorded are free text as well: what it was for goes, the
    # parties, what was shared and until when (no one's name) stay for the history of who saw what.
    await session.execute(
        referrals.update()
        .where(referrals.c.id == referral_id)
        .values(
            participant_sealed=None,
            reason=None,
            consent_recorded_as=None,
            consent=sa.func.jsonb_set(
                referrals.c.consent, sa.literal(["purpose"], ARRAY(sa.Text)), sa.cast(ERASED_TEXT_JSON, JSONB)
            ),
        )
    )
    # A line whose note went says so (`note_erased`), so the history reads as erased, not as never written.
    h = referral_history
    await session.execute(
        h.update()
        .where(h.c.referral_id == referral_id, h.c.note.is_not(None))
        .values(note=None, details=h.c.details.op("||")(sa.cast({"note_erased": True}, JSONB)))
    )


# One read of a participant's personal data, in the access log (keywords: queries/referral.access_entry_values).
LOG_READ = Prepared(
    "INSERT personal_data_reads",
    personal_data_reads.insert().values({column: sa.bindparam(column) for column in ACCESS_ENTRY_COLUMNS}).inline(),
)


async def log_personal_data_read(session: AsyncSession, **values: Any) -> None:
    await session.execute(personal_data_reads.insert().values(**values))


async def reads_of(session: AsyncSession, referral_id: UUID) -> list[sa.Row]:
    """The access log of one referral, oldest first."""
    r = personal_data_reads
    return list((await session.execute(sa.select(r).where(r.c.referral_id == referral_id).order_by(r.c.id))).all())


def person_shown_to_staff(library: sa.ColumnElement[str], at: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
    """Whether the staff of `library` are shown the participant of a `referrals` row at `at`: the rule of
    domain/consent.py `disclosure` (`.person`) for the library's staff, with the sealed data still there, written
    in SQL for the statement that logs the read (READ_REFERRAL_AS_STAFF). tests/services/referrals/
    test_staff_disclosure_sql.py holds the two to the same answer in every case; a change to one is a change to both.
    """
    r = referrals
    local_day = sa.cast(sa.func.timezone(LOCAL_TIME.key, at), sa.Date)  # domain: clock.local_date
    kept = r.c.consent_state
    consent_ended = sa.or_(
        kept == sa.any_(sa.literal([state.value for state in ENDED], ARRAY(sa.Text))),
        sa.and_(kept == ConsentState.GIVEN.value, r.c.consent_valid_until < local_day),  # lapsed: expired now
    )
    library_refers = r.c.receiving_partner_id.is_not(None)  # the library's side is the referring one
    without_partner = sa.and_(r.c.referring_partner_id.is_(None), r.c.receiving_partner_id.is_(None))
    accepted_and_shared = sa.and_(  # the receiving side: from its acceptance on, where the consent shares it
        r.c.status == sa.any_(sa.literal(sorted(status.value for status in ACCEPTED_ONWARDS), ARRAY(sa.Text))),
        r.c.consent["shares"].has_key(SharedData.CONTACT_DETAILS.value),
    )
    return sa.and_(
        r.c.library == library,
        r.c.participant_sealed.is_not(None),
        sa.not_(consent_ended),
        sa.or_(library_refers, without_partner, accepted_and_shared),
    )


def _read_referral_as_staff() -> sa.Select[Any]:
    r = referrals
    referral_id = sa.bindparam("referral_id", type_=PgUUID(as_uuid=True))
    at = sa.bindparam("at", type_=sa.DateTime(timezone=True))
    reader = [sa.bindparam(name, type_=sa.Text) for name in ("actor", "actor_role", "actor_organisation", "purpose")]
    logged = (
        personal_data_reads.insert()
        .from_select(
            list(ACCESS_ENTRY_COLUMNS),
            sa.select(r.c.id, r.c.library, r.c.participant_pseudonym, *reader, at).where(
                r.c.id == referral_id, person_shown_to_staff(sa.bindparam("library", type_=sa.Text), at)
            ),
        )
        .returning(personal_data_reads.c.id)
        .cte("access_logged")
    )
    return sa.select(
        r,
        history_json(),
        sa.select(sa.func.count()).select_from(logged).scalar_subquery().label("access_logged"),
        sa.exists().where(warnings_of(r.c.id)).select_from(duplicate_warnings).label("has_warnings"),
    ).where(r.c.id == referral_id)


# The staff's read of a referral in one round trip: the referral and its history, whether it has duplicate
# warnings (read in a second statement only then), and the access-log row of the read written by the same
# statement where the staff are shown the person (keywords: access_entry_values in queries/referral.py, less the
# referral's own columns, and `library`: the reader's). PostgreSQL runs the insert whether or not the query reads
# it: the read that shows a participant and its log are one. `access_logged` says whether it wrote the row.
READ_REFERRAL_AS_STAFF = Prepared("SELECT referral, INSERT personal_data_reads", _read_referral_as_staff())
