"""The participant's own page (`rpc.referrals.issue_participant_code`, `.open_participant_page` …) and the
requests to change or cancel it sends the library.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec

from shared.contracts.referrals.api.referrals import ReferralStatus
from shared.contracts.vocabulary import DEFAULT_LIMIT, ExpectedVersion, Limit, Phone

ParticipantCodeText = Annotated[str, msgspec.Meta(min_length=1, max_length=40)]


class ParticipantChangeKind(enum.StrEnum):
    RESCHEDULE = "reschedule"  # another day or time, please
    CANCEL = "cancel"  # I will not come


class ChangeRequestStatus(enum.StrEnum):
    OPEN = "open"
    HANDLED = "handled"


class ParticipantCodeRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The library's phone number the page gives for changes; without one, the intake's contact person's."""

    contact_phone: Phone | None = None


class IssueParticipantCode(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A new personal code for the referral's participant (staff of its library); an earlier code stops working."""

    referral_id: UUID
    contact_phone: Phone | None = None


class ParticipantCodeIssued(msgspec.Struct, frozen=True, kw_only=True):
    """The code in clear, this once: only its keyed hash is kept. `path` is the page's address on the gateway."""

    referral_id: UUID
    code: str
    path: str
    issued_at: datetime
    contact_phone: str | None = None


class RevokeParticipantCode(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    referral_id: UUID


class ParticipantCodeRevoked(msgspec.Struct, frozen=True, kw_only=True):
    referral_id: UUID
    revoked: bool  # False: there was no code


class OpenParticipantPage(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The code is the credential; the actor of the call is the gateway's anonymous participant."""

    code: ParticipantCodeText


class ParticipantPage(msgspec.Struct, frozen=True, kw_only=True):
    """What the participant's page shows: their own referral only, and no name at all (not even their own).

    `works` is False once the referral is closed, expired or anonymised: the code expired with it, and
    nothing else is said.
    """

    works: bool
    receiver_kind: str | None = None  # "library" or "partner": whom they were referred to
    receiver_name: str | None = None
    status: ReferralStatus | None = None
    intake_at: datetime | None = None
    place: str | None = None
    meet_with: str | None = None  # the person who receives them at the intake
    contact_phone: str | None = None  # whom to call to change or cancel
    change_requested: ParticipantChangeKind | None = None  # a request already waiting for the library


class RequestParticipantChange(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    code: ParticipantCodeText
    kind: ParticipantChangeKind


class ParticipantChangeRecorded(msgspec.Struct, frozen=True, kw_only=True):
    kind: ParticipantChangeKind
    requested_at: datetime
    already_requested: bool  # the same request was waiting already: nothing new recorded


class ListChangeRequests(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Participants' requests to change or cancel, of the caller's library (staff), newest first."""

    status: ChangeRequestStatus | None = None
    referral_id: UUID | None = None
    cursor: str | None = None
    limit: Limit = DEFAULT_LIMIT


class ChangeRequestView(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    referral_id: UUID
    library: str
    participant_pseudonym: str
    kind: ParticipantChangeKind
    status: ChangeRequestStatus
    requested_at: datetime
    handled_at: datetime | None = None
    handled_by: str | None = None
    version: int = 1


class ChangeRequestStep(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    expected_version: ExpectedVersion | None = None


class HandleChangeRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The library called the participant back (or otherwise dealt with the request)."""

    request_id: UUID
    expected_version: ExpectedVersion | None = None
