"""Notices by e-mail: events become messages in the mail outbox, and the mail relay sends them by SMTP.

A message is written in the transaction that handles its cause (with the consumer's inbox row, or with the
delivery's last failed try), one per cause and address, so a redelivered event writes nothing twice. The relay
(shared/relay.py) claims due messages with a lease, sends them, and settles each: sent, tried again later with
backoff (a server away, a 4xx), or failed for good (refused with a 5xx, or out of tries), where the failure stays
in the row and in `partnernet.mail.sent{result}` for operators. Replicas share the work, as with webhooks.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import sqlalchemy as sa
from opentelemetry import propagate
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer

from services.partners.domain import notices as rules
from services.partners.store import notices as notice_store
from shared.clock import Clock
from shared.contracts import Envelope, short_type
from shared.contracts.partners.api.notices import (
    GetNoticePreferences,
    NoticeLanguage,
    NoticePreferences,
    SetNoticePreferences,
)
from shared.contracts.partners.events import PartnershipReviewRequested
from shared.errors import Conflict
from shared.ids import new_id
from shared.mail import SmtpSender, describe, email_message, is_permanent
from shared.relay import Relay
from shared.retry import RetryPolicy
from shared.settings import Settings
from shared.telemetry import Telemetry, zero_start_counter
from shared.tenancy import Actor, Role
from shared.unit_of_work import Transaction, UnitOfWork
from shared.versions import is_stale, version_conflict

log = logging.getLogger(__name__)

MAIL_CHANNEL = "partnernet_mail_partners"  # the NOTIFY trigger on mail_outbox (migration 008)
MAIL_BATCH = 32
MAIL_SENT = "partnernet.mail.sent"  # kind, result (sent, failed: tried again, gave_up)


@dataclass(frozen=True)
class Notices:
    """Whether notices are written at all (an SMTP server is configured), and where their links lead."""

    enabled: bool
    base_url: str

    @classmethod
    def from_settings(cls, settings: Settings) -> Notices:
        return cls(enabled=bool(settings.smtp_host), base_url=settings.console_base_url)


# --- from causes to messages --------------------------------------------------------------------------------


async def on_referral_event(notices: Notices, tx: Transaction, envelope: Envelope) -> None:
    """A referral event that tells someone something: submitted, overdue, declined, a place from a waiting list."""
    notice = rules.referral_notice(envelope.id, short_type(envelope.type), envelope.data)
    if notice is not None:
        await _stage_for_event(notices, tx, envelope, notice)


async def on_review_requested(
    notices: Notices, tx: Transaction, envelope: Envelope, event: PartnershipReviewRequested
) -> None:
    notice = rules.review_notice(envelope.id, event.partnership_id, event.library, event.review_on.isoformat())
    await _stage_for_event(notices, tx, envelope, notice)


async def _stage_for_event(notices: Notices, tx: Transaction, envelope: Envelope, notice: rules.Notice) -> None:
    if not notices.enabled or rules.is_stale(envelope.time, tx.clock.now()):
        return
    connection = await tx.session.connection()
    raw = await connection.get_raw_connection()
    db = raw.driver_connection  # the transaction's own connection: the messages commit with the inbox row
    assert db is not None
    await stage_notice(db, notice, notices.base_url, tx.clock.now())


async def stage_notice(db: asyncpg.Connection, notice: rules.Notice, base_url: str, now: datetime) -> int:
    """A message to each address that gets this notice, in the caller's transaction; returns how many."""
    audience = notice.audience
    if audience.partner_id is not None:
        roles = [role.value for role in rules.CONTACT_ROLES.get(notice.kind, ())]
        found = await db.fetch(notice_store.PARTNER_RECIPIENTS, audience.partner_id, notice.kind.value, roles)
    else:
        found = await db.fetch(notice_store.LIBRARY_RECIPIENTS, audience.library, notice.kind.value)
    carrier: dict[str, str] = {}
    propagate.inject(carrier)  # the send continues the trace of what caused the notice
    seen: set[str] = set()
    rows = []
    for recipient in found:
        if recipient["email"] in seen:
            continue
        seen.add(recipient["email"])
        language = NoticeLanguage(recipient["language"])
        message = rules.compose(notice, language, base_url)
        rows.append(
            (
                new_id(),
                notice.kind.value,
                notice.cause,
                recipient["email"],
                audience.library,
                audience.partner_id,
                message.subject,
                message.body,
                language.value,
                json.dumps(carrier),
                now,
            )
        )
    if rows:
        await db.executemany(notice_store.MAIL_STAGED, rows)
    return len(rows)


# --- a person's choice --------------------------------------------------------------------------------------


async def get_preferences(
    work: UnitOfWork, notices: Notices, actor: Actor, _: GetNoticePreferences
) -> NoticePreferences:
    available = rules.kinds_for(actor)
    async with work.read() as session:
        row = await notice_store.find_preferences(session, actor.subject)
    return _view(row, available, notices)


