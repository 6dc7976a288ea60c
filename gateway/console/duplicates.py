"""Possible duplicates across the library, for its staff: every warning the blind index raised (a new referral
whose participant may be the person of an earlier open one), open ones first, and the decision on each: the same
person (link the referrals; both stay) or not (keep them apart). The same operations as the API's
/referrals/duplicates. The page shows no names: opening it reads nobody's personal data."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery

from gateway.console import forms, paging, steps
from gateway.console.explain import Explanation, explain
from gateway.console.names import load_names
from gateway.console.participant_tools import duplicate_decision
from gateway.console.session import PREFIX, Visitor
from gateway.console.views import page
from shared.contracts.referrals.api import operations as ops
from shared.contracts.referrals.api.duplicates import ListDuplicateWarnings
from shared.errors import InvalidInput, PartnernetError
from shared.rpc import RpcClient
from shared.tenancy import Actor, Role

FILTERS = ("open", "linked", "separate", "all")
DONE = ("duplicate_link", "duplicate_separate")


class DuplicatePages(Controller):
    path = "/duplicates"

    @get("/")
    async def duplicates(
        self,
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
        decision: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
        done: FromQuery[str | None] = None,
    ) -> Response[str]:
        actor = visitor.signed_in(Role.STAFF)
        notice = f"done.{done}" if done in DONE else None
        return await self._page(visitor, rpc, actor, decision or "open", cursor, notice=notice)

    @post("/{warning_id:uuid}", status_code=303)
    async def decide(
        self,
        warning_id: FromPath[UUID],
        request: Request[Any, Any, Any],
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
    ) -> Response[Any]:
        actor = visitor.signed_in(Role.STAFF)
        form = await request.form()
        shown = forms.text(form, "shown") or "open"
        back = shown if shown in FILTERS else "open"
        return await steps.submit(
            visitor,
            lambda: rpc.call(ops.DECIDE_DUPLICATE, actor, duplicate_decision(form, warning_id)),
            # Only reached once the decision converted, so `step` is one of DuplicateStep's values.
            done=f"{PREFIX}/duplicates?decision={back}&done=duplicate_{forms.text(form, 'step')}",
            again=lambda problem: self._page(visitor, rpc, actor, shown, None, problem=problem),
        )

    @staticmethod
    async def _page(
        visitor: Visitor,
        rpc: RpcClient,
        actor: Actor,
        shown: str,
        cursor: str | None,
        *,
        notice: str | None = None,
        problem: Explanation | None = None,
    ) -> Response[str]:
        path = f"{PREFIX}/duplicates"
        warnings: paging.Listing[Any] = paging.nothing(path)
        try:
            if shown not in FILTERS:
                raise InvalidInput("not a choice of duplicates - at `$.decision`")
            narrowed = None if shown == "all" else shown
            warnings = await paging.one_page(
                lambda at, limit: rpc.call(
                    ops.LIST_DUPLICATE_WARNINGS,
                    actor,
                    forms.convert({"decision": narrowed, "cursor": at, "limit": limit}, ListDuplicateWarnings),
                ),
                cursor,
                path=path,
                keep={"decision": shown},
            )
        except (PartnernetError, msgspec.ValidationError) as exc:
            problem = problem or explain(visitor.lang, exc)
            shown = "open"
        return page(
            visitor,
            "duplicates.html",
            status=problem.status if problem else 200,
            section="duplicates",
            warnings=warnings.items,
            warning_pages=warnings,
            shown=shown,
            filters=FILTERS,
            parties=await load_names(rpc, actor),
            library=actor.library,
            notice=notice,
            problem=problem,
        )
