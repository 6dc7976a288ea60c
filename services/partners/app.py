"""The partners service's one wiring point."""

from __future__ import annotations

from pathlib import Path

from services.partners import handlers
from services.partners.channels import NatsFeeds, WebhookSender, WebhookTargets
from services.partners.commands.notices import MailWorker, Notices
from services.partners.commands.webhooks import DeliveryWorker
from services.partners.domain.targets import TargetPolicy
from shared.clock import Clock
from shared.mail import SmtpSender, SmtpServer
from shared.metrics import webhook_deliveries
from shared.retry import RetryPolicy
from shared.service import ServiceRuntime
from shared.settings import Settings
from shared.telemetry import Telemetry

NAME = "partners"


def build(settings: Settings, *, telemetry: Telemetry | None = None, clock: Clock | None = None) -> ServiceRuntime:
    runtime = ServiceRuntime.create(
        NAME, settings, Path(__file__).parent / "migrations", telemetry=telemetry, clock=clock
    )
    notices = Notices.from_settings(settings)
    targets = WebhookTargets(TargetPolicy.parse(settings.webhook_allowed_targets))
    worker = DeliveryWorker(
        work=runtime.unit_of_work,
        sender=WebhookSender(settings.webhook_timeout_seconds, targets),
        policy=RetryPolicy(
            max_attempts=settings.webhook_max_attempts,
            base_seconds=settings.webhook_retry_base_seconds,
            max_seconds=settings.webhook_retry_max_seconds,
        ),
        tracer=runtime.telemetry.tracer("partnernet.webhooks"),
        deliveries=webhook_deliveries(runtime.telemetry.meter("partnernet.webhooks")),
        notices=notices,
    )
    smtp = SmtpServer.from_settings(settings)
    mail = None
    if smtp is not None:
        mail = MailWorker(
            clock=runtime.clock,
            sender=SmtpSender(smtp),
            policy=RetryPolicy(
                max_attempts=settings.mail_max_attempts,
                base_seconds=settings.mail_retry_base_seconds,
                max_seconds=settings.mail_retry_max_seconds,
            ),
            sender_address=settings.mail_from,
            tracer=runtime.telemetry.tracer("partnernet.mail"),
            telemetry=runtime.telemetry,
        )
    handlers.register(runtime, NatsFeeds.from_url(runtime.broker, settings.nats_url), worker, targets, notices, mail)
    return runtime
