"""A partner's side of purchasing, for its people: the purchases a library invited it to quote for (what the
library wants, for whom, where the partner stands), its own quotes, and a new quote for an open invitation
(amount in euros, what it offers, until when it holds). Once its quote is chosen: the order, delivery and invoice.
The same operations as GET /api/v1/partners/{id}/purchases(/{purchase_id}) and POST .../{purchase_id}/quotes."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery

from gateway.console import forms, paging, steps
from gateway.console.explain import Explanation
from gateway.console.names import load_names
from gateway.console.session import PREFIX, Visitor
from gateway.console.subscriptions import partner_of
from gateway.console.views import page
from shared.contracts.courses.api import purchasing_operations as ops
from shared.contracts.courses.api.purchasing import (
    ListProviderPurchases,
    ProviderQuote,
    ProviderStanding,
    SubmitQuote,
)
from shared.errors import InvalidInput
from shared.rpc import RpcClient
from shared.tenancy import Actor, Role

OPEN = (ProviderStanding.INVITED, ProviderStanding.QUOTED)  # a quote may still be given
EUROS = re.compile(r"^(\d{1,3}(?:[.\s]\d{3})*|\d+)(?:[,.](\d{1,2}))?$")


def cents(form: Any, name: str) -> int | None:
    """An amount as people type it, Dutch (1.250,50) or English (1250.50), in cents."""
    value = (forms.text(form, name) or "").replace("€", "").strip()
    if not value:
        return None
    if re.fullmatch(r"\d+\.\d{1,2}", value):  # 1250.50: a decimal point
        whole, fraction = value.split(".")
    else:
        found = EUROS.fullmatch(value)
        if found is None:
            raise InvalidInput(f"not an amount in euros - at `$.{name}`")
        whole, fraction = re.sub(r"[.\s]", "", found.group(1)), found.group(2) or "0"
    return int(whole) * 100 + int(fraction.ljust(2, "0"))


class QuotePages(Controller):
    path = "/quotes"

    @get("/")
    async def quotes(
        self,
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
        done: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
    ) -> Response[str]:
        """A page of the partner's invitations (paging.PAGE), the next by the API's cursor."""
        actor = visitor.signed_in(Role.PARTNER)
        notice = "done.quote_submitted" if done == "quoted" else None
        return await self._page(visitor, rpc, actor, notice=notice, cursor=cursor)

    @post("/{purchase_id:uuid}", status_code=303)
    async def submit(
        self,
        purchase_id: FromPath[UUID],
        request: Request[Any, Any, Any],
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
    ) -> Response[Any]:
        actor = visitor.signed_in(Role.PARTNER)
        form = await request.form()

        def quoted() -> SubmitQuote:
            data = {
                "amount_cents": cents(form, "amount"),
                "description": forms.text(form, "description"),
                "valid_until": forms.local_date(form, "valid_until", "valid_until"),
            }
            quote = forms.convert(data, ProviderQuote)
            return SubmitQuote(partner_id=partner_of(actor), purchase_id=purchase_id, quote=quote)

        typed = {key: forms.text(form, key) or "" for key in ("amount", "description", "valid_until")}
        here = forms.text(form, "cursor")  # the page the form was on: shown again with the problem
        return await steps.submit(
            visitor,
            lambda: rpc.call(ops.SUBMIT_QUOTE, actor, quoted()),
            done=f"{PREFIX}/quotes?done=quoted",
            again=lambda problem: self._page(
                visitor, rpc, actor, problem=problem, typed={str(purchase_id): typed}, cursor=here
            ),
        )

    @staticmethod
    async def _page(
        visitor: Visitor,
        rpc: RpcClient,
        actor: Actor,
        *,
        notice: str | None = None,
        problem: Explanation | None = None,
        typed: dict[str, dict[str, str]] | None = None,
        cursor: str | None = None,
    ) -> Response[str]:
        partner_id = partner_of(actor)
        found = await paging.one_page(
            lambda at, limit: rpc.call(
                ops.LIST_PROVIDER_PURCHASES,
                actor,
                ListProviderPurchases(partner_id=partner_id, limit=limit, cursor=at),
            ),
            cursor,
            path=f"{PREFIX}/quotes",
        )
        return page(
            visitor,
            "quotes.html",
            status=problem.status if problem else 200,
            section="quotes",
            purchases=found.items,
            pages=found,
            cursor=cursor if found.paged else None,
            open_standings=[standing.value for standing in OPEN],
            parties=await load_names(rpc, actor),
            typed=typed or {},
            notice=notice,
            problem=problem,
        )
