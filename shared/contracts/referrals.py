"""Contracts of the referrals service: its events, and the requests it answers over NATS.

Events carry the participant's pseudonym only; personal data never leaves the referrals service.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Annotated, ClassVar
from uuid import UUID

import msgspec

from shared.contracts import EventData, register
from shared.contracts.partners import Name, Slug


class SkillArea(enum.StrEnum):
    LANGUAGE = "language"
    DIGITAL = "digital"
    NUMERACY = "numeracy"
    JOB_SEEKING = "job_seeking"


class ContactChannel(enum.StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    POST = "post"
    IN_PERSON = "in_person"
    VIA_REFERRER = "via_referrer"


class ReferralStatus(enum.StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    INTAKE_PLANNED = "intake_planned"
    ENROLLED = "enrolled"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"
    NO_SHOW = "no_show"
    EXPIRED = "expired"


class Need(msgspec.Struct, frozen=True, kw_only=True):
    area: SkillArea
    level: Annotated[str, msgspec.Meta(max_length=20)] | None = None  # e.g. "1F" or "A2", where known


# --- events -------------------------------------------------------------------------------------


@register
class ReferralSubmitted(EventData, frozen=True, kw_only=True):
    service: ClassVar[str] = "referrals"
    type: ClassVar[str] = "referral.submitted"
    referral_id: UUID
    participant_pseudonym: str
    referring_partner_id: UUID
    library: str
    municipality: str
    needs: list[Need]
    submitted_at: datetime


# --- requests (subjects `rpc.referrals.<operation>`) --------------------------------------------

Short = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class Participant(msgspec.Struct, frozen=True, kw_only=True):
    """Personal data: stored encrypted in the referrals service, never in an event, log or trace."""

    name: Name
    birth_date: date | None = None
    phone: Annotated[str, msgspec.Meta(max_length=40)] | None = None
    email: Annotated[str, msgspec.Meta(max_length=200)] | None = None


class ContactPerson(msgspec.Struct, frozen=True, kw_only=True):
    name: Name
    phone: Annotated[str, msgspec.Meta(max_length=40)] | None = None
    email: Annotated[str, msgspec.Meta(max_length=200)] | None = None


AwareDatetime = Annotated[datetime, msgspec.Meta(tz=True, description="with a time zone")]


class Consent(msgspec.Struct, frozen=True, kw_only=True):
    given_at: AwareDatetime
    given_to: Short  # the organisation the participant gave consent to
    purpose: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    valid_until: date


class SubmitReferral(msgspec.Struct, frozen=True, kw_only=True):
    library: Slug
    referring_partner_id: UUID
    contact_person: ContactPerson
    participant: Participant
    needs: Annotated[list[Need], msgspec.Meta(min_length=1)]
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]
    preferred_channel: ContactChannel
    consent: Consent


class GetReferral(msgspec.Struct, frozen=True, kw_only=True):
    referral_id: UUID


class ReferralView(msgspec.Struct, frozen=True, kw_only=True):
    """What staff of the receiving library and the referring partner see of a referral."""

    id: UUID
    status: ReferralStatus
    library: str
    municipality: str
    referring_partner_id: UUID
    participant_pseudonym: str
    needs: list[Need]
    reason: str
    preferred_channel: ContactChannel
    contact_person: ContactPerson
    consent: Consent
    submitted_at: datetime
    participant: Participant | None = None  # only for staff of the receiving library
