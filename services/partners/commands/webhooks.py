"""Webhooks: a partner registers endpoints for the event types it wants; deliveries are tried, retried with
backoff and jitter, marked failed when every try failed, and replayed on request. Every try is logged.

The worker is a relay's outlet (shared/relay.py), woken when a delivery is written or replayed; it claims due
deliveries with `FOR UPDATE SKIP LOCKED` and a lease, so replicas share the work and a delivery whose worker
died is tried again when the lease runs out. A delivery carries `traceparent`: the partner can continue the trace.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import sqlalchemy as sa
from opentelemetry import context as otel_context
from opentelemetry import propagate
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer

from services.partners import store
from services.partners.channels import Answer, WebhookSender, WebhookTargets
from services.partners.commands.credentials import audit_support
from services.partners.commands.feeds import WEBHOOK_CHANNEL
from services.partners.commands.notices import Notices, stage_notice
from services.partners.domain import access, feeds
from services.partners.domain import notices as notice_rules
from services.partners.domain import webhooks as rules
from services.partners.queries.views import delivery_view, webhook_view
from services.partners.signatures import new_secret, signed_headers
from services.partners.store import subscriptions
from shared.contracts import Envelope, load_catalogue
from shared.contracts.partners.api.feeds import (
    DeleteWebhook,
    DeliveryRef,
    DeliveryStatus,
    DeliveryView,
    RegisterWebhook,
    ReplayResult,
    RotateWebhookSecret,
    UpdateWebhook,
    WebhookRef,
    WebhookStatus,
    WebhookView,
    WebhookWithSecret,
)
from shared.contracts.partners.api.organisations import PartnerStatus
from shared.errors import Conflict, InvalidInput, NotFound
from shared.ids import new_id
from shared.metrics import WebhookDeliveries, WebhookResult
from shared.relay import Relay
from shared.retry import RetryPolicy
from shared.settings import Settings
from shared.telemetry import tag_span, tag_span_with_event
from shared.tenancy import Actor
from shared.unit_of_work import Transaction, UnitOfWork
from shared.versions import is_stale, version_conflict

log = logging.getLogger(__name__)


CLAIM_BATCH = 32
# Deliveries in flight at once per replica: each is sent on its own and settled when its endpoint answers (or its
# timeout runs out), so a partner whose endpoint takes its full timeout holds up no other partner's deliveries.
IN_FLIGHT = 64
# Deliveries of one webhook in flight at once, all replicas together (the claim counts the leases): an endpoint
# that takes its full timeout with a backlog holds 8 of a replica's 64 places, so eight such partners at once are
# needed before a ninth waits; a healthy endpoint (tens of ms) still gets a backlog or a replay at 8 at a time,
# hundreds a second, and is never sent more concurrent requests than that by us.
IN_FLIGHT_PER_WEBHOOK = 8


async def register_webhook(
    work: UnitOfWork, targets: WebhookTargets, actor: Actor, command: RegisterWebhook
) -> WebhookWithSecret:
    access.check_may_change_subscriptions(actor, command.partner_id)
    reason = access.support_reason(actor, command.support_reason)
    registration = command.registration
    check_event_types(registration.event_types)
    await targets.check(registration.url)
    webhook_id, secret = new_id(), new_secret()
    async with work.transaction() as tx:
        partner = await store.find_partner(tx.session, command.partner_id)
        if partner is None:
            raise NotFound(f"partner {command.partner_id} not found")
        if partner.status == PartnerStatus.ENDED:
            raise Conflict(f"partner {command.partner_id} has ended")
        now = tx.clock.now()
        await subscriptions.add_webhook(
            tx.session,
            id=webhook_id,
            partner_id=partner.id,
            url=registration.url,
            event_types=sorted(set(registration.event_types)),
            description=registration.description,
            status=WebhookStatus.ACTIVE.value,
            secret=secret,
            version=1,
            created_at=now,
            updated_at=now,
        )
        row = await store.find_webhook(tx.session, partner.id, webhook_id)
    assert row is not None
    audit_support(actor, "registered a webhook", partner.id, reason, webhook_id=webhook_id)
    return WebhookWithSecret(webhook=webhook_view(row), secret=secret)


def check_event_types(patterns: list[str]) -> None:
    if unknown := feeds.patterns_of_no_event(patterns, load_catalogue()):
        raise InvalidInput(
            f"no event is of type {', '.join(repr(p) for p in unknown)}: name one as in the AsyncAPI document "
            "(`referral.accepted`), a kind of them (`referral.*`) or every one (`*`) - at `$.event_types`"
        )


async def _load(tx: Transaction, partner_id: UUID, webhook_id: UUID) -> sa.Row:
    row = await store.find_webhook(tx.session, partner_id, webhook_id, for_update=True)
    if row is None:
        raise NotFound(f"webhook {webhook_id} not found")
    return row


async def update_webhook(
    work: UnitOfWork, targets: WebhookTargets, actor: Actor, command: UpdateWebhook
) -> WebhookView:
    access.check_may_change_subscriptions(actor, command.partner_id)
    reason = access.support_reason(actor, command.support_reason)
    changes = command.changes
    if changes.event_types is not None:
        check_event_types(changes.event_types)
    if changes.url is not None:
        await targets.check(changes.url)
    async with work.transaction() as tx:
        row = await _load(tx, command.partner_id, command.webhook_id)
        if is_stale(changes.expected_version, row.version):
            raise version_conflict(f"webhook {row.id}", changes.expected_version, webhook_view(row))
        values: dict[str, Any] = {}
        if changes.url is not None:
            values["url"] = changes.url
        if changes.event_types is not None:
            values["event_types"] = sorted(set(changes.event_types))
        if changes.description is not None:
            values["description"] = changes.description
        if changes.status is not None:
            values["status"] = changes.status.value
        await subscriptions.update_webhook(
            tx.session, row.id, **values, version=row.version + 1, updated_at=tx.clock.now()
        )
        updated = await store.find_webhook(tx.session, row.partner_id, row.id)
    assert updated is not None
    audit_support(actor, "changed a webhook", row.partner_id, reason, webhook_id=row.id, url=updated.url)
    return webhook_view(updated)


async def delete_webhook(work: UnitOfWork, actor: Actor, command: DeleteWebhook) -> None:
    access.check_may_change_subscriptions(actor, command.partner_id)
    reason = access.support_reason(actor, command.support_reason)
    async with work.transaction() as tx:
        row = await _load(tx, command.partner_id, command.webhook_id)
        now = tx.clock.now()
        await subscriptions.update_webhook(
            tx.session,
            row.id,
            deleted_at=now,
            status=WebhookStatus.PAUSED.value,
            version=row.version + 1,
            updated_at=now,
        )
        await subscriptions.drop_pending(tx.session, row.id, at=now, reason="the webhook was deleted")
    audit_support(actor, "removed a webhook", row.partner_id, reason, webhook_id=row.id, url=row.url)


async def rotate_secret(work: UnitOfWork, actor: Actor, command: RotateWebhookSecret) -> WebhookWithSecret:
    """A new secret at once; the old one keeps signing (beside it) until the overlap ends."""
    access.check_may_change_subscriptions(actor, command.partner_id)
    reason = access.support_reason(actor, command.support_reason)
    secret = new_secret()
    async with work.transaction() as tx:
        row = await _load(tx, command.partner_id, command.webhook_id)
        if is_stale(command.rotation.expected_version, row.version):
            raise version_conflict(f"webhook {row.id}", command.rotation.expected_version, webhook_view(row))
        now = tx.clock.now()
        await subscriptions.update_webhook(
            tx.session,
            row.id,
            secret=secret,
            previous_secret=row.secret,
            previous_secret_expires_at=now + timedelta(seconds=command.rotation.overlap_seconds),
            secret_rotated_at=now,
            version=row.version + 1,
            updated_at=now,
        )
        updated = await store.find_webhook(tx.session, row.partner_id, row.id)
    assert updated is not None
    audit_support(actor, "rotated a webhook's secret", row.partner_id, reason, webhook_id=row.id)
    return WebhookWithSecret(webhook=webhook_view(updated), secret=secret)


async def replay_delivery(work: UnitOfWork, actor: Actor, command: DeliveryRef) -> DeliveryView:
    """Try a failed (or delivered) delivery again, with a fresh budget of tries; its log keeps every try."""
    access.check_may_manage_subscriptions(actor, command.partner_id)
    async with work.transaction() as tx:
        await _load(tx, command.partner_id, command.webhook_id)
        row = await subscriptions.lock_delivery(tx.session, command.partner_id, command.webhook_id, command.delivery_id)
        if row is None:
            raise NotFound(f"delivery {command.delivery_id} not found")
        if row.status == DeliveryStatus.PENDING:
            raise Conflict(f"delivery {row.id} is still being tried")
        updated = await subscriptions.update_delivery(tx.session, row.id, **_replayed(tx))
    return delivery_view(updated)


async def replay_failed(work: UnitOfWork, actor: Actor, command: WebhookRef) -> ReplayResult:
    access.check_may_manage_subscriptions(actor, command.partner_id)
    async with work.transaction() as tx:
        await _load(tx, command.partner_id, command.webhook_id)
        replayed = await subscriptions.update_failed_deliveries(tx.session, command.webhook_id, **_replayed(tx))
    return ReplayResult(replayed=replayed)


def _replayed(tx: Transaction) -> dict[str, Any]:
    return {
        "status": DeliveryStatus.PENDING.value,
        "attempts": 0,
        "next_attempt_at": tx.clock.now(),
        "lease_until": None,
        "failed_at": None,
        "delivered_at": None,
    }


# --- the delivery worker ----------------------------------------------------------------------


@dataclass
class DeliveryWorker:
    """The deliveries that are due, to the partners' endpoints (a relay's outlet: shared/relay.py).

    Not exclusive: replicas share the work, each claiming what it tries (a lease, `FOR UPDATE SKIP LOCKED`).
    The relay sends each claimed delivery on its own (`in_flight`) and settles it when it has its answer: the lease
    (the endpoint's timeout and more) keeps it from every other sweep and replica until then.
    """

    work: UnitOfWork
    sender: WebhookSender
    policy: RetryPolicy
    tracer: Tracer
    deliveries: WebhookDeliveries
    notices: Notices | None = None  # tells the partner's people of a delivery that failed for good
    jitter: random.Random = field(default_factory=random.Random)

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.sender.timeout + 30)

    async def pending(self, db: asyncpg.Connection, limit: int) -> Sequence[Delivery]:
        now = self.work.clock.now()
        rows = await db.fetch(
            subscriptions.DELIVERIES_CLAIM, now, min(limit, CLAIM_BATCH), now + self.lease, IN_FLIGHT_PER_WEBHOOK
        )
        return [Delivery(**dict(row)) for row in rows]

    async def send(self, rows: Sequence[Delivery]) -> Sequence[Answer]:
        async with self.sender.client() as client:
            return await asyncio.gather(*(self._try(client, row) for row in rows))

    async def settle(self, db: asyncpg.Connection, rows: Sequence[Delivery], outcomes: Sequence[Answer]) -> int:
        now = self.work.clock.now()
        logged, tried, gave_up = [], [], []
        for row, answer in zip(rows, outcomes, strict=True):
            attempts = row.attempts + 1
            error = None if answer.delivered else rules.describe_failure(answer.status_code, answer.error)
            logged.append((row.id, now, answer.status_code, error, answer.duration_ms))
            status, delivered_at, failed_at, next_attempt_at = DeliveryStatus.PENDING.value, None, None, None
            if answer.delivered:
                status, delivered_at = DeliveryStatus.DELIVERED.value, now
            elif self.policy.gives_up(attempts):
                status, failed_at = DeliveryStatus.FAILED.value, now
                gave_up.append(notice_rules.delivery_failed_notice(row.id, row.partner_id, row.webhook_id, attempts))
                gave_up.append(notice_rules.partner_delivery_failed_notice(row.id, row.partner_id, attempts))
            else:
                next_attempt_at = now + self.policy.delay(attempts, self.jitter.random())
            tried.append(
                (row.id, attempts, answer.status_code, error, status, delivered_at, failed_at, next_attempt_at)
            )
        async with db.transaction():
            await db.executemany(subscriptions.DELIVERY_ATTEMPT_LOGGED, logged)
            await db.executemany(subscriptions.DELIVERY_TRIED, tried)
            if self.notices is not None and self.notices.enabled:
                for notice in gave_up:  # with the failed try: no notice is lost, none is written twice
                    await stage_notice(db, notice, self.notices.base_url, now)
        for row, answer in zip(rows, outcomes, strict=True):
            attempts = row.attempts + 1
            if answer.delivered:
                result = WebhookResult.DELIVERED
            else:
                result = WebhookResult.GAVE_UP if self.policy.gives_up(attempts) else WebhookResult.FAILED
                log.info(
                    "webhook delivery %s failed (try %d): %s",
                    row.id,
                    attempts,
                    rules.describe_failure(answer.status_code, answer.error),
                )
            self.deliveries.record(partner=row.partner_id, result=result)
        return len(rows)

    def wait_seconds(self, poll_seconds: float) -> float:
        return poll_seconds  # retries fall due between NOTIFYs: the poll finds them

    async def _try(self, client: httpx.AsyncClient, row: Delivery) -> Answer:
        now = self.work.clock.now()
        body = rules.cloud_event(
            event_id=str(row.event_id),
            source=row.source,
            event_type=row.event_type,
            time=row.event_time,
            subject=row.subject,
            data=row.data,
            position=row.feed_position,
            partner_id=str(row.partner_id),
        )
        signing = rules.signing_secrets(row.secret, row.previous_secret, row.previous_secret_expires_at, now)
        headers = {
            "Content-Type": rules.CLOUDEVENTS_JSON,
            **signed_headers(signing, str(row.event_id), int(now.timestamp()), body),
            "Partnernet-Delivery": str(row.id),
            "Partnernet-Attempt": str(row.attempts + 1),
        }
        # The trace of the event that caused the delivery (kept with it when the consumer wrote it): the delivery
        # is a span of the referral's trace, however much later a retry runs, and the partner gets it as
        # `traceparent` to continue in its own tracing.
        token = otel_context.attach(propagate.extract(row.trace_context or {}))
        try:
            with self.tracer.start_as_current_span(
                f"webhook delivery {row.event_type}",
                kind=SpanKind.CLIENT,
                attributes={
                    "messaging.message.id": str(row.event_id),
                    "partnernet.delivery": str(row.id),
                    "partnernet.delivery_attempt": row.attempts + 1,
                    "url.full": row.url,
                },
            ) as span:
                tag_span_with_event(delivered_event(row), span)
                tag_span({"partner": str(row.partner_id)}, span)  # whose webhook: the feed's partner
                propagate.inject(headers)
                answer = await self.sender.post(client, row.url, body, headers)
                describe_answer(span, answer)
        finally:
            otel_context.detach(token)
        return answer


@dataclass(frozen=True, kw_only=True)
class Delivery:
    """A claimed delivery with what its try needs: the row of `subscriptions.DELIVERIES_CLAIM`."""

    id: UUID
    webhook_id: UUID
    partner_id: UUID
    feed_position: int
    event_id: UUID
    event_type: str
    attempts: int
    trace_context: dict[str, str]
    url: str
    secret: str
    previous_secret: str | None
    previous_secret_expires_at: datetime | None
    source: str | None
    subject: str | None
    event_library: str | None
    event_time: datetime
    data: Any


def delivery_relay(settings: Settings, worker: DeliveryWorker) -> Relay[Delivery, Answer]:
    """Replicas share the work (not exclusive); woken when a delivery is written or replayed, and when one it
    sent has its answer (settled at once, whatever the others in flight are waiting for)."""
    return Relay(
        name="webhooks",
        outlet=worker,
        database_url=settings.database_url,
        schema="partners",
        channel=WEBHOOK_CHANNEL,
        exclusive=False,
        poll_seconds=settings.partner_delivery_poll_seconds,
        batch_size=CLAIM_BATCH,
        in_flight=IN_FLIGHT,
    )


def delivered_event(row: Delivery) -> Envelope:
    """The event a delivery carries, as its feed entry keeps it (the partner's view of the data)."""
    municipality = (row.subject or "").partition("/")[0]
    return Envelope(
        id=row.event_id,
        source=row.source or "/partnernet",
        type=row.event_type,
        time=row.event_time,
        subject=row.subject or "",
        data=row.data,
        library=row.event_library,
        municipality=municipality if municipality not in ("", "-") else None,
    )


def describe_answer(span: Span, answer: Answer) -> None:
    if answer.status_code is not None:
        span.set_attribute("http.response.status_code", answer.status_code)
    if not answer.delivered:
        # A refused or failed delivery is an error span: `status = error` finds it in the referral's trace.
        span.set_status(Status(StatusCode.ERROR, rules.describe_failure(answer.status_code, answer.error)))
