"""The combined overview for coordinators (staff: their library), as tables and bar charts: referrals by status
per library, per partner and per month, course occupancy, volunteer numbers and budget use."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from typing import Any

from litestar import Controller, Response, get
from litestar.di import NamedDependency

from gateway.console.charts import Chart, stacked
from gateway.console.session import Visitor
from gateway.console.views import Formats, page
from gateway.dependencies import SlugQuery
from gateway.overview import Overview, gather_overview
from shared.clock import LOCAL_TIME
from shared.contracts.referrals.api import operations as ops
from shared.contracts.referrals.api.referrals import ReferralStatus
from shared.contracts.referrals.api.statistics import GetReferralStatistics
from shared.rpc import RpcClient
from shared.tenancy import Actor, Role

MONTHS = 6


def month_starts(today: date, count: int) -> list[date]:
    """The first days of the last `count` months, oldest first, this month included."""
    first = today.replace(day=1)
    starts = [first]
    for _ in range(count - 1):
        first = (first - timedelta(days=1)).replace(day=1)
        starts.append(first)
    return list(reversed(starts))


def month_end(start: date) -> date:
    return ((start + timedelta(days=32)).replace(day=1)) - timedelta(days=1)


async def referrals_per_month(
    rpc: RpcClient, actor: Actor, library: str | None, starts: list[date]
) -> list[tuple[date, dict[str, int] | None]]:
    async def one(start: date) -> dict[str, int] | None:
        query = GetReferralStatistics(library=library, submitted_from=start, submitted_until=month_end(start))
        try:
            found = await rpc.call(ops.REFERRAL_STATISTICS, actor, query)
        except Exception:  # one month missing leaves a gap, not a failed page
            return None
        return found.by_status

    return list(zip(starts, await asyncio.gather(*(one(start) for start in starts)), strict=True))


def charts_of(visitor: Visitor, overview: Overview, months: list[tuple[date, dict[str, int] | None]]) -> list[Chart]:
    t = visitor.t
    formats = Formats(visitor.lang)
    money = formats.money
    statuses = [(status.value, t(f"status.{status.value}")) for status in ReferralStatus]
    libraries = overview.libraries
    return [
        stacked(
            "referrals-by-library",
            t("chart.referrals_by_library"),
            [(lib.name or lib.library, lib.referrals.by_status if lib.referrals else {}) for lib in libraries],
            statuses,
        ),
        stacked(
            "referrals-by-partner",
            t("chart.referrals_by_partner"),
            [
                (partner.name or str(partner.partner_id)[:8], partner.referrals.by_status)
                for partner in overview.partners
                if partner.referrals and sum(partner.referrals.by_status.values())
            ],
            statuses,
        ),
        stacked(
            "referrals-by-month",
            t("chart.referrals_by_month"),
            [(formats.month(start), counts or {}) for start, counts in months],
            statuses,
        ),
        stacked(
            "course-occupancy",
            t("chart.course_occupancy"),
            [
                (
                    lib.name or lib.library,
                    {
                        "taken": lib.courses.places - lib.courses.places_free,
                        "free": lib.courses.places_free,
                        "waiting": lib.courses.waiting_list,
                    }
                    if lib.courses
                    else {},
                )
                for lib in libraries
            ],
            [
                ("taken", t("courses.places_taken")),
                ("free", t("courses.places_free")),
                ("waiting", t("courses.waiting")),
            ],
        ),
        stacked(
            "volunteer-numbers",
            t("chart.volunteer_numbers"),
            [
                (
                    lib.name or lib.library,
                    {
                        "volunteers": lib.volunteers.active_volunteers,
                        "interns": lib.volunteers.active_interns,
                        "vacancies": lib.volunteers.open_vacancies,
                    }
                    if lib.volunteers
                    else {},
                )
                for lib in libraries
            ],
            [
                ("volunteers", t("volunteers.active_volunteers")),
                ("interns", t("volunteers.active_interns")),
                ("vacancies", t("volunteers.open_vacancies")),
            ],
        ),
        stacked(
            "budget-use",
            t("chart.budget_use_now"),
            [
                (
                    lib.name or lib.library,
                    {
                        "spent": lib.purchases.spent_cents,
                        "committed": lib.purchases.committed_cents,
                        "available": max(
                            0, lib.purchases.budget_cents - lib.purchases.committed_cents - lib.purchases.spent_cents
                        ),
                    }
                    if lib.purchases
                    else {},
                )
                for lib in libraries
            ],
            [(key, t(f"budget.{key}")) for key in ("spent", "committed", "available")],
            show=money,
        ),
    ]


class OverviewPages(Controller):
    path = "/overview"

    @get("/")
    async def overview(
        self,
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
        library: SlugQuery = None,
        municipality: SlugQuery = None,
    ) -> Response[str]:
        actor = visitor.signed_in(Role.COORDINATOR, Role.STAFF, Role.OPERATOR)
        if actor.role is Role.STAFF:
            library = actor.library
        starts = month_starts(datetime.now(LOCAL_TIME).date(), MONTHS)
        overview, months = await asyncio.gather(
            gather_overview(rpc, actor, municipality if actor.role is Role.OPERATOR else None),
            referrals_per_month(rpc, actor, library, starts),
        )
        context: dict[str, Any] = {
            "o": overview,
            "charts": charts_of(visitor, overview, months),
            "library": library,
            # A library's own overview names it (its figures carry the name), never its slug.
            "library_name": next(
                (lib.name or lib.library for lib in overview.libraries if lib.library == overview.library),
                overview.library,
            ),
            "library_choices": [(lib.library, lib.name or lib.library) for lib in overview.libraries],
            "municipality": municipality,
            "missing_parts": [part.part for part in overview.missing],
        }
        return page(visitor, "overview.html", section="overview", **context)
