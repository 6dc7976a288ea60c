"""The referrals service's one wiring point."""

from __future__ import annotations

from pathlib import Path

from services.referrals import handlers
from services.referrals.store.personal_data import ParticipantVault
from shared.clock import Clock
from shared.service import ServiceRuntime
from shared.settings import Settings
from shared.telemetry import Telemetry

NAME = "referrals"


def build(settings: Settings, *, telemetry: Telemetry | None = None, clock: Clock | None = None) -> ServiceRuntime:
    runtime = ServiceRuntime.create(
        NAME, settings, Path(__file__).parent / "migrations", telemetry=telemetry, clock=clock
    )
    handlers.register(runtime, ParticipantVault(settings.encryption_key, settings.pseudonym_key))
    return runtime
