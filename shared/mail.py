"""How notices leave a service by e-mail: by SMTP, to the server the settings name (the partners service's notices,
the courses service's messages to residents).

The standard library's smtplib in a worker thread, one connection per batch; built once in app.py from the
settings, nothing here connects before the first batch. Never raises: each message's outcome is what the mail
outbox records (None when the server took it).
"""

from __future__ import annotations

import asyncio
import contextlib
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from shared.settings import Settings


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
