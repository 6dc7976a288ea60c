"""The benchmark: partnernet against the limits beneath it (NATS, JetStream, PostgreSQL, a bare Litestar endpoint)."""
