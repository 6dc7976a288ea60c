"""A participant's personal data and their rights: who read it (the access log), the export (right of
access), erasure, and re-sealing it with the newest key.
"""

from __future__ import annotations

import enum
from datetime import datetime
from uuid import UUID

import msgspec

from shared.contracts.referrals.api.referrals import ReferralView
from shared.contracts.vocabulary import DEFAULT_LIMIT, Cursor, Limit


class ListAccessLog(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    referral_id: UUID | None = None
    cursor: Cursor | None = None
    limit: Limit = DEFAULT_LIMIT


class ExportParticipantData(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    referral_id: UUID


class EraseParticipantData(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    referral_id: UUID


class RotateEncryption(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Re-seal every participant's data with the newest key, so older keys can be retired (operators)."""


class AccessPurpose(enum.StrEnum):
    VIEW = "view"
    EXPORT = "export"
    # Not reads: where the parties' access to the person ended, so the log tells the whole story.
    CONSENT_REVOKED = "consent_revoked"
    CONSENT_EXPIRED = "consent_expired"


class AccessLogEntry(msgspec.Struct, frozen=True, kw_only=True):
    """Who read a participant's personal data, when, and why."""

    id: int
    referral_id: UUID
    participant_pseudonym: str
    library: str
    actor: str
    actor_role: str
    actor_organisation: str | None
    purpose: AccessPurpose
    at: datetime


class ParticipantExport(msgspec.Struct, frozen=True, kw_only=True):
    """Everything held about the participant of one referral (the right of access)."""

    referral: ReferralView
    access_log: list[AccessLogEntry]
    exported_at: datetime


class RotationResult(msgspec.Struct, frozen=True, kw_only=True):
    resealed: int
