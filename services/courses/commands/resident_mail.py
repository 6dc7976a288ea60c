"""Messages to residents, from the `resident_mail` outbox to the SMTP server: the same relay and SMTP sender the
partners service's notices use (shared/mail.py's MailWorker). A row names only the kind of message and the
registration; the address, the name and the link come from the sealed registration at the moment of sending,
and the row is deleted once the server took it, so nothing of the resident stays with the message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Any, ClassVar
from uuid import UUID

import asyncpg
from opentelemetry.trace import Span, Status, StatusCode

from services.courses.domain.resident_messages import resident_message
from services.courses.store import residents as store
from services.courses.store.residents import ResidentVault
from shared.mail import MailWorker, Tried, email_message
from shared.relay import Relay
from shared.settings import Settings

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


@dataclass(kw_only=True)
class ResidentMailWorker(MailWorker[ResidentMail]):
    vault: ResidentVault
    public_url: str
    label: ClassVar[str] = "resident mail"
    claim: ClassVar[str] = store.MAIL_CLAIM
    batch: ClassVar[int] = BATCH

    def row(self, record: Mapping[str, Any]) -> ResidentMail:
        return ResidentMail(**record)

    def link(self, row: ResidentMail) -> str:
        token = self.vault.links.token(row.registration_id)
        return f"{self.public_url}/m/{row.municipality}/registrations/{token}?lang={row.language}"

    def message(self, row: ResidentMail) -> EmailMessage | None:
        if row.sealed is None:
            return None  # erased meanwhile: nothing to send, the row goes
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
        return email_message(
            message_id=str(row.id),
            sender=self.sender_address,
            recipient=contact.email,
            subject=text.subject,
            body=text.body,
            language=row.language,
            created=row.created_at,
        )

    def failure(self, error: BaseException) -> str:
        # describe() may quote the server's reply, which can name the recipient: not in spans or the log.
        return type(error).__name__

    def mark_failed(self, span: Span, error: BaseException) -> None:
        span.set_status(Status(StatusCode.ERROR, self.failure(error)))  # no exception recorded: it names the address

    async def record(self, db: asyncpg.Connection, tried: Sequence[Tried[ResidentMail]], now: datetime) -> None:
        for one in tried:
            if one.error is None:
                await db.execute(store.MAIL_SENT, one.row.id)
            else:
                gave_up = now if one.result == "gave_up" else None
                await db.execute(
                    store.MAIL_TRIED, one.row.id, one.attempts, self.failure(one.error), gave_up, one.retry_at
                )


def resident_mail_relay(settings: Settings, worker: ResidentMailWorker) -> Relay[ResidentMail, BaseException | None]:
    return worker.relay(settings, name="resident-mail", schema="courses", channel=CHANNEL)
