"""A partner's own event feed, for its people: what happened to its referrals (and more), oldest first after a
position, as its systems read it (pseudonyms, never a participant's name); and NATS credentials to read the feed
from its own systems (the token shown once, on a page no browser keeps; revoked like any API key). The same
operations as GET /api/v1/partners/{id}/feed and POST .../feed/nats-credentials."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery

from gateway.console import forms
from gateway.console.explain import Explanation, explain
from gateway.console.names import load_names
from gateway.console.session import Visitor
from gateway.console.subscriptions import partner_of
from gateway.console.views import page
from shared.contracts.partners.api import operations as ops
from shared.contracts.partners.api.feeds import GetFeed, IssueNatsCredentials, NatsFeedCredentials
from shared.errors import InvalidInput, PartnernetError
from shared.rpc import RpcClient
from shared.tenancy import Actor, Role

SHOWN = 50
NO_STORE = {"Cache-Control": "no-store"}


class FeedPages(Controller):
    path = "/feed"

    @get("/")
    async def feed(
        self, visitor: NamedDependency[Visitor], rpc: NamedDependency[RpcClient], after: FromQuery[str | None] = None
    ) -> Response[str]:
        actor = visitor.signed_in(Role.PARTNER)
        return await self._page(visitor, rpc, actor, after)

    @post("/nats-credentials", status_code=201)
    async def nats_credentials(
        self, request: Request[Any, Any, Any], visitor: NamedDependency[Visitor], rpc: NamedDependency[RpcClient]
    ) -> Response[str]:
        actor = visitor.signed_in(Role.PARTNER)
        form = await request.form()
        try:
            command = forms.convert(
                {"partner_id": str(partner_of(actor)), "name": forms.text(form, "name")}, IssueNatsCredentials
            )
            issued = await rpc.call(ops.ISSUE_NATS_CREDENTIALS, actor, command)
        except (PartnernetError, msgspec.ValidationError) as exc:
            return await self._page(visitor, rpc, actor, None, problem=explain(visitor.lang, exc))
        return await self._page(visitor, rpc, actor, None, credentials=issued)

    @staticmethod
    async def _page(
        visitor: Visitor,
        rpc: RpcClient,
        actor: Actor,
        after: str | None,
        *,
        problem: Explanation | None = None,
        credentials: NatsFeedCredentials | None = None,
    ) -> Response[str]:
        entries: list[Any] = []
        next_after = None
        try:
            if after is not None and not after.isdigit():
                raise InvalidInput("not a position in the feed - at `$.after`")
            position = int(after) if after else None
            query = forms.convert({"partner_id": str(partner_of(actor)), "after": position, "limit": SHOWN}, GetFeed)
            found = await rpc.call(ops.GET_FEED, actor, query)
            entries, next_after = found.items, found.next_after
        except (PartnernetError, msgspec.ValidationError) as exc:
            problem = problem or explain(visitor.lang, exc)
        return page(
            visitor,
            "feed.html",
            status=problem.status if problem else 201 if credentials else 200,
            headers=NO_STORE if credentials else None,
            section="feed",
            entries=entries,
            next_after=next_after if len(entries) == SHOWN else None,
            parties=await load_names(rpc, actor),
            credentials=credentials,
            problem=problem,
            json=lambda data: msgspec.json.encode(data).decode(),
        )
