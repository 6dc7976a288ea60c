"""The partners service's one wiring point."""

from __future__ import annotations

from pathlib import Path

from services.partners import handlers
from shared.clock import Clock
from shared.service import ServiceRuntime
from shared.settings import Settings
from shared.telemetry import Telemetry

NAME = "partners"


def build(settings: Settings, *, telemetry: Telemetry | None = None, clock: Clock | None = None) -> ServiceRuntime:
    runtime = ServiceRuntime.create(
        NAME, settings, Path(__file__).parent / "migrations", telemetry=telemetry, clock=clock
    )
    handlers.register(runtime)
    return runtime
