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
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Any, ClassVar
from uuid import UUID

import asyncpg
import sqlalchemy as sa
from opentelemetry import propagate, trace
from opentelemetry.trace import Span

from services.partners.domain import notices as rules
from services.partners.store import notices as notice_store
from shared import mail
from shared.contracts import Envelope, short_type
from shared.contracts.partners.api.notices import (
    GetNoticePreferences,
    NoticeKind,
    NoticeLanguage,
    NoticePreferences,
    SetNoticePreferences,
)
from shared.contracts.partners.events import PartnershipEnded, PartnershipReviewRequested
from shared.db import DirectConnection, Prepared
from shared.errors import Conflict
from shared.ids import new_id
from shared.relay import RELAYS_WOKEN, Relay, woken_channels
from shared.settings import Settings
from shared.telemetry import Telemetry, zero_start_counter
from shared.tenancy import Actor, Role
from shared.unit_of_work import Transaction, UnitOfWork
from shared.versions import is_stale, version_conflict

log = logging.getLogger(__name__)

MAIL_CHANNEL = "partnernet_mail_partners"  # the NOTIFY trigger on mail_outbox (migrations 008, 014)
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


async def write_referral_notices(
    notices: Notices, work: UnitOfWork, consumer: str, events: Sequence[tuple[Envelope, Span]]
) -> None:
    """A referral event that tells someone something (submitted, overdue, declined, a place from a waiting list),
    for the notices consumer's batch as a statement handler (shared/consumer.py StatementHandler): who gets a kind
    for an audience read once a batch, then the batch's inbox rows and messages in one statement on a direct
    connection in autocommit, where the consumer's transaction took a session, BEGIN, the inbox, a recipients
    statement for every event, the messages and COMMIT (issue 17's ninth round). Each message carries its own
    event's trace context; an event handled before writes nothing again."""
    now = work.clock.now()
    rows: list[tuple[Any, ...]] = []
    causes: list[UUID] = []
    async with work.direct_statements() as connection:
        if notices.enabled:
            found: dict[tuple[NoticeKind, rules.Audience], list[dict[str, str]]] = {}
            for envelope, span in events:
                notice = rules.referral_notice(envelope.id, short_type(envelope.type), envelope.data)
                if notice is None or rules.is_stale(envelope.time, now):
                    continue
                key = (notice.kind, notice.audience)
                if key not in found:
                    found[key] = await _recipients_of(connection, notice)
                carrier: dict[str, str] = {}
                propagate.inject(carrier, context=trace.set_span_in_context(span))  # the send continues its trace
                written = _messages(notice, found[key], notices.base_url, carrier, now)
                rows += written
                causes += [envelope.id] * len(written)
        event_ids = [envelope.id for envelope, _ in events]
        if not rows:
            await connection.execute(notice_store.INBOX_ONLY, consumer=consumer, event_ids=event_ids)
            return
        # The mail relay named, so the statement's insert sends no NOTIFY; woken once the statement has returned
        # (committed), and only when it wrote a message.
        woken = work.may_wake_relays(connection)
        result = await connection.fetchrow(
            notice_store.MAIL_STAGED_BATCH,
            consumer=consumer,
            event_ids=event_ids,
            now=now,
            **{name: [row[n] for row in rows] for n, name in enumerate(notice_store.MAIL_COLUMNS)},
            trace_context=[row[notice_store.MAIL_TRACE_CONTEXT] for row in rows],
            event_id=causes,
            relays_woken_setting=RELAYS_WOKEN,
            relays_woken=woken_channels([MAIL_CHANNEL] if woken else []),
        )
        if woken and result is not None and result.written:
            await work.relays_written([MAIL_CHANNEL], connection)


async def _recipients_of(connection: DirectConnection, notice: rules.Notice) -> list[dict[str, str]]:
    """`_recipients` on a direct connection."""
    statement, values = _recipients_statement(notice)
    return [{"email": row.email, "language": row.language} for row in await connection.fetch(statement, **values)]


async def on_review_requested(
    notices: Notices, tx: Transaction, envelope: Envelope, event: PartnershipReviewRequested
) -> None:
    review_on = event.review_on.isoformat()
    await _stage_for_event(
        notices, tx, envelope, rules.review_notice(envelope.id, event.partnership_id, event.library, review_on)
    )
    coordinators = rules.coordinators_review_notice(
        envelope.id, event.partnership_id, event.partner_id, event.municipality, review_on
    )
    await _stage_for_event(notices, tx, envelope, coordinators)


async def on_partnership_ended(notices: Notices, tx: Transaction, envelope: Envelope, event: PartnershipEnded) -> None:
    """The municipality's coordinators hear that an agreement of its network ended (by a step or by lapsing)."""
    notice = rules.partnership_ended_notice(envelope.id, event.partnership_id, event.partner_id, event.municipality)
    await _stage_for_event(notices, tx, envelope, notice)


