"""The suite's plugins. Fixtures that start real servers live in tests/fixtures/, and only there.

The session gets one real NATS JetStream and one real PostgreSQL (tests/fixtures/servers.py), a fresh database, and
the four services plus the gateway running in-process against them (tests/fixtures/platform.py). Helpers a test calls
are imported from their own modules (tests/waiting.py, tests/referral_bodies.py, the fixtures' modules), not from here.
"""

pytest_plugins = [
    # In this order, as when the session guards were this module itself: its hooks first, the checkout guard's after.
    "tests.session_guards",  # the run's own temporary directory, and no process of the run left behind
    "tests.checkout_guard",  # a run leaves the checkout as it found it
    "tests.scheduling",  # how pytest-xdist shares the suite between its workers
    "tests.garbage",  # the cyclic garbage collector spares what collection loaded
    "tests.fixtures.servers",
    "tests.fixtures.platform",
    "tests.fixtures.tenants",
    "tests.fixtures.webhooks",
]
