"""The cyclic garbage collector in a test process: what is alive once the suite is collected is kept out of its
scans, and it runs less often.

A worker holds the whole stack (Litestar, SQLAlchemy, the services, the collected tests: about 220,000 objects
after collection) and runs the session's platform in its event loop, so every full collection walked all of them
again: 3.2 s of a worker's 20 s of CPU over tests/e2e/test_referrals_*.py (4 Dec 2026), 15%. Frozen after
collection and with larger thresholds, 1.8 s. Objects are still freed as before (reference counting, and the
collector for everything made after collection); only what was alive at collection is never scanned again, and it
lives until the process ends anyway.
"""

from __future__ import annotations

import gc

import pytest

# CPython's defaults are (700, 10, 10): a young collection every 700 allocations more than frees, which the
# platform's request handling reaches many times a request.
THRESHOLDS = (20_000, 50, 50)


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    gc.collect()  # nothing unreachable is frozen
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
