"""The volunteers part of a municipality's annual report (`rpc.volunteers.annual_figures`): the volunteers and
interns who worked in a year (the Dutch calendar's) and their hours. Counts only, no personal data; the gateway
suppresses small counts before anyone sees them."""

from __future__ import annotations

from uuid import UUID

import msgspec

from shared.contracts.vocabulary import Slug, Year


class GetAnnualVolunteerFigures(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Within the actor's scope: operators `municipality` (all without it), coordinators their municipality,
    staff their library; partners Forbidden. `library` narrows further."""

    year: Year
    municipality: str | None = None
    library: Slug | None = None


class VolunteerYearFigures(msgspec.Struct, frozen=True, kw_only=True):
    """Hours logged (not removed) for a day in the year, per library (`library` set), per partner that supplied
    the volunteer or intern (`partner_id` set) or over the whole scope (neither)."""

    library: str | None = None
    partner_id: UUID | None = None
    volunteers: int  # volunteers (not interns) with hours in the year
    interns: int  # interns with hours in the year
    volunteer_minutes: int
    intern_minutes: int


class AnnualVolunteerFigures(msgspec.Struct, frozen=True, kw_only=True):
    year: int
    figures: list[VolunteerYearFigures]
