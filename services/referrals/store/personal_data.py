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
from sqlalchemy.ext.asyncio import AsyncSession

from services.referrals.store import ACCESS_ENTRY_COLUMNS, personal_data_reads, referral_history, referrals
from shared.contracts.referrals.api.referrals import Participant
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
