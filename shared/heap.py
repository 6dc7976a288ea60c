"""The heap of a long-running process once it has started: collected once and frozen out of later collections.

What a gateway or service builds at start (the app, its routes and OpenAPI document, SQLAlchemy's tables and
compiled statements, the contracts' types) lives as long as the process: 200,000 objects in the gateway. A
full collection walked all of them each time it ran, stopping the event loop for 60-300 ms on the 2-core
machine (1 s in a loaded service), and every request waiting in that process then waited that long: these
pauses were the read's p99 (`python -m benchmarks --only read`). Frozen, they are never walked again, and a
full collection walks only what was made after start.

After start the youngest generation is collected every `YOUNG_COLLECTION_THRESHOLD` container allocations (net of
those freed) instead of CPython's 700. A request's objects (its decoded body, the statement's arguments, the
reply, futures and spans) live for the request's milliseconds, and 16 submissions in flight keep a few thousand of
them alive at any moment: at 700 each young collection walked them, and moved those still alive to the older
generations, whose collections then walked them again. The referrals service at the pipeline's maximum ran 9.1-9.5
young and 0.8-0.9 middle collections a second (5.8-12.7 ms of them a second, 33-75 µs a referral, pauses up to
14 ms); at 10,000, 0.3 young collections a second and no middle one (1.1-1.6 ms a second, 6-9 µs a referral,
pauses up to 5-7 ms; issue 17, 4 Dec, on a loaded 2-core machine, so the times include waits for a core).
"""

from __future__ import annotations

import gc
import logging

log = logging.getLogger(__name__)

YOUNG_COLLECTION_THRESHOLD = 10_000  # CPython's default is 700; the older generations keep theirs (10, 10)


def freeze_after_start() -> None:
    """Collect what start-up left behind, then move every object that remains out of the collector's sight, and
    collect the youngest generation less often from now on (`YOUNG_COLLECTION_THRESHOLD`)."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, middle, old)
    log.debug("heap frozen after start", extra={"objects": gc.get_freeze_count()})
