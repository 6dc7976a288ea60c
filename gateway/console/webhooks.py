"""What a partner does with one of its webhooks, on the webhook's page: pause it or make it active again, give it a
new signing secret (shown once; the old one keeps signing for the overlap chosen), remove it, and deliver one
event again. The same operations as PATCH/DELETE /api/v1/partners/{id}/webhooks/{webhook_id}, .../rotate-secret
and .../deliveries/{delivery_id}/replay."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from gateway.console import forms, steps
from gateway.console.explain import explain
from gateway.console.session import PREFIX, Visitor
from gateway.console.subscriptions import deliveries_page, partner_of
from shared.contracts.partners.api import operations as ops
from shared.contracts.partners.api.feeds import (
    DeleteWebhook,
    DeliveryRef,
    RotateWebhookSecret,
    SecretRotation,
    UpdateWebhook,
    WebhookChanges,
)
from shared.errors import InvalidInput, PartnernetError
from shared.rpc import RpcClient
from shared.tenancy import Role

MISTAKES = (PartnernetError, msgspec.ValidationError)


class WebhookTools(Controller):
    path = "/subscriptions/{webhook_id:uuid}"

    @post("/status", status_code=303)
    async def set_status(
        self,
        webhook_id: FromPath[UUID],
        request: Request[Any, Any, Any],
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
    ) -> Response[Any]:
        """Pause (no new deliveries) or make active again."""
        actor = visitor.signed_in(Role.PARTNER)
        form = await request.form()

        def update() -> UpdateWebhook:
            changes = forms.convert(
                {"status": forms.text(form, "status"), "expected_version": forms.number(form, "expected_version")},
                WebhookChanges,
            )
            if changes.status is None:
                raise InvalidInput("say whether the webhook is paused or active - at `$.status`")
            return UpdateWebhook(partner_id=partner_of(actor), webhook_id=webhook_id, changes=changes)

        return await steps.submit(
            visitor,
            lambda: rpc.call(ops.UPDATE_WEBHOOK, actor, update()),
            done=lambda updated: f"{PREFIX}/subscriptions/{webhook_id}?notice=webhook_{updated.status.value}",
            again=lambda problem: deliveries_page(visitor, rpc, actor, webhook_id, problem=problem),
        )

    @post("/rotate-secret", status_code=201)
    async def rotate_secret(
        self,
        webhook_id: FromPath[UUID],
        request: Request[Any, Any, Any],
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
    ) -> Response[Any]:
        """A new secret, shown once on a page no browser keeps; the old one also signs for the overlap."""
        actor = visitor.signed_in(Role.PARTNER)
        form = await request.form()
        try:
            hours = forms.number(form, "overlap_hours")
            rotation = forms.convert(
                {
                    "overlap_seconds": hours * 3600 if hours is not None else None,
                    "expected_version": forms.number(form, "expected_version"),
                },
                SecretRotation,
            )
            command = RotateWebhookSecret(partner_id=partner_of(actor), webhook_id=webhook_id, rotation=rotation)
            rotated = await rpc.call(ops.ROTATE_WEBHOOK_SECRET, actor, command)
        except MISTAKES as exc:
            return await deliveries_page(visitor, rpc, actor, webhook_id, problem=explain(visitor.lang, exc))
        return await deliveries_page(visitor, rpc, actor, webhook_id, rotated=rotated)

    @post("/delete", status_code=303)
    async def remove(
        self,
        webhook_id: FromPath[UUID],
        request: Request[Any, Any, Any],
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
    ) -> Response[Any]:
        """Remove the webhook; deliveries not yet made are dropped (the form asks to confirm)."""
        actor = visitor.signed_in(Role.PARTNER)
        form = await request.form()

        def removal() -> DeleteWebhook:
            if forms.text(form, "confirm") != "yes":
                raise InvalidInput("confirm that the webhook is to be removed - at `$.confirm`")
            return DeleteWebhook(partner_id=partner_of(actor), webhook_id=webhook_id)

        return await steps.submit(
            visitor,
            lambda: rpc.call(ops.DELETE_WEBHOOK, actor, removal()),
            done=f"{PREFIX}/subscriptions?done=webhook_removed",
            again=lambda problem: deliveries_page(visitor, rpc, actor, webhook_id, problem=problem),
        )

    @post("/deliveries/{delivery_id:uuid}/replay", status_code=303)
    async def replay(
        self,
        webhook_id: FromPath[UUID],
        delivery_id: FromPath[UUID],
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
    ) -> Response[Any]:
        actor = visitor.signed_in(Role.PARTNER)
        return await steps.submit(
            visitor,
            lambda: rpc.call(
                ops.REPLAY_DELIVERY,
                actor,
                DeliveryRef(partner_id=partner_of(actor), webhook_id=webhook_id, delivery_id=delivery_id),
            ),
            done=f"{PREFIX}/subscriptions/{webhook_id}?notice=delivery_replayed",
            again=lambda problem: deliveries_page(visitor, rpc, actor, webhook_id, problem=problem),
        )
