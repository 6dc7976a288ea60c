"""The volunteers service's figures for the gateway's municipality overview (`rpc.volunteers.statistics`)."""

from __future__ import annotations

from uuid import UUID

import msgspec


class GetVolunteersStatistics(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Volunteer figures within the actor's scope: operators all (or `municipality`), coordinators their
    municipality, staff their library; partners Forbidden. `library` narrows further."""

    municipality: str | None = None
    library: str | None = None


class VolunteerFigures(msgspec.Struct, frozen=True, kw_only=True):
    active_volunteers: int  # volunteers (interns not included) whose involvement is active now
    open_vacancies: int  # published vacancies not yet filled or closed
    active_interns: int = 0  # interns whose internship is active now (counted here only)


class LibraryVolunteerFigures(msgspec.Struct, frozen=True, kw_only=True):
    library: str
    figures: VolunteerFigures


class PartnerVolunteerFigures(msgspec.Struct, frozen=True, kw_only=True):
    """Per partner that supplies volunteers or interns (volunteer organisations, schools), within scope."""

    partner_id: UUID
    figures: VolunteerFigures


class VolunteersStatistics(msgspec.Struct, frozen=True, kw_only=True):
    libraries: list[LibraryVolunteerFigures]
    partners: list[PartnerVolunteerFigures]
