"""The courses part of a municipality's annual report (`rpc.courses.annual_figures`): courses held and their
attendance in a year (the Dutch calendar's), and the training bought against the year's budget. Counts and amounts
only, no personal data; the gateway suppresses small counts before anyone sees them."""

from __future__ import annotations

from uuid import UUID

import msgspec

from shared.contracts.vocabulary import Slug, Year


class GetAnnualCourseFigures(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Within the actor's scope: operators `municipality` (all without it), coordinators their municipality,
    staff their library; partners Forbidden. `library` narrows further."""

    year: Year
    municipality: str | None = None
    library: Slug | None = None


class CourseYearFigures(msgspec.Struct, frozen=True, kw_only=True):
    """Per library (`library` set: the course's library), per partner offering courses (`partner_id` set) or over
    the whole scope (neither): the groups (sessions, not cancelled, of courses not cancelled) whose first meeting
    was in the year, and what happened in them."""

    library: str | None = None
    partner_id: UUID | None = None
    courses: int  # courses with such a group
    groups: int
    places: int  # the groups' capacity
    enrolled: int  # confirmed enrolments in them now
    attended: int  # of these, present at one meeting or more
    present: int  # attendance marks: present
    registered: int  # attendance marks recorded (present or absent)


class PurchaseYearFigures(msgspec.Struct, frozen=True, kw_only=True):
    """Training bought on the year's budget (a purchase's budget year). Per library (`library` set, with its
    budget), per providing partner (`partner_id` set; budget 0) or over the whole scope (neither)."""

    library: str | None = None
    partner_id: UUID | None = None
    budget_cents: int
    committed_cents: int  # approved or ordered, not yet invoiced
    spent_cents: int  # invoiced or closed
    purchases: int  # approved or further along, cancelled and rejected ones not counted
    delivered: int  # of these, delivered
    participants: int  # who took part in the delivered training, as the delivery recorded


class AnnualCourseFigures(msgspec.Struct, frozen=True, kw_only=True):
    year: int
    courses: list[CourseYearFigures]
    purchases: list[PurchaseYearFigures]
