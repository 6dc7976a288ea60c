"""The participant's own page (`rpc.referrals.issue_participant_code`, `.open_participant_page` …) and the
requests to change or cancel it sends the library.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Annotated
from uuid import UUID

import msgspec

from shared.contracts.referrals.api.referrals import ReferralStatus
from shared.contracts.vocabulary import DEFAULT_LIMIT, Cursor, ExpectedVersion, Limit, Phone

ParticipantCodeText = Annotated[str, msgspec.Meta(min_length=1, max_length=40)]


class ParticipantChangeKind(enum.StrEnum):
    RESCHEDULE = "reschedule"  # another day or time, please
    CANCEL = "cancel"  # I will not come
    # The participant's rights, asked on their page; the library's staff carry them out (export, erase, revoke).
    EXPORT = "export"  # send me everything you hold about me
    ERASURE = "erasure"  # erase my data
    REVOCATION = "revocation"  # I withdraw my consent: stop sharing my data


# Asked of every library of the municipality that holds the person (found through the blind index), not only of
# the referral's own: the person has the right with each of them. A revocation is about this referral's consent.
RIGHTS = frozenset({ParticipantChangeKind.EXPORT, ParticipantChangeKind.ERASURE, ParticipantChangeKind.REVOCATION})
ACROSS_LIBRARIES = frozenset({ParticipantChangeKind.EXPORT, ParticipantChangeKind.ERASURE})


class HeldData(enum.StrEnum):
    """What the library holds about the participant, as their page lists it (never the data itself)."""

    NAME = "name"
    BIRTH_DATE = "birth_date"
    PHONE = "phone"
    EMAIL = "email"
    REASON = "reason"  # why they were referred (free text)
    NEEDS = "needs"  # what they want to learn
    APPOINTMENT = "appointment"
    OUTCOME = "outcome"
    HISTORY = "history"  # the steps of the referral


class PageParty(msgspec.Struct, frozen=True, kw_only=True):
    """A party that receives the participant's data, as their page names it."""

    kind: str  # "library" or "partner"
    name: str | None = None
    role: str  # "library", "referring" or "receiving" (shared/contracts/referrals/api/person.py PartyRole)
    sees: bool = True  # shown who the person is now (consent in force, the partner and its partnership active)
    since: datetime | None = None  # not shown any more since then (consent ended, partner or partnership stopped)


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

    It works for as long as the library holds their data: while the referral is open (their appointment, a
    change to ask for) and after it closed (what is held, who sees it, until when; their rights), until the data
    is erased on request or by retention. Then `works` is False and `erased_at` says when; nothing else is said.
    """

    works: bool
    erased_at: datetime | None = None
    closed_at: datetime | None = None  # the referral is closed: no appointment to change, their rights remain
    receiver_kind: str | None = None  # "library" or "partner": whom they were referred to
    receiver_name: str | None = None
    status: ReferralStatus | None = None
    intake_at: datetime | None = None
    place: str | None = None
    meet_with: str | None = None  # the person who receives them at the intake
    contact_phone: str | None = None  # whom to call to change or cancel
    change_requested: ParticipantChangeKind | None = None  # a change (reschedule, cancel) waiting for the library
    # What is held about them, who receives it, and until when; and the rights they asked for that are waiting.
    held: list[HeldData] = []
    parties: list[PageParty] = []
    consent_state: str | None = None  # "given", "revoked" or "expired" (ConsentState)
    shared_until: date | None = None  # the last day of their consent
    kept_until: datetime | None = None  # when the data is erased (set once the referral is closed)
    retention_days: int | None = None  # days the data is kept after the referral closes
    reads: int = 0  # how often someone read their data (the access log)
    rights_requested: list[ParticipantChangeKind] = []


class RequestParticipantChange(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    code: ParticipantCodeText
    kind: ParticipantChangeKind


class ParticipantChangeRecorded(msgspec.Struct, frozen=True, kw_only=True):
    kind: ParticipantChangeKind
    requested_at: datetime
    already_requested: bool  # the same request was waiting already: nothing new recorded
    libraries: int = 1  # how many libraries the request went to (an export or erasure: each that holds them)


class ListChangeRequests(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Participants' requests to change or cancel, of the caller's library (staff), newest first."""

    status: ChangeRequestStatus | None = None
    referral_id: UUID | None = None
    cursor: Cursor | None = None
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
    handled_by_erasure: bool = False  # closed by the erasure of the person's data, not dealt with one by one


class ChangeRequestStep(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    expected_version: ExpectedVersion | None = None


class HandleChangeRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The library called the participant back (or otherwise dealt with the request)."""

    request_id: UUID
    expected_version: ExpectedVersion | None = None
