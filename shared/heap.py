"""The heap of a long-running process once it has started: collected once and frozen out of later collections.

What a gateway or service builds at start (the app, its routes and OpenAPI document, SQLAlchemy's tables and
compiled statements, the contracts' types) lives as long as the process: 200,000 objects in the gateway. A
full collection walked all of them each time it ran, stopping the event loop for 60-300 ms on the 2-core
machine (1 s in a loaded service), and every request waiting in that process then waited that long: these
pauses were the read's p99 (`python -m benchmarks --only read`). Frozen, they are never walked again, and a
full collection walks only what was made after start.
"""

from __future__ import annotations

import gc
import logging

log = logging.getLogger(__name__)


def freeze_after_start() -> None:
    """Collect what start-up left behind, then move every object that remains out of the collector's sight."""
    gc.collect()
    gc.freeze()
    log.debug("heap frozen after start", extra={"objects": gc.get_freeze_count()})