async def _stage_for_event(notices: Notices, tx: Transaction, envelope: Envelope, notice: rules.Notice) -> None:
    if not notices.enabled or rules.is_stale(envelope.time, tx.clock.now()):
        return
    connection = await tx.session.connection()
    raw = await connection.get_raw_connection()
    db = raw.driver_connection  # the transaction's own connection: the messages commit with the inbox row
    assert db is not None
    # The mail relay woken after the commit (no NOTIFY held across its flush, migration 014), only when a message
    # is written: a notice nobody gets (no address for the library or partner) costs no round trip to say so,
    # and no sweep of the mail relay that finds nothing.
    await stage_notice(
        db, notice, notices.base_url, tx.clock.now(), before_writing=lambda: tx.wakes_relays(MAIL_CHANNEL)
    )


async def stage_notice(
    db: asyncpg.Connection,
    notice: rules.Notice,
    base_url: str,
    now: datetime,
    *,
    before_writing: Callable[[], Awaitable[None]] | None = None,
) -> int:
    """A message to each address that gets this notice, in the caller's transaction; returns how many.
    `before_writing` is awaited once there is a message to write, before it is written."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)  # the send continues the trace of what caused the notice
    rows = _messages(notice, await _recipients(db, notice), base_url, carrier, now)
    if rows:
        if before_writing is not None:
            await before_writing()
        await db.executemany(notice_store.MAIL_STAGED, rows)
    return len(rows)


async def _recipients(db: asyncpg.Connection, notice: rules.Notice) -> list[asyncpg.Record]:
    """Who gets the notice's kind for its audience: (email, language) rows, on the caller's connection."""
    statement, values = _recipients_statement(notice)
    return await db.fetch(statement.sql, *statement.arguments(values))


def _recipients_statement(notice: rules.Notice) -> tuple[Prepared, dict[str, Any]]:
    """The statement that finds who gets the notice's kind for its audience, and its values."""
    audience, kind = notice.audience, notice.kind.value
    if audience.coordinators:
        values = {"municipality": audience.municipality, "kind": kind, "partner_id": audience.partner_id}
        return notice_store.COORDINATOR_RECIPIENTS, values
    if audience.partner_id is not None:
        roles = [role.value for role in rules.CONTACT_ROLES.get(notice.kind, ())]
        return notice_store.PARTNER_RECIPIENTS, {"partner_id": audience.partner_id, "kind": kind, "roles": roles}
    return notice_store.LIBRARY_RECIPIENTS, {"library": audience.library, "kind": kind}


def _messages(
    notice: rules.Notice, found: Sequence[Mapping[str, Any]], base_url: str, carrier: dict[str, str], now: datetime
) -> list[tuple[Any, ...]]:
    """A MAIL_STAGED row for each address found (once each)."""
    audience = notice.audience
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
    return rows


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
            "municipality": actor.municipality,  # a coordinator's notices are their municipality's
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


@dataclass(kw_only=True)
class MailWorker(mail.MailWorker[Mail]):
    """Due notices, to the SMTP server (shared/mail.py), counted in `partnernet.mail.sent{kind, result}`."""

    telemetry: Telemetry
    label: ClassVar[str] = "mail"
    claim: ClassVar[str] = notice_store.MAIL_CLAIM
    batch: ClassVar[int] = MAIL_BATCH

    def __post_init__(self) -> None:
        self._sent = zero_start_counter(
            self.telemetry.meter("partnernet.mail"), MAIL_SENT, description="notices tried by e-mail, by result"
        )
        self._sent.start({"result": "gave_up"})

    def row(self, record: Mapping[str, Any]) -> Mail:
        return Mail(**record)

    def message(self, row: Mail) -> EmailMessage:
        return mail.email_message(
            message_id=str(row.id),
            sender=self.sender_address,
            recipient=row.recipient,
            subject=row.subject,
            body=row.body,
            language=row.language,
            created=row.created_at,
        )

    async def record(self, db: asyncpg.Connection, tried: Sequence[mail.Tried[Mail]], now: datetime) -> None:
        # the failure stays in the row for operators: (id, attempts, last error, sent, failed, next attempt)
        await db.executemany(
            notice_store.MAIL_TRIED,
            [
                (
                    one.row.id,
                    one.attempts,
                    None if one.error is None else mail.describe(one.error),
                    now if one.result == "sent" else None,
                    now if one.result == "gave_up" else None,
                    one.retry_at,
                )
                for one in tried
            ],
        )
        for one in tried:
            self._sent.add(1, {"kind": one.row.kind, "result": one.result})


def mail_relay(settings: Settings, worker: MailWorker) -> Relay[Mail, BaseException | None]:
    return worker.relay(settings, name="mail", schema="partners", channel=MAIL_CHANNEL)
