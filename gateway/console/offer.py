"""The municipality's course offer (sessions with free places and waiting lists), purchase requests and budgets."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import datetime

from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.params import FromQuery

from gateway.console import paging
from gateway.console.charts import stacked
from gateway.console.names import load_names
from gateway.console.session import PREFIX, Visitor
from gateway.console.views import Formats, page
from shared.clock import LOCAL_TIME
from shared.contracts.courses.api import operations as ops
from shared.contracts.courses.api import purchasing_operations as purchasing_ops
from shared.contracts.courses.api.budgets import BudgetView, ListBudgets
from shared.contracts.courses.api.courses import CourseView, ListCourses, ListSessions, SessionView
from shared.contracts.courses.api.purchasing import ListPurchases, PurchaseView
from shared.contracts.vocabulary import Page
from shared.rpc import RpcClient
from shared.tenancy import Role


class OfferPages(Controller):
    path = "/"

    @get("/courses")
    async def courses(
        self,
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
        courses_cursor: FromQuery[str | None] = None,
        sessions_cursor: FromQuery[str | None] = None,
    ) -> Response[str]:
        """Each list a page (paging.PAGE), the next by the API's own cursor (`GET /api/v1/courses?cursor=`,
        `/sessions?cursor=`)."""
        actor = visitor.signed_in(Role.STAFF, Role.COORDINATOR, Role.PARTNER)
        today, here = datetime.now(LOCAL_TIME).date(), f"{PREFIX}/courses"

        def courses_from(at: str | None, limit: int) -> Awaitable[Page[CourseView]]:
            return rpc.call(ops.LIST_COURSES, actor, ListCourses(limit=limit, cursor=at))

        def sessions_from(at: str | None, limit: int) -> Awaitable[Page[SessionView]]:
            return rpc.call(ops.LIST_SESSIONS, actor, ListSessions(starts_from=today, limit=limit, cursor=at))

        courses, sessions, parties = await asyncio.gather(
            paging.one_page(courses_from, courses_cursor, path=here, param="courses_cursor"),
            paging.one_page(sessions_from, sessions_cursor, path=here, param="sessions_cursor"),
            load_names(rpc, actor),
        )
        return page(
            visitor,
            "courses.html",
            section="courses",
            courses=courses,
            sessions=sessions,
            parties=parties,
        )

    @get("/purchases")
    async def purchases(
        self,
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
        budgets_cursor: FromQuery[str | None] = None,
        purchases_cursor: FromQuery[str | None] = None,
    ) -> Response[str]:
        """The budgets (and their chart) and the purchases a page each (paging.PAGE), the next by the API's cursor
        (`GET /api/v1/budgets?cursor=`, `/purchases?cursor=`)."""
        actor = visitor.signed_in(Role.STAFF, Role.COORDINATOR)
        year, here = datetime.now(LOCAL_TIME).year, f"{PREFIX}/purchases"

        def purchases_from(at: str | None, limit: int) -> Awaitable[Page[PurchaseView]]:
            return rpc.call(purchasing_ops.LIST_PURCHASES, actor, ListPurchases(limit=limit, cursor=at))

        def budgets_from(at: str | None, limit: int) -> Awaitable[Page[BudgetView]]:
            return rpc.call(purchasing_ops.LIST_BUDGETS, actor, ListBudgets(year=year, limit=limit, cursor=at))

        purchases, budgets, parties = await asyncio.gather(
            paging.one_page(purchases_from, purchases_cursor, path=here, param="purchases_cursor"),
            paging.one_page(budgets_from, budgets_cursor, path=here, param="budgets_cursor"),
            load_names(rpc, actor),
        )
        formats = Formats(visitor.lang)
        chart = stacked(
            "budget-use",
            visitor.t("chart.budget_use", year=year),
            [
                (
                    parties.library(b.library),
                    {"spent": b.spent_cents, "committed": b.committed_cents, "available": b.available_cents},
                )
                for b in budgets.items
            ],
            [(key, visitor.t(f"budget.{key}")) for key in ("spent", "committed", "available")],
            show=formats.money,
        )
        return page(
            visitor,
            "purchases.html",
            section="purchases",
            purchases=purchases,
            budgets=budgets,
            year=year,
            budget_chart=chart,
            parties=parties,
        )
