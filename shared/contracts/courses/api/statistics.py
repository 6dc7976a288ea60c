"""The courses service's figures for the gateway's municipality overview (`rpc.courses.statistics`)."""

from __future__ import annotations

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
