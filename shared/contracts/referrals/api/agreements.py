"""Municipality-wide referral agreements (`rpc.referrals.record_agreement` …): the coordinator agrees with a partner
that it refers to (and receives from) every library of the municipality, without a partnership with each."""

from __future__ import annotations

import enum
from datetime import datetime
from uuid import UUID

import msgspec

from shared.contracts.vocabulary import DEFAULT_LIMIT, Cursor, Limit, Note, Slug


class AgreementStatus(enum.StrEnum):
    IN_FORCE = "in_force"
    ENDED = "ended"


class RecordReferralAgreement(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    partner_id: UUID
    note: Note | None = None


class EndReferralAgreement(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """From now on the partner takes part in no new referrals of the municipality's libraries (unless a
    partnership with one of them remains), and sees pseudonyms only on those it was part of."""

    agreement_id: UUID


class ListReferralAgreements(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    municipality: Slug | None = None  # operators name one; coordinators and staff read their own
    partner_id: UUID | None = None
    status: AgreementStatus | None = None
    cursor: Cursor | None = None
    limit: Limit = DEFAULT_LIMIT


class ReferralAgreementView(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    municipality: str
    partner_id: UUID
    status: AgreementStatus
    recorded_at: datetime
    recorded_by: str
    note: str | None = None
    ended_at: datetime | None = None
    ended_by: str | None = None
    version: int = 1


class ListReferralCounterparts(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Whom the caller may refer to now (staff: partners; a partner: libraries), by name, a page at a time."""

    cursor: Cursor | None = None
    limit: Limit = DEFAULT_LIMIT


class CounterpartBasis(enum.StrEnum):
    PARTNERSHIP = "partnership"  # an active partnership between the partner and the library
    AGREEMENT = "agreement"  # the municipality's referral agreement with the partner, in force


class ReferralCounterpart(msgspec.Struct, frozen=True, kw_only=True):
    """A party the caller may refer to: a library (for a partner) or a partner (for a library's staff)."""

    library: str | None = None
    partner_id: UUID | None = None
    name: str
    through: list[CounterpartBasis]
