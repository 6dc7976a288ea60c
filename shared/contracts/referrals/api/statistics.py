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
    # Dutch calendar days, both inclusive. Whole months (the first of one to the last day of one, either end open)
    # are answered from the counters per month; any other period is counted over its referrals.
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
    """Referral figures per library and per partner (referring or receiving), within the actor's scope: operators all
    (or `municipality`), coordinators their municipality, staff their library; partners Forbidden.
    `library` narrows further. (`statistics` answers one aggregate; the overview needs the breakdown.)"""

    municipality: str | None = None
    library: str | None = None


class ReferralFigures(msgspec.Struct, frozen=True, kw_only=True):
    by_status: dict[str, int]  # ReferralStatus value → count, by current status; statuses without referrals left out
    overdue: int  # submitted, unanswered and past the library's response time now
    intakes: int  # referrals whose intake took place (recorded as held): the time to intake is measured over these
    # Median hours from submission to the moment the intake took place; None without such referrals. An intake
    # that is only planned (or was missed) is not counted. From buckets 2 % wide: within 2 % of 1 + the median.
    median_hours_to_intake: float | None = None


class LibraryReferralFigures(msgspec.Struct, frozen=True, kw_only=True):
    library: str
    figures: ReferralFigures


class PartnerReferralFigures(msgspec.Struct, frozen=True, kw_only=True):
    """Per partner, the referrals within the actor's scope in which it takes part: those it referred to a library
    and those a library referred to it (`figures` counts both; the two counts below split them)."""

    partner_id: UUID
    figures: ReferralFigures
    referred_by_partner: int = 0  # the partner referred to a library
    referred_to_partner: int = 0  # a library referred to the partner


class ReferralsOverviewStatistics(msgspec.Struct, frozen=True, kw_only=True):
    libraries: list[LibraryReferralFigures]
    partners: list[PartnerReferralFigures]
