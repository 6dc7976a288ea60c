"""Contracts of the volunteers service: its events, and the requests it answers over NATS."""

from __future__ import annotations

from typing import ClassVar
from uuid import UUID

from shared.contracts import EventData, register

# --- events -------------------------------------------------------------------------------------


@register
class VacancyPublished(EventData, frozen=True, kw_only=True):
    """Volunteer organisations that partner with the library see it in their feed."""

    service: ClassVar[str] = "volunteers"
    type: ClassVar[str] = "vacancy.published"
    vacancy_id: UUID
    library: str
    municipality: str
    title: str
    hours_per_week: int | None = None
    qualifications_needed: list[str] = []
