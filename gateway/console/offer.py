"""The municipality's course offer (sessions with free places and waiting lists), purchase requests and budgets."""

from __future__ import annotations

import asyncio
from datetime import datetime

from litestar import Controller, Response, get
from litestar.di import NamedDependency

from gateway.console.charts import stacked
from gateway.console.names import load_names
from gateway.console.session import Visitor
from gateway.console.views import Formats, page
from shared.clock import LOCAL_TIME
from shared.contracts.courses.api.budgets import BudgetView, ListBudgets
from shared.contracts.courses.api.courses import CourseView, ListCourses, ListSessions, SessionView
from shared.contracts.courses.api.purchasing import ListPurchases, PurchaseView
from shared.pagination import Page
from shared.rpc import RpcClient
from shared.tenancy import Role


class OfferPages(Controller):
    path = "/"

    @get("/courses")
    async def courses(self, visitor: NamedDependency[Visitor], rpc: NamedDependency[RpcClient]) -> Response[str]:
        actor = visitor.signed_in(Role.STAFF, Role.COORDINATOR, Role.PARTNER)
        today = datetime.now(LOCAL_TIME).date()
        courses, sessions, parties = await asyncio.gather(
            rpc.call("courses", "list_courses", actor, ListCourses(limit=200), Page[CourseView]),
            rpc.call("courses", "list_sessions", actor, ListSessions(starts_from=today, limit=200), Page[SessionView]),
            load_names(rpc, actor),
        )
        return page(
            visitor, "courses.html", section="courses", courses=courses.items, sessions=sessions.items, parties=parties
        )

    @get("/purchases")
    async def purchases(self, visitor: NamedDependency[Visitor], rpc: NamedDependency[RpcClient]) -> Response[str]:
        actor = visitor.signed_in(Role.STAFF, Role.COORDINATOR)
        year = datetime.now(LOCAL_TIME).year
        purchases, budgets, parties = await asyncio.gather(
            rpc.call("courses", "list_purchases", actor, ListPurchases(limit=100), Page[PurchaseView]),
            rpc.call("courses", "list_budgets", actor, ListBudgets(year=year, limit=200), Page[BudgetView]),
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
            purchases=purchases.items,
            budgets=budgets.items,
            year=year,
            budget_chart=chart,
            parties=parties,
        )
