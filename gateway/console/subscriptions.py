"""A partner's subscriptions: its webhooks (register one; the secret is shown once), each webhook's delivery
log with failed deliveries to replay, and how to read its feed over NATS."""

from __future__ import annotations

import asyncio
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
from gateway.console.views import page
from shared.contracts.partners.api import operations as ops
from shared.contracts.partners.api.feeds import (
    DeliveryStatus,
    GetNatsFeedAccess,
    ListDeliveries,
    ListWebhooks,
    NatsFeedAccess,
    RegisterWebhook,
    WebhookRef,
    WebhookRegistration,
    WebhookWithSecret,
)
from shared.errors import PartnernetError
from shared.rpc import RpcClient
from shared.tenancy import Actor, Role

EVENT_TYPES = (
    "referral.*",
    "referral.submitted",
    "referral.accepted",
    "referral.declined",
    "referral.intake_planned",
    "referral.completed",
    "*",
)


def partner_of(actor: Actor) -> UUID:
    assert actor.partner is not None  # a partner's token always names it (shared.tokens)
    return UUID(actor.partner)


WEBHOOK_NOTICES = ("webhook_paused", "webhook_active", "delivery_replayed")


async def deliveries_page(
    visitor: Visitor,
    rpc: RpcClient,
    actor: Actor,
    webhook_id: UUID,
    *,
    status: DeliveryStatus | None = None,
    replayed: int | None = None,
    notice: str | None = None,
    rotated: WebhookWithSecret | None = None,
    problem: Explanation | None = None,
    cursor: str | None = None,
) -> Response[str]:
    """A webhook's page: a page of its delivery log (paging.PAGE, the next by the API's cursor, the status filter
    kept), and what its partner may do with it (pause, rotate, remove, replay)."""
    partner_id = partner_of(actor)
    webhook, log = await asyncio.gather(
        rpc.call(ops.GET_WEBHOOK, actor, WebhookRef(partner_id=partner_id, webhook_id=webhook_id)),
        paging.one_page(
            lambda at, limit: rpc.call(
                ops.LIST_DELIVERIES,
                actor,
                ListDeliveries(partner_id=partner_id, webhook_id=webhook_id, status=status, limit=limit, cursor=at),
            ),
            cursor,
            path=f"{PREFIX}/subscriptions/{webhook_id}",
            keep={"status": status.value if status else None},
        ),
    )
    return page(
        visitor,
        "deliveries.html",
        status=problem.status if problem else 201 if rotated else 200,
        headers={"Cache-Control": "no-store"} if rotated else None,
        section="subscriptions",
        webhook=webhook,
        deliveries=log.items,
        pages=log,
        status_filter=status.value if status else "",
        statuses=list(DeliveryStatus),
        replayed=replayed,
        notice=f"done.{notice}" if notice in WEBHOOK_NOTICES else None,
        rotated=rotated,
        problem=problem,
    )


class SubscriptionPages(Controller):
    path = "/subscriptions"

    @get("/")
    async def subscriptions(
        self,
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
        done: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
    ) -> Response[str]:
        """A page of the partner's webhooks (paging.PAGE), the next by the API's cursor."""
        actor = visitor.signed_in(Role.PARTNER)
        notice = "done.webhook_removed" if done == "webhook_removed" else None
        return await self._page(visitor, rpc, actor, notice=notice, cursor=cursor)

    @post("/", status_code=200)
    async def register(
        self, request: Request[Any, Any, Any], visitor: NamedDependency[Visitor], rpc: NamedDependency[RpcClient]
    ) -> Response[str]:
        actor = visitor.signed_in(Role.PARTNER)
        form = await request.form()
        try:
            registration = forms.convert(
                {
                    "url": forms.text(form, "url"),
                    "event_types": [value for value in form.getall("event_types", []) if value],
                    "description": forms.text(form, "description"),
                },
                WebhookRegistration,
            )
            command = RegisterWebhook(partner_id=partner_of(actor), registration=registration)
            created = await rpc.call(ops.REGISTER_WEBHOOK, actor, command)
        except (PartnernetError, msgspec.ValidationError) as exc:
            problem = explain(visitor.lang, exc)
            values = {"url": form.get("url"), "description": form.get("description")}
            values["event_types"] = form.getall("event_types", [])
            return await self._page(visitor, rpc, actor, problem=problem, values=values, status=problem.status)
        return await self._page(visitor, rpc, actor, created=created, status=201)

    @get("/{webhook_id:uuid}")
    async def deliveries(
        self,
        webhook_id: FromPath[UUID],
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
        status: FromQuery[DeliveryStatus | None] = None,
        done: FromQuery[int | None] = None,
        notice: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
    ) -> Response[str]:
        actor = visitor.signed_in(Role.PARTNER)
        return await deliveries_page(
            visitor, rpc, actor, webhook_id, status=status, replayed=done, notice=notice, cursor=cursor
        )

    @post("/{webhook_id:uuid}/replay-failed", status_code=303)
    async def replay_failed(
        self, webhook_id: FromPath[UUID], visitor: NamedDependency[Visitor], rpc: NamedDependency[RpcClient]
    ) -> Redirect:
        actor = visitor.signed_in(Role.PARTNER)
        command = WebhookRef(partner_id=partner_of(actor), webhook_id=webhook_id)
        result = await rpc.call(ops.REPLAY_FAILED_DELIVERIES, actor, command)
        return Redirect(f"{PREFIX}/subscriptions/{webhook_id}?done={result.replayed}", status_code=303)

    @staticmethod
    async def _page(
        visitor: Visitor,
        rpc: RpcClient,
        actor: Actor,
        *,
        created: WebhookWithSecret | None = None,
        problem: Explanation | None = None,
        values: dict[str, Any] | None = None,
        status: int = 200,
        notice: str | None = None,
        cursor: str | None = None,
    ) -> Response[str]:
        partner_id = partner_of(actor)
        listing = paging.one_page(
            lambda at, limit: rpc.call(
                ops.LIST_WEBHOOKS, actor, ListWebhooks(partner_id=partner_id, limit=limit, cursor=at)
            ),
            cursor,
            path=f"{PREFIX}/subscriptions",
        )
        reading = rpc.call(ops.NATS_FEED_ACCESS, actor, GetNatsFeedAccess(partner_id=partner_id))
        webhooks, access = await asyncio.gather(listing, reading, return_exceptions=True)
        if isinstance(webhooks, BaseException):
            raise webhooks
        return page(
            visitor,
            "subscriptions.html",
            status=status,
            section="subscriptions",
            webhooks=webhooks.items,
            pages=webhooks,
            access=access if isinstance(access, NatsFeedAccess) else None,
            created=created,
            problem=problem,
            values=values or {"event_types": ["referral.*"]},
            event_types=EVENT_TYPES,
            notice=notice,
        )
