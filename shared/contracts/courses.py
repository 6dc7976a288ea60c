"""Contracts of the courses service: its events, and the requests it answers over NATS."""

from __future__ import annotations

from typing import ClassVar
from uuid import UUID

from shared.contracts import EventData, register
from shared.contracts.referrals import SkillArea

# --- events -------------------------------------------------------------------------------------


@register
class CoursePublished(EventData, frozen=True, kw_only=True):
    """A course in the municipality's offer; `volunteers_needed` > 0 opens assignments in the volunteers service."""

    service: ClassVar[str] = "courses"
    type: ClassVar[str] = "course.published"
    course_id: UUID
    municipality: str
    library: str | None  # the library that offers it or hosts it; None for a partner's course held elsewhere
    offered_by_partner_id: UUID | None
    title: str
    skill_area: SkillArea
    volunteers_needed: int = 0


@register
class EnrolmentConfirmed(EventData, frozen=True, kw_only=True):
    """Names the referral it came from, so the referrals service can move that referral to enrolled."""

    service: ClassVar[str] = "courses"
    type: ClassVar[str] = "enrolment.confirmed"
    enrolment_id: UUID
    course_id: UUID
    session_id: UUID | None
    participant_pseudonym: str
    referral_id: UUID | None
    municipality: str
    library: str | None
    offered_by_partner_id: UUID | None


@register
class PurchaseDelivered(EventData, frozen=True, kw_only=True):
    """A bought programme was delivered; one for volunteers becomes a training module in the volunteers service."""

    service: ClassVar[str] = "courses"
    type: ClassVar[str] = "purchase.delivered"
    purchase_id: UUID
    library: str
    municipality: str
    title: str
    provider_partner_id: UUID | None
    for_volunteers: bool