async def set_preferences(
    work: UnitOfWork, notices: Notices, actor: Actor, command: SetNoticePreferences
) -> NoticePreferences:
    available = rules.kinds_for(actor)
    kinds = rules.check_choice(actor, command.email, command.kinds)
    async with work.transaction() as tx:
        row = await notice_store.find_preferences(tx.session, actor.subject, lock=True)
        current = row.version if row is not None else 0
        if row is None and command.expected_version not in (None, 0):
            raise version_conflict("notice preferences", command.expected_version, _view(None, available, notices))
        if row is not None:
            if command.expected_version is None:
                raise Conflict("the notice preferences exist already: send the version you read (expected_version)")
            if is_stale(command.expected_version, current):
                raise version_conflict("notice preferences", command.expected_version, _view(row, available, notices))
        values: dict[str, Any] = {
            "role": actor.role.value,
            "municipality": actor.municipality,
            "library": actor.library if actor.role is Role.STAFF else None,
            "partner_id": UUID(actor.partner) if actor.role is Role.PARTNER and actor.partner else None,
            "email": command.email,
            "language": command.language.value,
            "kinds": [kind.value for kind in kinds],
            "version": current + 1,
            "updated_at": tx.clock.now(),
        }
        await notice_store.save_preferences(tx.session, actor.subject, first=row is None, **values)
        saved = await notice_store.find_preferences(tx.session, actor.subject)
        assert saved is not None
    return _view(saved, available, notices)


def _view(row: sa.Row[Any] | None, available: tuple[Any, ...], notices: Notices) -> NoticePreferences:
    if row is None:  # before the first choice: every kind of the role, once an address is given
        return NoticePreferences(
            email=None,
            language=NoticeLanguage.NL,
            kinds=list(available),
            available=list(available),
            version=0,
            mail_enabled=notices.enabled,
        )
    return NoticePreferences(
        email=row.email,
        language=NoticeLanguage(row.language),
        kinds=[kind for kind in available if kind.value in row.kinds],
        available=list(available),
        version=row.version,
        mail_enabled=notices.enabled,
    )


# --- the mail relay's outlet ---------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Mail:
    """A claimed message: the row of `notice_store.MAIL_CLAIM`."""

    id: UUID
    kind: str
    recipient: str
    subject: str
    body: str
    language: str
    trace_context: dict[str, str]
    created_at: datetime
    attempts: int


@dataclass
class MailWorker:
    """Due messages, to the SMTP server. Not exclusive: replicas share the work, each claiming what it sends."""

    clock: Clock
    sender: SmtpSender
    policy: RetryPolicy
    sender_address: str
    tracer: Tracer
    telemetry: Telemetry
    jitter: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        self._sent = zero_start_counter(
            self.telemetry.meter("partnernet.mail"), MAIL_SENT, description="notices tried by e-mail, by result"
        )
        self._sent.start({"result": "gave_up"})

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.sender.server.timeout * 3 + 30)

    async def pending(self, db: asyncpg.Connection, limit: int) -> Sequence[Mail]:
        now = self.clock.now()
        rows = await db.fetch(notice_store.MAIL_CLAIM, now, min(limit, MAIL_BATCH), now + self.lease)
        return [Mail(**dict(row)) for row in rows]

    async def send(self, rows: Sequence[Mail]) -> Sequence[BaseException | None]:
        spans = [
            self.tracer.start_span(
                f"mail {row.kind}",
                context=propagate.extract(row.trace_context or {}),
                kind=SpanKind.CLIENT,
                attributes={"partnernet.mail": str(row.id), "partnernet.mail_attempt": row.attempts + 1},
            )
            for row in rows
        ]
        messages = [
            email_message(
                message_id=str(row.id),
                sender=self.sender_address,
                recipient=row.recipient,
                subject=row.subject,
                body=row.body,
                language=row.language,
                created=row.created_at,
            )
            for row in rows
        ]
        outcomes = await self.sender.send(messages)
        for span, outcome in zip(spans, outcomes, strict=True):
            if outcome is not None:
                span.record_exception(outcome)
                span.set_status(Status(StatusCode.ERROR, describe(outcome)))
            span.end()
        return outcomes

    async def settle(
        self, db: asyncpg.Connection, rows: Sequence[Mail], outcomes: Sequence[BaseException | None]
    ) -> int:
        now = self.clock.now()
        tried: list[tuple[UUID, int, str | None, datetime | None, datetime | None, datetime | None]] = []
        for row, error in zip(rows, outcomes, strict=True):
            attempts = row.attempts + 1
            if error is None:
                tried.append((row.id, attempts, None, now, None, None))
                result = "sent"
            elif is_permanent(error) or self.policy.gives_up(attempts):
                tried.append((row.id, attempts, describe(error), None, now, None))
                result = "gave_up"
                log.error(
                    "mail %s (%s) not sent, given up after %d tries: %s", row.id, row.kind, attempts, describe(error)
                )
            else:
                retry_at = now + self.policy.delay(attempts, self.jitter.random())
                tried.append((row.id, attempts, describe(error), None, None, retry_at))
                result = "failed"
                log.warning(
                    "mail %s (%s) not sent (try %d), tried again: %s", row.id, row.kind, attempts, describe(error)
                )
            self._sent.add(1, {"kind": row.kind, "result": result})
        await db.executemany(notice_store.MAIL_TRIED, tried)
        return len(rows)

    def wait_seconds(self, poll_seconds: float) -> float:
        return poll_seconds  # retries fall due between NOTIFYs: the poll finds them


def mail_relay(settings: Settings, worker: MailWorker) -> Relay[Mail, BaseException | None]:
    """Replicas share the work (not exclusive); woken when a message is written."""
    return Relay(
        name="mail",
        outlet=worker,
        database_url=settings.database_url,
        schema="partners",
        channel=MAIL_CHANNEL,
        exclusive=False,
        poll_seconds=settings.partner_delivery_poll_seconds,
        batch_size=MAIL_BATCH,
    )
