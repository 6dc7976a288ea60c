"""Finding 8: request headers are bounded, and X-Forwarded-For is believed only from proxies an operator names."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from gateway.server import server_config
from launcher.embedded import free_port
from shared.settings import Settings
from tests.fixtures.platform import RunningPlatform, another_gateway
from tests.fixtures.tenants import Tenant
from tests.referral_bodies import referral_body
from tests.serving import serving
from tests.waiting import PATIENCE_SECONDS


async def raw_request(base_url: str, head: bytes) -> tuple[bytes, int]:
    """What the server answers to bytes sent as they are, in pieces, and how many it took before it answered."""
    host, port = base_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    sent = 0
    try:
        for start in range(0, len(head), 16 * 1024):
            try:
                writer.write(head[start : start + 16 * 1024])
                await writer.drain()
            except ConnectionError:
                break  # the server stopped reading: what did it say?
            sent = start + 16 * 1024
            if reader.at_eof() or reader._buffer:  # type: ignore[attr-defined]  # anything the server said
                break
            await asyncio.sleep(0)
        return await asyncio.wait_for(reader.read(65536), timeout=10), sent
    finally:
        writer.close()


async def test_headers_larger_than_the_limit_are_a_431_before_the_application(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    limit = platform.settings.max_header_bytes
    async with platform.client(tenant.staff_a) as api:
        many = await api.get("/api/v1/referrals", headers={f"x-pad-{i}": "b" * 1000 for i in range(limit // 1000 + 2)})
        long_url = await api.get("/api/v1/referrals", params={"q": "c" * (limit + 1)})
        fitting = await api.get("/api/v1/referrals", headers={"x-padding": "d" * (limit // 2)})
    for what, response in {"many headers": many, "a long URL": long_url}.items():
        assert response.status_code == 431, what
        assert response.headers["content-type"] == "application/problem+json", what
        assert response.json()["status"] == 431, what
    assert fitting.status_code == 200


async def test_a_4_mb_header_is_cut_off_while_it_is_still_arriving(platform: RunningPlatform) -> None:
    limit = platform.settings.max_header_bytes
    head = b"GET /health HTTP/1.1\r\nhost: x\r\nx-padding: " + b"e" * (4 * 1024 * 1024)
    answer, sent = await raw_request(platform.base_url, head)
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    assert sent < 1024 * 1024, "the server answered long before the whole header had come in"
    assert limit < 1024 * 1024


@pytest.fixture
async def own_gateway(platform: RunningPlatform) -> AsyncIterator[str]:
    """A second gateway on the session's services: its lockouts of 127.0.0.1 reach no other test."""
    async with another_gateway(platform.settings) as url:
        yield url


async def test_anyone_on_the_host_cannot_dodge_the_participant_pages_lockout_with_x_forwarded_for(
    own_gateway: str,
) -> None:
    """From loopback, each wrong guess claiming another client address: all of them are this one client."""
    async with httpx.AsyncClient(base_url=own_gateway, timeout=PATIENCE_SECONDS) as guesser:
        statuses = [
            (await guesser.get(f"/p/{guess}", headers={"x-forwarded-for": f"203.0.113.{n}"})).status_code
            for n, guess in enumerate(("AAAA-AAAA", "CCCC-CCCC", "DDDD-DDDD", "EEEE-EEEE", "FFFF-FFFF", "GGGG-GGGG"))
        ]
    assert statuses == [404] * 5 + [429]


@asynccontextmanager
async def served(settings: Settings) -> AsyncIterator[str]:
    """A tiny application that tells which client address it sees, served like the gateway."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        body = (scope.get("client") or ("-", 0))[0].encode()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": body})

    port = free_port()
    async with serving(server_config(app, settings, port=port, lifespan="off")):
        yield f"http://127.0.0.1:{port}"


async def test_x_forwarded_for_is_believed_only_from_a_configured_proxy() -> None:
    forwarded = {"x-forwarded-for": "203.0.113.9"}
    async with served(Settings()) as url, httpx.AsyncClient(base_url=url) as client:
        assert (await client.get("/", headers=forwarded)).text == "127.0.0.1"
    async with served(Settings(trusted_proxies=("127.0.0.1",))) as url, httpx.AsyncClient(base_url=url) as client:
        assert (await client.get("/", headers=forwarded)).text == "203.0.113.9"
    async with served(Settings(trusted_proxies=("10.0.0.0/8",))) as url, httpx.AsyncClient(base_url=url) as client:
        assert (await client.get("/", headers=forwarded)).text == "127.0.0.1"


async def test_a_body_larger_than_the_header_limit_is_not_counted_as_headers(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    body = referral_body(tenant.library_a, tenant.partner_a, reason="f" * (platform.settings.max_header_bytes * 2))
    async with platform.client(tenant.partner_a_token) as api:
        response = await api.post("/api/v1/referrals", json=body)
    # The application read it and found the reason too long: no 431.
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["key"] == "reason"
