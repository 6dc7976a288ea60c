"""Routes for a partner's webhooks and their delivery log: the partner's own (and the operators').

A delivery is a CloudEvent in structured mode (`application/cloudevents+json`), signed as Standard Webhooks
say (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>`, one `v1,…` per secret
while a rotated secret overlaps its successor): check it with the `standardwebhooks` library, and drop
repeats by the event's `id`. Failed tries are retried with exponential backoff and jitter; a delivery
whose every try failed is marked failed and can be replayed here. Each route passes a request through to one
declared operation of the partners service, so they are made from the declarations (gateway/routes.py).
"""

from __future__ import annotations

from litestar import Router

from gateway.routes import passthrough
from shared.contracts.partners.api import operations as ops

ONE = "/{webhook_id:uuid}"
DELIVERY = f"{ONE}/deliveries/{{delivery_id:uuid}}"

webhook_routes = Router(
    path="/api/v1/partners/{partner_id:uuid}/webhooks",
    tags=["webhooks"],
    route_handlers=[
        passthrough(
            "POST",
            "/",
            ops.REGISTER_WEBHOOK,
            body="registration",
            status_code=201,
            handler_name="register",
            description=(
                "HTTPS to a public address only: loopback, private, link-local, reserved, multicast and metadata "
                "addresses are refused, checked again for the address each delivery connects to (unless the "
                "operator allows a target: PARTNERNET_WEBHOOK_ALLOWED_TARGETS, where plain http is allowed too). "
                "Event types: `referral.accepted`, `referral.*` "
                "or `*`. Each delivery is a CloudEvent in structured mode (`application/cloudevents+json`), "
                "signed as Standard Webhooks say (`webhook-id`, `webhook-timestamp`, `webhook-signature`; one "
                "`v1,…` per secret during a rotation's overlap): verify with the `standardwebhooks` library of "
                "your language and drop repeats by `webhook-id` (the event's `id`). During a transition the old "
                "`Partnernet-Signature` header goes along (services/partners/signatures.py). Failed tries are "
                "retried with exponential backoff and jitter. Besides the CloudEvent's own attributes a delivery "
                "carries `feedposition`, the entry's position in the partner's feed (the `after` cursor of "
                "`GET /api/v1/partners/{partner_id}/feed`), and `partnerid`; its `data` is the event's, as in the "
                "feed; `Partnernet-Delivery` names the delivery in the delivery log and `Partnernet-Attempt` counts "
                "its tries."
            ),
        ),
        passthrough("GET", "/", ops.LIST_WEBHOOKS),
        passthrough("GET", ONE, ops.GET_WEBHOOK, handler_name="get_one"),
        passthrough(
            "PATCH",
            ONE,
            ops.UPDATE_WEBHOOK,
            body="changes",
            if_match=True,
            handler_name="update",
            description=(
                "`status: paused` stops new deliveries: an event that happens while the webhook is paused gets none, "
                "not when it is active again either (deliveries already made keep their course). Catch up from the "
                "feed: `GET /api/v1/partners/{partner_id}/feed?after=<the last delivery's feedposition>`."
            ),
        ),
        passthrough("DELETE", ONE, ops.DELETE_WEBHOOK, status_code=204, handler_name="remove"),
        passthrough(
            "POST",
            f"{ONE}/rotate-secret",
            ops.ROTATE_WEBHOOK_SECRET,
            body="rotation",
            if_match=True,
            status_code=200,
            handler_name="rotate_secret",
        ),
        passthrough("GET", f"{ONE}/deliveries", ops.LIST_DELIVERIES, handler_name="deliveries"),
        passthrough("GET", DELIVERY, ops.GET_DELIVERY, handler_name="delivery"),
        passthrough("POST", f"{DELIVERY}/replay", ops.REPLAY_DELIVERY, status_code=200, handler_name="replay"),
        passthrough(
            "POST", f"{ONE}/replay-failed", ops.REPLAY_FAILED_DELIVERIES, status_code=200, handler_name="replay_failed"
        ),
    ],
)
