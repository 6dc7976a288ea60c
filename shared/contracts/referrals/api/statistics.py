"""Referral figures: one aggregate (`rpc.referrals.statistics`) and the breakdown per library and partner for
the gateway's municipality overview (`rpc.referrals.overview_statistics`). Counts only: they keep working
after personal data is erased.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

import msgspec

from shared.contracts.vocabulary import Slug


class GetReferralStatistics(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    library: Slug | None = None
    submitted_from: date | None = None
    submitted_until: date | None = None


class ReferralStatistics(msgspec.Struct, frozen=True, kw_only=True):
    """Counts only: they keep working after personal data is erased."""

    total: int
    by_status: dict[str, int]
    by_direction: dict[str, int]
    by_need_area: dict[str, int]
    overdue_now: int
    answered_late: int
    completed_with_course_finished: int
    completed_moved_to_work: int
    completed_further_education: int
    anonymised: int


class GetReferralsOverviewStatistics(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Referral figures per library and per referring partner, within the actor's scope: operators all
    (or `municipality`), coordinators their municipality, staff their library; partners Forbidden.
    `library` narrows further. (`statistics` answers one aggregate; the overview needs the breakdown.)"""

    municipality: str | None = None
    library: str | None = None


class ReferralFigures(msgspec.Struct, frozen=True, kw_only=True):
    by_status: dict[str, int]  # ReferralStatus value → count; statuses without referrals may be left out
    overdue: int  # open now and past the library's response time
    intakes: int  # referrals that got an intake planned: the time to intake is measured over these
    median_hours_to_intake: float | None = None  # from submission to the intake being planned


class LibraryReferralFigures(msgspec.Struct, frozen=True, kw_only=True):
    library: str
    figures: ReferralFigures


class PartnerReferralFigures(msgspec.Struct, frozen=True, kw_only=True):
    """Per referring partner, counting only the referrals within the actor's scope."""

    partner_id: UUID
    figures: ReferralFigures


class ReferralsOverviewStatistics(msgspec.Struct, frozen=True, kw_only=True):
    libraries: list[LibraryReferralFigures]
    partners: list[PartnerReferralFigures]
