"""Events of tailored education (maatwerkeducatie, issue 24): a referrer asks a library for a course for its clients,
and the library plans one (its places reserved for that referrer's referrals first) or declines. Each names the
referrer as `referring_partner_id`, so the request's state reaches that partner's feed like its referrals' do."""

from __future__ import annotations

from datetime import date
from typing import ClassVar
from uuid import UUID

from shared.contracts import EventData, register
from shared.contracts.vocabulary import SkillArea


class _EducationRequestEvent(EventData, frozen=True, kw_only=True):
    service: ClassVar[str] = "courses"
    request_id: UUID
    library: str
    municipality: str
    referring_partner_id: UUID


@register
class EducationRequested(_EducationRequestEvent, frozen=True, kw_only=True):
    type: ClassVar[str] = "education_request.submitted"
    skill_area: SkillArea
    clients: int
    preferred_from: date
    preferred_until: date


@register
class EducationRequestPlanned(_EducationRequestEvent, frozen=True, kw_only=True):
    type: ClassVar[str] = "education_request.planned"
    course_id: UUID
    reserved_places: int
    reserved_until: date | None = None  # the last day the places are kept; absent: until the referrer releases them


@register
class EducationRequestDeclined(_EducationRequestEvent, frozen=True, kw_only=True):
    type: ClassVar[str] = "education_request.declined"


@register
class EducationRequestReservationEnded(_EducationRequestEvent, frozen=True, kw_only=True):
    """The places kept for the referrer's referrals on the course planned for its request are given up (`reason`:
    a ReservationEnd value): `places_released` of them were unused in the course's sessions still to come, and
    `promoted` people on those sessions' waiting lists got a place at once."""

    type: ClassVar[str] = "education_request.reservation_ended"
    course_id: UUID
    reason: str
    places_released: int
    promoted: int
