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


@register
class EducationRequestDeclined(_EducationRequestEvent, frozen=True, kw_only=True):
    type: ClassVar[str] = "education_request.declined"
