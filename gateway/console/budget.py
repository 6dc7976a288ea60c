"""A library's budget and who holds it, for its staff and the municipality's coordinator: this year's budget
(amount, committed, spent, available) and setting it, the budget holders (appoint, remove) and who changed them,
and above which amount a purchase needs a second approver. The same operations as GET/PUT /api/v1/budgets/{library}/
{year}, /budget-holders/{library} (and /history, DELETE .../{subject}) and /purchasing-policies/{library}; the
courses service decides who may (the coordinator or a budget holder appoints; budget holders set amounts)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import datetime
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect

from gateway.console import forms, paging
from gateway.console.explain import Explanation, explain
from gateway.console.names import load_names
from gateway.console.quotes import cents
from gateway.console.session import PREFIX, Visitor
from gateway.console.views import page
from shared.clock import LOCAL_TIME
from shared.contracts.courses.api import purchasing_operations as ops
from shared.contracts.courses.api.budgets import (
    AppointBudgetHolder,
    BudgetHolderChange,
    BudgetHolderView,
    GetBudget,
    GetPurchasingPolicy,
    ListBudgetHolderChanges,
    ListBudgetHolders,
    RemoveBudgetHolder,
    SetBudget,
    SetPurchasingPolicy,
)
from shared.contracts.vocabulary import Page
from shared.errors import InvalidInput, PartnernetError
from shared.rpc import RpcClient
from shared.tenancy import Actor, Role

ROLES = (Role.STAFF, Role.COORDINATOR)
DONE = ("budget_set", "holder_appointed", "holder_removed", "threshold_set")


def library_of(actor: Actor, asked: str | None) -> str | None:
    """Staff: their own library; the coordinator: the one chosen."""
    return actor.library if actor.role is Role.STAFF else asked


class BudgetPages(Controller):
    path = "/budget"

    @get("/")
    async def budget(
        self,
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
        library: FromQuery[str | None] = None,
        done: FromQuery[str | None] = None,
        holders_cursor: FromQuery[str | None] = None,
        changes_cursor: FromQuery[str | None] = None,
    ) -> Response[str]:
        """The budget holders and who changed them a page each (paging.PAGE), the next by the API's cursor
        (`GET /api/v1/budget-holders/{library}?cursor=`, `.../history?cursor=`)."""
        actor = visitor.signed_in(*ROLES)
        notice = f"done.{done}" if done in DONE else None
        cursors = (holders_cursor, changes_cursor)
        return await self._page(visitor, rpc, actor, library_of(actor, library), notice=notice, cursors=cursors)

    @post("/{action:str}", status_code=303)
    async def act(
        self,
        action: FromPath[str],
        request: Request[Any, Any, Any],
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
    ) -> Response[Any]:
        actor = visitor.signed_in(*ROLES)
        form = await request.form()
        library = library_of(actor, forms.text(form, "library"))
        version = forms.number(form, "expected_version")
        try:
            if not library:
                raise InvalidInput("choose the library - at `$.library`")
            if action == "amount":
                year = forms.number(form, "year") or datetime.now(LOCAL_TIME).year
                body = {
                    "library": library,
                    "year": year,
                    "budget": {"amount_cents": cents(form, "amount"), "expected_version": version},
                }
                await rpc.call(ops.SET_BUDGET, actor, forms.convert(body, SetBudget))
                done = "budget_set"
            elif action == "appoint":
                body = {"library": library, "holder": {"subject": forms.text(form, "subject")}}
                await rpc.call(ops.APPOINT_BUDGET_HOLDER, actor, forms.convert(body, AppointBudgetHolder))
                done = "holder_appointed"
            elif action == "remove":
                body = {"library": library, "subject": forms.text(form, "subject")}
                await rpc.call(ops.REMOVE_BUDGET_HOLDER, actor, forms.convert(body, RemoveBudgetHolder))
                done = "holder_removed"
            elif action == "threshold":
                threshold = {"second_approver_above_cents": cents(form, "threshold"), "expected_version": version}
                body = {"library": library, "threshold": threshold}
                await rpc.call(ops.SET_PURCHASING_POLICY, actor, forms.convert(body, SetPurchasingPolicy))
                done = "threshold_set"
            else:
                raise InvalidInput(f"not something to do with a budget: {action[:40]}")
        except (PartnernetError, msgspec.ValidationError) as exc:
            return await self._page(visitor, rpc, actor, library, problem=explain(visitor.lang, exc))
        back = f"?library={library}&done={done}" if actor.role is not Role.STAFF else f"?done={done}"
        return Redirect(f"{PREFIX}/budget{back}", status_code=303)

    @staticmethod
    async def _page(
        visitor: Visitor,
        rpc: RpcClient,
        actor: Actor,
        library: str | None,
        *,
        notice: str | None = None,
        problem: Explanation | None = None,
        cursors: tuple[str | None, str | None] = (None, None),
    ) -> Response[str]:
        year = datetime.now(LOCAL_TIME).year
        parties = await load_names(rpc, actor)
        found: dict[str, Any] = {}
        if library:
            path, chosen = f"{PREFIX}/budget", library
            keep = {"library": library if actor.role is not Role.STAFF else None}

            def holders_from(at: str | None, limit: int) -> Awaitable[Page[BudgetHolderView]]:
                wanted = ListBudgetHolders(library=chosen, limit=limit, cursor=at)
                return rpc.call(ops.LIST_BUDGET_HOLDERS, actor, wanted)

            def changes_from(at: str | None, limit: int) -> Awaitable[Page[BudgetHolderChange]]:
                wanted = ListBudgetHolderChanges(library=chosen, limit=limit, cursor=at)
                return rpc.call(ops.LIST_BUDGET_HOLDER_CHANGES, actor, wanted)

            try:
                budget, holders, changes, policy = await asyncio.gather(
                    rpc.call(ops.GET_BUDGET, actor, GetBudget(library=library, year=year)),
                    paging.one_page(holders_from, cursors[0], path=path, param="holders_cursor", keep=keep),
                    paging.one_page(changes_from, cursors[1], path=path, param="changes_cursor", keep=keep),
                    rpc.call(ops.GET_PURCHASING_POLICY, actor, GetPurchasingPolicy(library=library)),
                )
                found = {"budget": budget, "holders": holders, "changes": changes, "policy": policy}
            except (PartnernetError, msgspec.ValidationError) as exc:
                problem = problem or explain(visitor.lang, exc)
                library = None
        return page(
            visitor,
            "budget.html",
            status=problem.status if problem else 200,
            section="purchases",
            library=library,
            library_name=parties.library(library) if library else "",
            libraries=sorted(parties.libraries.items(), key=lambda item: item[1]),
            year=year,
            budget=found.get("budget"),
            holders=found.get("holders"),
            changes=found.get("changes"),
            policy=found.get("policy"),
            me=actor.subject,
            notice=notice,
            problem=problem,
        )
