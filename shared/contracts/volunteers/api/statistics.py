"""The volunteers service's figures for the gateway's municipality overview (`rpc.volunteers.statistics`)."""

from __future__ import annotations

from datetime import date
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


class GetVolunteerPartnerActs(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What partners did for the libraries in scope over a period (Dutch days, both included), for the overview and
    the annual report (`rpc.volunteers.partner_acts`): staff their library, coordinators their municipality,
    operators all (or `municipality`); partners Forbidden. `library` narrows further."""

    period_from: date
    period_until: date
    municipality: str | None = None
    library: str | None = None


class VolunteerPartnerActs(msgspec.Struct, frozen=True, kw_only=True):
    """One partner's acts in the period, counts only."""

    partner_id: UUID
    trainings_given: int  # sessions of its own training modules (a partner delivers them) that started in the period
    training_attendances: int  # attendance recorded as attended at those sessions
    interns_supplied: int  # its interns (a school's) whose internship ran for some of the period
    intern_minutes: int  # hours its interns worked in the period, in minutes (removed hours not counted)


class VolunteersPartnerActs(msgspec.Struct, frozen=True, kw_only=True):
    period_from: date
    period_until: date
    partners: list[VolunteerPartnerActs]  # every partner with any act in the period, by id
