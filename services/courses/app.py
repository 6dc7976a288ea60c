"""The courses service's one wiring point."""

from __future__ import annotations

from pathlib import Path

from services.courses import handlers
from services.courses.commands.resident_mail import ResidentMailWorker
from services.courses.store.residents import ResidentVault
from shared.clock import Clock
from shared.mail import SmtpSender, SmtpServer
from shared.retry import RetryPolicy
from shared.service import ServiceRuntime
from shared.settings import Settings
from shared.telemetry import Telemetry

NAME = "courses"


def build(settings: Settings, *, telemetry: Telemetry | None = None, clock: Clock | None = None) -> ServiceRuntime:
    runtime = ServiceRuntime.create(
        NAME, settings, Path(__file__).parent / "migrations", telemetry=telemetry, clock=clock
    )
    vault = ResidentVault.from_keys(settings.encryption_key, settings.blind_index_key)
    smtp = SmtpServer.from_settings(settings)
    mail = None
    if smtp is not None:  # without an SMTP server residents cannot confirm: the calendar still shows the offer
        mail = ResidentMailWorker(
            clock=runtime.clock,
            sender=SmtpSender(smtp),
            vault=vault,
            policy=RetryPolicy(
                max_attempts=settings.mail_max_attempts,
                base_seconds=settings.mail_retry_base_seconds,
                max_seconds=settings.mail_retry_max_seconds,
            ),
            sender_address=settings.mail_from,
            public_url=settings.console_base_url,
            tracer=runtime.telemetry.tracer("partnernet.mail"),
        )
    handlers.register(runtime, vault, mail)
    return runtime
