"""How notices leave a service by e-mail: by SMTP, to the server the settings name (the partners service's notices,
the courses service's messages to residents).

The standard library's smtplib in a worker thread, one connection per batch; built once in app.py from the
settings, nothing here connects before the first batch. Never raises: each message's outcome is what the mail
outbox records (None when the server took it). `MailWorker` is the relay outlet both services' mail outboxes use:
claim due rows with a lease, send them with a span each, and settle each as sent, tried again later or given up;
a service says only how a row becomes a message and how its outcome is written.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import smtplib
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any, ClassVar, Generic, Literal, Protocol, TypeVar
from uuid import UUID

import asyncpg
from opentelemetry import propagate
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer

from shared.clock import Clock
from shared.relay import Relay
from shared.retry import RetryPolicy
from shared.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    username: str | None
    password: str | None
    security: str  # none, starttls, tls
    timeout: float

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpServer | None:
        if not settings.smtp_host:
            return None
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password,
            security=settings.smtp_security,
            timeout=settings.smtp_timeout_seconds,
        )


class SmtpSender:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def send(self, messages: Sequence[EmailMessage]) -> list[BaseException | None]:
        return await asyncio.to_thread(self._send_all, messages)

    def _connect(self) -> smtplib.SMTP:
        server = self.server
        client: smtplib.SMTP
        if server.security == "tls":
            client = smtplib.SMTP_SSL(
                server.host, server.port, timeout=server.timeout, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(server.host, server.port, timeout=server.timeout)
        try:
            client.ehlo()
            if server.security == "starttls":
                client.starttls(context=ssl.create_default_context())
                client.ehlo()
            if server.username:
                client.login(server.username, server.password or "")
        except BaseException:
            with contextlib.suppress(Exception):
                client.close()
            raise
        return client

    def _send_all(self, messages: Sequence[EmailMessage]) -> list[BaseException | None]:
        try:
            client = self._connect()
        except (OSError, smtplib.SMTPException) as exc:
            return [exc] * len(messages)
        outcomes: list[BaseException | None] = []
        try:
            for message in messages:
                try:
                    client.send_message(message)
                except smtplib.SMTPServerDisconnected as exc:  # the rest did not go either
                    outcomes += [exc] * (len(messages) - len(outcomes))
                    break
                except (OSError, smtplib.SMTPException) as exc:
                    outcomes.append(exc)
                    with contextlib.suppress(Exception):
                        client.rset()
                else:
                    outcomes.append(None)
        finally:
            with contextlib.suppress(Exception):
                client.quit()
        return outcomes


def is_permanent(error: BaseException) -> bool:
    """The server refused this message for good (5xx for its recipient or its content): trying again cannot help.
    Anything else (a server away, 4xx, a refused sign-in, which an operator fixes) is tried again."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPDataError):
        return error.smtp_code >= 500
    return False


def describe(error: BaseException) -> str:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = ", ".join(f"{code} {reply.decode(errors='replace')}" for code, reply in error.recipients.values())
        return f"recipient refused: {codes}"[:500]
    if isinstance(error, smtplib.SMTPResponseException):
        reply = error.smtp_error.decode(errors="replace") if isinstance(error.smtp_error, bytes) else error.smtp_error
        return f"{type(error).__name__}: {error.smtp_code} {reply}"[:500]
    return f"{type(error).__name__}: {error}"[:500]


def email_message(
    *, message_id: str, sender: str, recipient: str, subject: str, body: str, language: str, created: datetime
) -> EmailMessage:
    """A plain-text message. Its Message-ID is the outbox row's: a copy sent twice (a crash between the server's
    acceptance and the row's mark) is recognisably the same message."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = subject
    message["Date"] = format_datetime(created)
    message["Message-ID"] = f"<{message_id}@partnernet>" if message_id else make_msgid()
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies
    message.set_content(body)
    message["Content-Language"] = language  # after the content, which clears the Content-* headers
    return message


class MailRow(Protocol):
    """What the worker needs of a claimed outbox row; each service's row has more (its recipient, its text)."""

    @property
    def id(self) -> UUID: ...
    @property
    def kind(self) -> str: ...
    @property
    def trace_context(self) -> dict[str, str]: ...
    @property
    def attempts(self) -> int: ...


M = TypeVar("M", bound=MailRow)


