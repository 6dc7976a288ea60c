"""The Idempotency-Key store on a broker that stopped reading (paused, partitioned): a POST is refused at once with a
503 naming the broker, where its Key-Value call waited for the broker with no deadline (shared/messaging.py
`broker_backed_up`)."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from nats.aio.client import Client as Nats

from gateway.auth import CALLER, Caller
from gateway.idempotency import IdempotencyBucket, IdempotencyMiddleware
from launcher.embedded import EmbeddedNats
from shared.errors import ServiceUnavailable
from shared.messaging import broker_backed_up, connect_nats
from shared.tenancy import Actor, Role
from tests.servers import paused
from tests.waiting import PATIENCE_SECONDS


async def test_a_post_with_a_key_is_refused_at_once_while_the_broker_takes_nothing(tmp_path: Path) -> None:
    with EmbeddedNats(tmp_path / "nats") as server:
        connection = Nats()
        await connect_nats(connection, server.url, name="test-gateway")
        bucket = IdempotencyBucket(connection=connection)
        await bucket.open(connection.jetstream())
        middleware = IdempotencyMiddleware(bucket, secret="s" * 32, max_body_bytes=1024)
        reached: list[str] = []

        async def route(scope: Any, receive: Any, send: Any) -> None:
            reached.append(scope["path"])

        async def body() -> Any:
            return {"type": "http.request", "body": b"{}", "more_body": False}

        async def sent(message: Any) -> None:
            pass

        caller = Caller(actor=Actor(subject="staff-1", role=Role.STAFF, library="a"))
        scope: Any = {
            "type": "http",
            "method": "POST",
            "path": "/api/v1/referrals",
            "query_string": b"",
            "headers": [(b"idempotency-key", str(uuid.uuid4()).encode()), (b"content-type", b"application/json")],
            "state": {CALLER: caller},
        }
        try:
            with paused(server):
                filler = 0
                # What a loaded gateway sends meanwhile, left unread, in messages small enough that none takes the
                # buffer past its limit (that publish would wait for the broker: this test would hang).
                while not broker_backed_up(connection):
                    await connection.publish("nobody.listens", b"x" * 1_000)
                    filler += 1
                    await asyncio.sleep(0)  # the flusher writes what fits into the socket, then waits
                started = time.monotonic()
                with pytest.raises(ServiceUnavailable) as refused:
                    await asyncio.wait_for(middleware.handle(scope, body, sent, route), PATIENCE_SECONDS)
                took = time.monotonic() - started
        finally:
            await connection.close()
    assert filler > 0
    assert refused.value.extra.get("service") == "nats" and "not taking" in str(refused.value), refused.value
    assert took < 1.0, f"refused after {took:.1f} s"
    assert reached == [], "the route did not run"
