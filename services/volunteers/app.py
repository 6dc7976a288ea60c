"""The volunteers service's one wiring point."""

from __future__ import annotations

from pathlib import Path

from services.volunteers import handlers
from services.volunteers.store.personal_data import PersonVault
from shared.clock import Clock
from shared.service import ServiceRuntime
from shared.settings import Settings
from shared.telemetry import Telemetry

NAME = "volunteers"


def build(settings: Settings, *, telemetry: Telemetry | None = None, clock: Clock | None = None) -> ServiceRuntime:
    runtime = ServiceRuntime.create(
        NAME, settings, Path(__file__).parent / "migrations", telemetry=telemetry, clock=clock
    )
    handlers.register(runtime, PersonVault(settings.encryption_key, settings.blind_index_key))
    return runtime
