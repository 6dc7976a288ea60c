"""A partner's feed: read over HTTP, over NATS with credentials of its own, and delivered to its webhooks
(`rpc.partners.feed`, `.nats_feed_access`, `.issue_nats_credentials`, `.*_webhook*`, `.*deliver*`).

Feeds carry a per-partner pseudonym of the participant, never the person.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec

from shared.contracts.vocabulary import DEFAULT_LIMIT, Cursor, ExpectedVersion, Limit, Name, Reason


class GetFeed(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    partner_id: UUID
    # The position of the last entry the reader has seen (positions are PostgreSQL bigints).
    after: Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)] = 0
    limit: Limit = DEFAULT_LIMIT


class FeedEntryView(msgspec.Struct, frozen=True, kw_only=True):
    position: int
    event_id: UUID
    type: str
    time: datetime
    library: str | None
    data: dict[str, object]


class FeedPage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[FeedEntryView]
    next_after: int


class GetNatsFeedAccess(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    partner_id: UUID


class NatsFeedAccess(msgspec.Struct, frozen=True, kw_only=True):
    """How a partner reads its feed over NATS: connect to `servers` with `token=<key>` and
    `inbox_prefix=<inbox_prefix>`, bind a pull subscription to `durable` on `stream`, fetch and ack.
    The credentials may read `subject` and this consumer only."""

    servers: list[str]
    stream: str
    durable: str
    subject: str
    inbox_prefix: str
    enforced: bool  # whether the server checks credentials (the embedded server of `partnernet up` does)


class IssueNatsCredentials(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    partner_id: UUID
    name: Name = "NATS feed"
    support_reason: Reason | None = None  # required of an operator (support), recorded with the key


class NatsFeedCredentials(msgspec.Struct, frozen=True, kw_only=True):
    """The key is shown once (an API key with scope `feed:read`); revoke it like any API key."""

    access: NatsFeedAccess
    key_id: UUID
    token: str


EventTypePattern = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^(\*|[a-z][a-z_]*\.(\*|[a-z][a-z_]*))$",
        description="`referral.accepted`, `referral.*` or `*` (every version of the type)",
    ),
]


WebhookUrl = Annotated[
    str, msgspec.Meta(max_length=2000, description="https://…; plain http only for localhost / 127.0.0.1")
]


class WebhookStatus(enum.StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"  # no new deliveries; those already made keep their course


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # every try failed: replay it when the endpoint is back


class WebhookRegistration(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    url: WebhookUrl
    event_types: Annotated[list[EventTypePattern], msgspec.Meta(min_length=1, max_length=50)]
    description: Name | None = None


class RegisterWebhook(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    partner_id: UUID
    registration: WebhookRegistration
    support_reason: Reason | None = None  # required of an operator (support), written to the audit log


class WebhookChanges(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    url: WebhookUrl | None = None
    event_types: Annotated[list[EventTypePattern], msgspec.Meta(min_length=1, max_length=50)] | None = None
    description: Name | None = None
    status: WebhookStatus | None = None
    expected_version: ExpectedVersion | None = None


class UpdateWebhook(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    partner_id: UUID
    webhook_id: UUID
    changes: WebhookChanges
    support_reason: Reason | None = None  # required of an operator (support), written to the audit log


class SecretRotation(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """During the overlap every delivery is signed with the old secret and the new one."""

    overlap_seconds: Annotated[int, msgspec.Meta(ge=0, le=30 * 24 * 3600)] = 24 * 3600
    expected_version: ExpectedVersion | None = None


class RotateWebhookSecret(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    partner_id: UUID
    webhook_id: UUID
    rotation: SecretRotation = SecretRotation()
    support_reason: Reason | None = None  # required of an operator (support), written to the audit log


class WebhookRef(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One webhook of a partner (get, replay every failed delivery)."""

    partner_id: UUID
    webhook_id: UUID


class DeleteWebhook(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    partner_id: UUID
    webhook_id: UUID
    support_reason: Reason | None = None  # required of an operator (support), written to the audit log


class ListWebhooks(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    partner_id: UUID
    cursor: Cursor | None = None
    limit: Limit = DEFAULT_LIMIT


class WebhookView(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    partner_id: UUID
    url: str
    event_types: list[str]
    description: str | None
    status: WebhookStatus
    version: int
    created_at: datetime
    updated_at: datetime
    secret_rotated_at: datetime | None = None
    previous_secret_valid_until: datetime | None = None  # the old secret still signs until then


class WebhookWithSecret(msgspec.Struct, frozen=True, kw_only=True):
    """The signing secret is shown once: on registration and on rotation."""

    webhook: WebhookView
    secret: str


class ListDeliveries(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    partner_id: UUID
    webhook_id: UUID
    status: DeliveryStatus | None = None
    cursor: Cursor | None = None
    limit: Limit = DEFAULT_LIMIT


class DeliveryRef(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    partner_id: UUID
    webhook_id: UUID
    delivery_id: UUID


class DeliveryAttemptView(msgspec.Struct, frozen=True, kw_only=True):
    attempt: int
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int


class DeliveryView(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    webhook_id: UUID
    event_id: UUID  # the CloudEvent's `id`: the same on every try, so a receiver can drop repeats
    event_type: str
    feed_position: int
    status: DeliveryStatus
    attempts: int  # tries since it was made (or last replayed)
    created_at: datetime
    next_attempt_at: datetime | None = None
    delivered_at: datetime | None = None
    failed_at: datetime | None = None
    last_status_code: int | None = None
    last_error: str | None = None
    attempt_log: list[DeliveryAttemptView] = []  # every try, oldest first (in `get` only)


class ReplayResult(msgspec.Struct, frozen=True, kw_only=True):
    replayed: int
