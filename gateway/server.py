"""The gateway's HTTP server: `python -m gateway` and `partnernet gateway` both serve the app this way."""

from __future__ import annotations

import uvicorn

from gateway.app import create_app
from shared.settings import Settings
from shared.telemetry import setup_logging


def serve(settings: Settings | None = None, port: int | None = None) -> None:
    settings = settings or Settings.from_env()
    setup_logging("gateway", settings.log_level)
    uvicorn.run(
        create_app(settings),
        host=settings.gateway_host,
        port=port or settings.gateway_port,
        log_level="warning",
        access_log=False,
        log_config=None,  # keep our JSON lines: uvicorn would install text handlers of its own
    )
