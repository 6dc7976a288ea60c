"""Routes for a partner's webhooks and their delivery log: the partner's own (and the operators').

A delivery is a CloudEvent in structured mode (`application/cloudevents+json`), signed as Standard Webhooks
say (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>`, one `v1,…` per secret
while a rotated secret overlaps its successor): check it with the `standardwebhooks` library, and drop
repeats by the event's `id`. Failed tries are retried with exponential backoff and jitter; a delivery
whose every try failed is marked failed and can be replayed here.
"""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from gateway.dependencies import CursorQuery, LimitQuery, SupportReason, with_expected_version
from shared.contracts.partners.api.feeds import (
    DeliveryRef,
    DeliveryStatus,
    DeliveryView,
    ListDeliveries,
    ListWebhooks,
    RegisterWebhook,
    ReplayResult,
    RotateWebhookSecret,
    SecretRotation,
    UpdateWebhook,
    WebhookChanges,
    WebhookRef,
    WebhookRegistration,
    WebhookView,
    WebhookWithSecret,
)
from shared.contracts.vocabulary import DEFAULT_LIMIT
from shared.pagination import Page
from shared.rpc import RpcClient
from shared.tenancy import Actor


class WebhookController(Controller):
    path = "/api/v1/partners/{partner_id:uuid}/webhooks"
    tags = ["webhooks"]

    @post(
        "/",
        summary="Register an endpoint for the event types the partner wants (the signing secret is shown once)",
        description=(
            "HTTPS to a public address only: loopback, private, link-local, reserved, multicast and metadata "
            "addresses are refused, checked again for the address each delivery connects to (unless the operator "
            "allows a target: PARTNERNET_WEBHOOK_ALLOWED_TARGETS, where plain http is allowed too). "
            "Event types: `referral.accepted`, `referral.*` "
            "or `*`. Each delivery is a CloudEvent in structured mode (`application/cloudevents+json`), "
            "signed as Standard Webhooks say (`webhook-id`, `webhook-timestamp`, `webhook-signature`; one `v1,…` per "
            "secret during a rotation's overlap): verify with the `standardwebhooks` library of your language and drop "
            "repeats by `webhook-id` (the event's `id`). During a transition the old `Partnernet-Signature` header "
            "goes along (services/partners/signatures.py). Failed tries are retried with exponential backoff and "
            "jitter."
        ),
    )
    async def register(
        self,
        partner_id: FromPath[UUID],
        data: JSONBody[WebhookRegistration],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        support_reason: SupportReason = None,
    ) -> WebhookWithSecret:
        command = RegisterWebhook(partner_id=partner_id, registration=data, support_reason=support_reason)
        return await rpc.call("partners", "register_webhook", actor, command, WebhookWithSecret)

    @get("/", summary="The partner's webhooks")
    async def list_webhooks(
        self,
        partner_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        cursor: CursorQuery = None,
        limit: LimitQuery = DEFAULT_LIMIT,
    ) -> Page[WebhookView]:
        query = ListWebhooks(partner_id=partner_id, cursor=cursor, limit=limit)
        return await rpc.call("partners", "list_webhooks", actor, query, Page[WebhookView])

    @get("/{webhook_id:uuid}", summary="One webhook")
    async def get_one(
        self,
        partner_id: FromPath[UUID],
        webhook_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
    ) -> WebhookView:
        query = WebhookRef(partner_id=partner_id, webhook_id=webhook_id)
        return await rpc.call("partners", "get_webhook", actor, query, WebhookView)

    @patch("/{webhook_id:uuid}", summary="Change the URL, event types or description, or pause it; If-Match")
    async def update(
        self,
        partner_id: FromPath[UUID],
        webhook_id: FromPath[UUID],
        data: JSONBody[WebhookChanges],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        if_match_version: NamedDependency[int | None],
        support_reason: SupportReason = None,
    ) -> WebhookView:
        command = UpdateWebhook(
            partner_id=partner_id,
            webhook_id=webhook_id,
            changes=with_expected_version(data, if_match_version),
            support_reason=support_reason,
        )
        return await rpc.call("partners", "update_webhook", actor, command, WebhookView)

    @delete("/{webhook_id:uuid}", status_code=204, summary="Remove a webhook; its pending deliveries are dropped")
    async def remove(
        self,
        partner_id: FromPath[UUID],
        webhook_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
    ) -> None:
        command = WebhookRef(partner_id=partner_id, webhook_id=webhook_id)
        await rpc.call("partners", "delete_webhook", actor, command, type(None))

    @post(
        "/{webhook_id:uuid}/rotate-secret",
        status_code=200,
        summary="A new signing secret (shown once); the old one keeps signing beside it during the overlap",
    )
    async def rotate_secret(
        self,
        partner_id: FromPath[UUID],
        webhook_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        if_match_version: NamedDependency[int | None],
        data: JSONBody[SecretRotation | None] = None,
        support_reason: SupportReason = None,
    ) -> WebhookWithSecret:
        rotation = with_expected_version(data or SecretRotation(), if_match_version)
        command = RotateWebhookSecret(
            partner_id=partner_id, webhook_id=webhook_id, rotation=rotation, support_reason=support_reason
        )
        return await rpc.call("partners", "rotate_webhook_secret", actor, command, WebhookWithSecret)

    @get("/{webhook_id:uuid}/deliveries", summary="The delivery log, newest first")
    async def deliveries(
        self,
        partner_id: FromPath[UUID],
        webhook_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        status: FromQuery[DeliveryStatus | None] = None,
        cursor: CursorQuery = None,
        limit: LimitQuery = DEFAULT_LIMIT,
    ) -> Page[DeliveryView]:
        query = ListDeliveries(partner_id=partner_id, webhook_id=webhook_id, status=status, cursor=cursor, limit=limit)
        return await rpc.call("partners", "list_deliveries", actor, query, Page[DeliveryView])

    @get("/{webhook_id:uuid}/deliveries/{delivery_id:uuid}", summary="One delivery with every try (status, error)")
    async def delivery(
        self,
        partner_id: FromPath[UUID],
        webhook_id: FromPath[UUID],
        delivery_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
    ) -> DeliveryView:
        query = DeliveryRef(partner_id=partner_id, webhook_id=webhook_id, delivery_id=delivery_id)
        return await rpc.call("partners", "get_delivery", actor, query, DeliveryView)

    @post(
        "/{webhook_id:uuid}/deliveries/{delivery_id:uuid}/replay",
        status_code=200,
        summary="Deliver a failed (or delivered) event again, with a fresh set of tries",
    )
    async def replay(
        self,
        partner_id: FromPath[UUID],
        webhook_id: FromPath[UUID],
        delivery_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
    ) -> DeliveryView:
        command = DeliveryRef(partner_id=partner_id, webhook_id=webhook_id, delivery_id=delivery_id)
        return await rpc.call("partners", "replay_delivery", actor, command, DeliveryView)

    @post("/{webhook_id:uuid}/replay-failed", status_code=200, summary="Replay every failed delivery of the webhook")
    async def replay_failed(
        self,
        partner_id: FromPath[UUID],
        webhook_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
    ) -> ReplayResult:
        command = WebhookRef(partner_id=partner_id, webhook_id=webhook_id)
        return await rpc.call("partners", "replay_failed_deliveries", actor, command, ReplayResult)
