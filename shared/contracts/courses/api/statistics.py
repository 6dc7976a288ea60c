"""The courses service's figures for the gateway's municipality overview (`rpc.courses.statistics`)."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import msgspec


class GetCoursesStatistics(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Course and purchasing figures within the actor's scope: operators all (or `municipality`),
    coordinators their municipality, staff their library; partners Forbidden. `library` narrows further;
    budgets are those of `year` (the current year by the service's clock when absent)."""

    municipality: str | None = None
    library: str | None = None
    year: int | None = None


class CourseFigures(msgspec.Struct, frozen=True, kw_only=True):
    courses: int  # published, not cancelled, not yet over
    places: int  # over the sessions still to come
    places_free: int
    waiting_list: int  # waitlisted enrolments
    education_requests: int = 0  # referrers' requests for tailored education awaiting the library's answer


class PurchaseFigures(msgspec.Struct, frozen=True, kw_only=True):
    budget_cents: int
    committed_cents: int  # approved or ordered, not yet invoiced
    spent_cents: int  # invoiced or closed


class LibraryCourseFigures(msgspec.Struct, frozen=True, kw_only=True):
    library: str
    courses: CourseFigures
    purchases: PurchaseFigures


class PartnerCourseFigures(msgspec.Struct, frozen=True, kw_only=True):
    """Courses the partner offers, and what the libraries in scope buy from it."""

    partner_id: UUID
    courses: CourseFigures
    purchases: PurchaseFigures


class CoursesStatistics(msgspec.Struct, frozen=True, kw_only=True):
    libraries: list[LibraryCourseFigures]
    partners: list[PartnerCourseFigures]


class GetCoursesPartnerActs(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What partners did in the libraries' offer in scope over a period (Dutch days, both included), for the overview
    and the annual report (`rpc.courses.partner_acts`): staff their library, coordinators their municipality,
    operators all (or `municipality`); partners Forbidden. `library` narrows further."""

    period_from: date
    period_until: date
    municipality: str | None = None
    library: str | None = None


class CoursePartnerActs(msgspec.Struct, frozen=True, kw_only=True):
    """One partner's acts in the period, counts only."""

    partner_id: UUID
    partner_run_courses: int  # its courses hosted at a library with a session (not cancelled) starting in the period
    partner_run_enrolments: int  # confirmed places in those sessions
    education_requests: int  # its requests for tailored education made in the period
    education_requests_planned: int  # of these, a course planned for it
    education_requests_declined: int  # of these, declined
    education_places_taken: int  # confirmed places of its referrals on the courses planned for these requests


class CoursesPartnerActs(msgspec.Struct, frozen=True, kw_only=True):
    period_from: date
    period_until: date
    partners: list[CoursePartnerActs]  # every partner with any act in the period, by id
