"""The Idempotency-Key store on a broker that stopped reading (paused, partitioned): a POST is refused at once with a
503 naming the broker, where its Key-Value call waited for the broker with no deadline (shared/messaging.py
`broker_backed_up`); and what a request that ended while the broker took nothing left in the store is settled once
the broker is back."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import nats.js.errors
import pytest
from nats.aio.client import Client as Nats
from nats.js.kv import KeyValue

from gateway.auth import CALLER, Caller
from gateway.idempotency import IdempotencyBucket, IdempotencyMiddleware
from launcher.embedded import EmbeddedNats
from shared.errors import ServiceUnavailable
from shared.messaging import broker_backed_up, connect_nats
from shared.tenancy import Actor, Role
from tests.servers import paused
from tests.waiting import PATIENCE_SECONDS, eventually


@contextlib.asynccontextmanager
async def gateway_store(
    directory: Path, **jetstream: Any
) -> AsyncIterator[tuple[EmbeddedNats, Nats, IdempotencyBucket]]:
    """A real nats-server, a gateway's connection to it and the Idempotency-Key bucket on that connection."""
    with EmbeddedNats(directory / "nats") as server:
        connection = Nats()
        await connect_nats(connection, server.url, name="test-gateway")
        try:
            bucket = IdempotencyBucket(connection=connection)
            await bucket.open(connection.jetstream(**jetstream))
            yield server, connection, bucket
        finally:
            await connection.close()


def post_with_a_key() -> Any:
    """A staff member's POST with a fresh Idempotency-Key, as the middleware sees it (its caller authenticated)."""
    caller = Caller(actor=Actor(subject="staff-1", role=Role.STAFF, library="a"))
    return {
        "type": "http",
        "method": "POST",
        "path": "/api/v1/referrals",
        "query_string": b"",
        "headers": [(b"idempotency-key", str(uuid.uuid4()).encode()), (b"content-type", b"application/json")],
        "state": {CALLER: caller},
    }


async def request_body() -> Any:
    return {"type": "http.request", "body": b"{}", "more_body": False}


class Sent(list[Any]):
    """What the middleware sent back (ASGI messages)."""

    async def __call__(self, message: Any) -> None:
        self.append(message)


async def answer(send: Any, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def fill_until_backed_up(connection: Nats) -> int:
    """What a loaded gateway sends meanwhile, left unread by the paused broker, in messages small enough that none
    takes the buffer past its limit (that publish would wait for the broker: the test would hang). How many."""
    filler = 0
    while not broker_backed_up(connection):
        await connection.publish("nobody.listens", b"x" * 1_000)
        filler += 1
        await asyncio.sleep(0)  # the flusher writes what fits into the socket, then waits
    return filler


async def test_a_post_with_a_key_is_refused_at_once_while_the_broker_takes_nothing(tmp_path: Path) -> None:
    async with gateway_store(tmp_path) as (server, connection, bucket):
        middleware = IdempotencyMiddleware(bucket, secret="s" * 32, max_body_bytes=1024)
        reached: list[str] = []

        async def route(scope: Any, receive: Any, send: Any) -> None:
            reached.append(scope["path"])

        with paused(server):
            filler = await fill_until_backed_up(connection)
            started = time.monotonic()
            with pytest.raises(ServiceUnavailable) as refused:
                await asyncio.wait_for(
                    middleware.handle(post_with_a_key(), request_body, Sent(), route), PATIENCE_SECONDS
                )
            took = time.monotonic() - started
    assert filler > 0
    assert refused.value.extra.get("service") == "nats" and "not taking" in str(refused.value), refused.value
    assert took < 1.0, f"refused after {took:.1f} s"
    assert reached == [], "the route did not run"


@pytest.mark.parametrize("first_status", [503, 201], ids=["failed", "answered"])
async def test_a_marker_the_hung_broker_did_not_take_is_settled_once_it_is_back_so_a_retry_is_not_refused(
    tmp_path: Path, first_status: int
) -> None:
    """The first request ends while the broker takes nothing: its marker could be neither removed (it failed) nor
    replaced by its answer. Once the broker is back the gateway does it, and a retry runs again (failed) or gets the
    first answer (answered), where it met 409s until the marker was a minute old."""
    async with gateway_store(tmp_path) as (server, connection, bucket):
        # A retry waits for a running first request at most this long, then is refused with 409.
        middleware = IdempotencyMiddleware(bucket, secret="s" * 32, max_body_bytes=1024, wait_seconds=5)
        hang = contextlib.ExitStack()
        answers: list[int] = []

        async def route(scope: Any, receive: Any, send: Any) -> None:
            status = first_status if not answers else 201
            if not answers:  # the broker hangs while the first request runs, and the gateway has sent much meanwhile
                hang.enter_context(paused(server))
                await fill_until_backed_up(connection)
            answers.append(status)
            await answer(send, status, f"answer {len(answers)}".encode())

        scope, retried = post_with_a_key(), Sent()
        with hang:
            await asyncio.wait_for(middleware.handle(scope, request_body, Sent(), route), PATIENCE_SECONDS)
        # The broker is back once the connection has sent what it held (a reconnect, where the server dropped it).
        await eventually(lambda: asyncio.sleep(0.05, bucket.taking()), what="the broker taking calls again")
        started = time.monotonic()
        await asyncio.wait_for(middleware.handle(scope, request_body, retried, route), PATIENCE_SECONDS)
        took = time.monotonic() - started
    assert retried[0]["status"] != 409, retried
    if first_status == 503:
        assert answers == [503, 201] and retried[0]["status"] == 201, (answers, retried)
    else:
        assert answers == [201], "the retry is answered from the store: the route ran once"
        assert (b"idempotent-replayed", b"true") in retried[0]["headers"] and retried[1]["body"] == b"answer 1"
    assert took < 4, f"the retry waited {took:.1f} s"


async def test_a_marker_made_though_its_making_got_no_answer_is_removed_once_the_broker_answers(tmp_path: Path) -> None:
    """The marker's creation is sent, the broker hangs before answering it and applies it on resuming: the gateway
    answered 503 (the store did not answer) and made, as far as it knew, nothing. A retry then met a `processing`
    marker nobody would remove (409 until it was a minute old); now the gateway removes it, being its own."""
    async with gateway_store(tmp_path, timeout=1) as (server, _, bucket):  # the Key-Value calls' deadline: 1 s
        middleware = IdempotencyMiddleware(bucket, secret="s" * 32, max_body_bytes=1024, wait_seconds=5)
        reached: list[str] = []

        async def route(scope: Any, receive: Any, send: Any) -> None:
            reached.append(scope["path"])
            await answer(send, 201, b"made")

        scope, retried = post_with_a_key(), Sent()
        with paused(server), pytest.raises(ServiceUnavailable) as refused:
            await asyncio.wait_for(middleware.handle(scope, request_body, Sent(), route), PATIENCE_SECONDS)
        assert "does not answer" in str(refused.value) and reached == []
        kv = bucket.require()
        # Resumed, the broker applies the creation it held: a `processing` marker of a request that never ran.
        await eventually(lambda: markers(kv), what="the held creation applied")
        started = time.monotonic()
        await asyncio.wait_for(middleware.handle(scope, request_body, retried, route), PATIENCE_SECONDS)
        took = time.monotonic() - started
    assert retried[0]["status"] == 201 and reached == ["/api/v1/referrals"], retried
    assert took < 4, f"the retry waited {took:.1f} s"


async def markers(kv: KeyValue) -> list[str] | None:
    try:
        return list(await kv.keys())
    except nats.js.errors.NoKeysError:
        return None
