"""The partners service's one wiring point."""

from __future__ import annotations

from pathlib import Path

from services.partners import handlers
from services.partners.channels import NatsFeeds, WebhookSender, WebhookTargets
from services.partners.commands.webhooks import DeliveryWorker
from services.partners.domain.targets import TargetPolicy
from services.partners.domain.webhooks import RetryPolicy
from shared.clock import Clock
from shared.metrics import webhook_deliveries
from shared.service import ServiceRuntime
from shared.settings import Settings
from shared.telemetry import Telemetry

NAME = "partners"


def build(settings: Settings, *, telemetry: Telemetry | None = None, clock: Clock | None = None) -> ServiceRuntime:
    runtime = ServiceRuntime.create(
        NAME, settings, Path(__file__).parent / "migrations", telemetry=telemetry, clock=clock
    )
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
    )
    handlers.register(runtime, NatsFeeds.from_url(runtime.broker, settings.nats_url), worker, targets)
    return runtime
