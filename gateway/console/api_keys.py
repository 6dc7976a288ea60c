"""A partner's API keys, for its people: the keys it has (never the keys themselves: a prefix, the scopes, when
last used), a new one with the scopes it needs (the key is shown once, on a page no browser keeps), and revoking
one (gateways drop it at once). The same operations as GET/POST /api/v1/partners/{id}/api-keys and DELETE
.../{key_id}. A person's token only: an API key never manages keys (the partners service says so again)."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect

from gateway.console import forms, paging
from gateway.console.explain import Explanation, explain
from gateway.console.session import PREFIX, Visitor
from gateway.console.subscriptions import partner_of
from gateway.console.views import page
from shared.clock import LOCAL_TIME
from shared.contracts.partners.api import operations as ops
from shared.contracts.partners.api.api_keys import (
    ApiKeyIssued,
    ApiKeyRequest,
    IssueApiKey,
    ListApiKeys,
    RevokeApiKey,
)
from shared.errors import PartnernetError
from shared.rpc import RpcClient
from shared.tenancy import Actor, Role

# What a partner's systems do with the API, as the scopes the gateway asks of a key (gateway/auth.py).
SCOPES = (
    "referrals:read",
    "referrals:write",
    "feed:read",
    "webhooks:read",
    "webhooks:write",
    "partners:read",
    "courses:read",
    "sessions:read",
    "enrolments:read",
    "enrolments:write",
    "purchases:read",
    "purchases:write",
)
NO_STORE = {"Cache-Control": "no-store"}


def key_request(form: Any) -> ApiKeyRequest:
    expires_on = forms.local_date(form, "expires_on", "expires_at")
    expires_at = datetime.combine(expires_on, time(23, 59), LOCAL_TIME) if expires_on else None
    data = {"name": forms.text(form, "name"), "scopes": form.getall("scopes", []), "expires_at": expires_at}
    return forms.convert(data, ApiKeyRequest)


class ApiKeyPages(Controller):
    path = "/api-keys"

    @get("/")
    async def api_keys(
        self,
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
        revoked: FromQuery[bool] = False,
        done: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
    ) -> Response[str]:
        """A page of the partner's keys (paging.PAGE), the next by the API's cursor."""
        actor = visitor.signed_in(Role.PARTNER)
        notice = "done.api_key_revoked" if done == "revoked" else None
        return await self._page(visitor, rpc, actor, include_revoked=revoked, notice=notice, cursor=cursor)

    @post("/", status_code=201)
    async def issue(
        self, request: Request[Any, Any, Any], visitor: NamedDependency[Visitor], rpc: NamedDependency[RpcClient]
    ) -> Response[str]:
        actor = visitor.signed_in(Role.PARTNER)
        form = await request.form()
        try:
            command = IssueApiKey(partner_id=partner_of(actor), request=key_request(form))
            issued = await rpc.call(ops.ISSUE_API_KEY, actor, command)
        except (PartnernetError, msgspec.ValidationError) as exc:
            typed = {"name": forms.text(form, "name") or "", "scopes": form.getall("scopes", [])}
            typed["expires_on"] = forms.text(form, "expires_on") or ""
            return await self._page(visitor, rpc, actor, problem=explain(visitor.lang, exc), values=typed)
        return await self._page(visitor, rpc, actor, issued=issued)

    @post("/{key_id:uuid}/revoke", status_code=303)
    async def revoke(
        self, key_id: FromPath[UUID], visitor: NamedDependency[Visitor], rpc: NamedDependency[RpcClient]
    ) -> Response[Any]:
        actor = visitor.signed_in(Role.PARTNER)
        try:
            command = RevokeApiKey(partner_id=partner_of(actor), key_id=key_id)
            await rpc.call(ops.REVOKE_API_KEY, actor, command)
        except PartnernetError as exc:
            return await self._page(visitor, rpc, actor, problem=explain(visitor.lang, exc))
        return Redirect(f"{PREFIX}/api-keys?done=revoked", status_code=303)

    @staticmethod
    async def _page(
        visitor: Visitor,
        rpc: RpcClient,
        actor: Actor,
        *,
        include_revoked: bool = False,
        issued: ApiKeyIssued | None = None,
        problem: Explanation | None = None,
        values: dict[str, Any] | None = None,
        notice: str | None = None,
        cursor: str | None = None,
    ) -> Response[str]:
        partner_id = partner_of(actor)
        keys = await paging.one_page(
            lambda at, limit: rpc.call(
                ops.LIST_API_KEYS,
                actor,
                ListApiKeys(partner_id=partner_id, include_revoked=include_revoked, limit=limit, cursor=at),
            ),
            cursor,
            path=f"{PREFIX}/api-keys",
            keep={"revoked": "true" if include_revoked else None},
        )
        status = problem.status if problem else 201 if issued else 200
        return page(
            visitor,
            "api_keys.html",
            status=status,
            headers=NO_STORE if issued else None,
            section="api_keys",
            keys=keys.items,
            pages=keys,
            include_revoked=include_revoked,
            issued=issued,
            problem=problem,
            values=values or {"name": "", "scopes": [], "expires_on": ""},
            scopes=SCOPES,
            notice=notice,
        )
