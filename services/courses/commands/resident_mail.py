"""Messages to residents, from the `resident_mail` outbox to the SMTP server: the same relay and SMTP sender the
partners service's notices use (shared/relay.py, shared/mail.py). A row names only the kind of message and the
registration; the address, the name and the link come from the sealed registration at the moment of sending,
and the row is deleted once the server took it, so nothing of the resident stays with the message.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg
from opentelemetry import propagate
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer

from services.courses.domain.resident_messages import resident_message
from services.courses.store import residents as store
from services.courses.store.residents import ResidentVault
from shared.clock import Clock
from shared.mail import SmtpSender, email_message, is_permanent
from shared.relay import Relay
from shared.retry import RetryPolicy
from shared.settings import Settings

log = logging.getLogger(__name__)
CHANNEL = "partnernet_resident_mail_courses"
BATCH = 20


@dataclass(frozen=True, kw_only=True)
class ResidentMail:
    id: UUID
    kind: str
    registration_id: UUID
    trace_context: dict[str, str]
    created_at: datetime
    attempts: int
    sealed: bytes | None
    language: str
    municipality: str
    session_id: UUID
    offer_expires_at: datetime | None
    registered_at: datetime
    title: str
    starts_at: datetime
    place: str | None


@dataclass
class ResidentMailWorker:
    clock: Clock
    sender: SmtpSender
    vault: ResidentVault
    policy: RetryPolicy
    sender_address: str
    public_url: str
    tracer: Tracer
    jitter: random.Random = field(default_factory=random.Random)

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.sender.server.timeout * 3 + 30)

    async def pending(self, db: asyncpg.Connection, limit: int) -> Sequence[ResidentMail]:
        now = self.clock.now()
        rows = await db.fetch(store.MAIL_CLAIM, now, min(limit, BATCH), now + self.lease)
        return [ResidentMail(**dict(row)) for row in rows]

    def link(self, row: ResidentMail) -> str:
        token = self.vault.links.token(row.registration_id)
        return f"{self.public_url}/m/{row.municipality}/registrations/{token}?lang={row.language}"

    async def send(self, rows: Sequence[ResidentMail]) -> Sequence[BaseException | None]:
        # Span attributes name the message and the registration by id only: no address, no name, no link.
        spans = [
            self.tracer.start_span(
                f"resident mail {row.kind}",
                context=propagate.extract(row.trace_context or {}),
                kind=SpanKind.CLIENT,
                attributes={"partnernet.mail": str(row.id), "partnernet.mail_attempt": row.attempts + 1},
            )
            for row in rows
        ]
        outcomes: list[BaseException | None] = [None] * len(rows)
        messages, sent_rows = [], []
        for index, row in enumerate(rows):
            if row.sealed is None:
                continue  # erased meanwhile: nothing to send, the row goes
            contact = self.vault.open(row.sealed)
            text = resident_message(
                row.kind,
                row.language,
                name=contact.name,
                course=row.title,
                starts_at=row.starts_at,
                place=row.place,
                link=self.link(row),
                offer_expires_at=row.offer_expires_at,
            )
            messages.append(
                email_message(
                    message_id=str(row.id),
                    sender=self.sender_address,
                    recipient=contact.email,
                    subject=text.subject,
                    body=text.body,
                    language=row.language,
                    created=row.created_at,
                )
            )
            sent_rows.append(index)
        for index, outcome in zip(sent_rows, await self.sender.send(messages), strict=True):
            outcomes[index] = outcome
        for span, outcome in zip(spans, outcomes, strict=True):
            if outcome is not None:
                span.set_status(Status(StatusCode.ERROR, type(outcome).__name__))
            span.end()
        return outcomes

    async def settle(
        self, db: asyncpg.Connection, rows: Sequence[ResidentMail], outcomes: Sequence[BaseException | None]
    ) -> int:
        now = self.clock.now()
        for row, error in zip(rows, outcomes, strict=True):
            attempts = row.attempts + 1
            if error is None:
                await db.execute(store.MAIL_SENT, row.id)
            elif is_permanent(error) or self.policy.gives_up(attempts):
                # describe() may quote the server's reply, which can name the recipient: not in the log.
                log.error("resident mail %s (%s) not sent, given up after %d tries", row.id, row.kind, attempts)
                await db.execute(store.MAIL_TRIED, row.id, attempts, type(error).__name__, now, None)
            else:
                retry_at = now + self.policy.delay(attempts, self.jitter.random())
                log.warning("resident mail %s (%s) not sent (try %d), tried again", row.id, row.kind, attempts)
                await db.execute(store.MAIL_TRIED, row.id, attempts, type(error).__name__, None, retry_at)
        return len(rows)

    def wait_seconds(self, poll_seconds: float) -> float:
        return poll_seconds


def resident_mail_relay(settings: Settings, worker: ResidentMailWorker) -> Relay[ResidentMail, BaseException | None]:
    return Relay(
        name="resident-mail",
        outlet=worker,
        database_url=settings.database_url,
        schema="courses",
        channel=CHANNEL,
        exclusive=False,
        poll_seconds=settings.partner_delivery_poll_seconds,
        batch_size=BATCH,
    )