@dataclass(frozen=True)
class Tried(Generic[M]):
    """One row's outcome as the worker decided it: `retry_at` is set when it is tried again."""

    row: M
    attempts: int
    error: BaseException | None
    result: Literal["sent", "failed", "gave_up"]
    retry_at: datetime | None


@dataclass(kw_only=True)
class MailWorker(Generic[M]):
    """Due messages of one mail outbox, to the SMTP server. Not exclusive: replicas share the work, each claiming
    what it sends (a lease long enough for the server's timeouts)."""

    clock: Clock
    sender: SmtpSender
    policy: RetryPolicy
    sender_address: str
    tracer: Tracer
    jitter: random.Random = field(default_factory=random.Random)

    label: ClassVar[str]  # in span names and log lines: "mail", "resident mail"
    claim: ClassVar[str]  # SQL: ($1 now, $2 limit, $3 lease until) → the claimed rows
    batch: ClassVar[int]

    def row(self, record: Mapping[str, Any]) -> M:
        raise NotImplementedError

    def message(self, row: M) -> EmailMessage | None:
        """The message for a row, or None when there is nothing to send any more (the row is settled as sent)."""
        raise NotImplementedError

    async def record(self, db: asyncpg.Connection, tried: Sequence[Tried[M]], now: datetime) -> None:
        raise NotImplementedError

    def failure(self, error: BaseException) -> str:
        """What a failure says in spans and logs."""
        return describe(error)

    def mark_failed(self, span: Span, error: BaseException) -> None:
        span.record_exception(error)
        span.set_status(Status(StatusCode.ERROR, self.failure(error)))

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.sender.server.timeout * 3 + 30)

    async def pending(self, db: asyncpg.Connection, limit: int) -> Sequence[M]:
        now = self.clock.now()
        records = await db.fetch(self.claim, now, min(limit, self.batch), now + self.lease)
        return [self.row(dict(record)) for record in records]

    async def send(self, rows: Sequence[M]) -> Sequence[BaseException | None]:
        spans = [
            self.tracer.start_span(
                f"{self.label} {row.kind}",
                context=propagate.extract(row.trace_context or {}),
                kind=SpanKind.CLIENT,
                attributes={"partnernet.mail": str(row.id), "partnernet.mail_attempt": row.attempts + 1},
            )
            for row in rows
        ]
        outcomes: list[BaseException | None] = [None] * len(rows)
        messages: list[EmailMessage] = []
        sent: list[int] = []
        for index, row in enumerate(rows):
            message = self.message(row)
            if message is not None:
                messages.append(message)
                sent.append(index)
        for index, outcome in zip(sent, await self.sender.send(messages), strict=True):
            outcomes[index] = outcome
        for span, outcome in zip(spans, outcomes, strict=True):
            if outcome is not None:
                self.mark_failed(span, outcome)
            span.end()
        return outcomes

    async def settle(self, db: asyncpg.Connection, rows: Sequence[M], outcomes: Sequence[BaseException | None]) -> int:
        now = self.clock.now()
        tried: list[Tried[M]] = []
        for row, error in zip(rows, outcomes, strict=True):
            attempts = row.attempts + 1
            if error is None:
                tried.append(Tried(row, attempts, None, "sent", None))
            elif is_permanent(error) or self.policy.gives_up(attempts):
                log.error(
                    "%s %s (%s) not sent, given up after %d tries: %s",
                    *(self.label, row.id, row.kind, attempts, self.failure(error)),
                )
                tried.append(Tried(row, attempts, error, "gave_up", None))
            else:
                retry_at = now + self.policy.delay(attempts, self.jitter.random())
                log.warning(
                    "%s %s (%s) not sent (try %d), tried again: %s",
                    *(self.label, row.id, row.kind, attempts, self.failure(error)),
                )
                tried.append(Tried(row, attempts, error, "failed", retry_at))
        await self.record(db, tried, now)
        return len(rows)

    def wait_seconds(self, poll_seconds: float) -> float:
        return poll_seconds  # retries fall due between NOTIFYs: the poll finds them

    def relay(self, settings: Settings, *, name: str, schema: str, channel: str) -> Relay[M, BaseException | None]:
        """Replicas share the work (not exclusive); woken when a message is written."""
        return Relay(
            name=name,
            outlet=self,
            database_url=settings.database_url,
            schema=schema,
            channel=channel,
            exclusive=False,
            poll_seconds=settings.partner_delivery_poll_seconds,
            batch_size=self.batch,
        )
