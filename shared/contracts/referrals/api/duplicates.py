"""Possible duplicate referrals found by the blind index (`rpc.referrals.list_duplicates`, `.decide_duplicate`)."""

from __future__ import annotations

import enum
from datetime import datetime
from uuid import UUID

import msgspec

from shared.contracts.vocabulary import DEFAULT_LIMIT, Cursor, ExpectedVersion, Limit


class DuplicateDecision(enum.StrEnum):
    OPEN = "open"  # flagged, nobody decided yet
    LINKED = "linked"  # the same person: the referrals are linked, both stay
    SEPARATE = "separate"  # not the same person, or to be kept apart: the warning is dismissed


class DuplicateStep(enum.StrEnum):
    LINK = "link"
    SEPARATE = "separate"


class PossibleDuplicate(msgspec.Struct, frozen=True, kw_only=True):
    """Another referral that may be of the same participant, as the referral's own view shows it."""

    warning_id: UUID
    referral_id: UUID  # the other referral
    library: str  # the other referral's library: whom to call about it
    similarity: float  # 1.0 for the same name and birth date; less for a near match of the name
    exact: bool
    decision: DuplicateDecision
    flagged_at: datetime
    version: int


class DuplicateWarningView(msgspec.Struct, frozen=True, kw_only=True):
    """ "Possible duplicate of referral X": `referral_id` (of the caller's library) may be the same participant
    as `duplicate_of`, an open referral of the municipality submitted before it. No name, no digest."""

    id: UUID
    referral_id: UUID
    duplicate_of: UUID
    duplicate_library: str
    library: str
    similarity: float
    exact: bool
    decision: DuplicateDecision
    flagged_at: datetime
    decided_at: datetime | None = None
    decided_by: str | None = None
    version: int = 1


class ListDuplicateWarnings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The caller's library's warnings, newest first (staff only); `decision` narrows, e.g. to the open ones."""

    decision: DuplicateDecision | None = None
    referral_id: UUID | None = None
    cursor: Cursor | None = None
    limit: Limit = DEFAULT_LIMIT


class DuplicateDecisionRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    expected_version: ExpectedVersion | None = None


class DecideDuplicate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Link the two referrals (the same person; both stay), or keep them separate (the warning is dismissed)."""

    warning_id: UUID
    step: DuplicateStep
    expected_version: ExpectedVersion | None = None
