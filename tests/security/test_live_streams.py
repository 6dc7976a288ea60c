"""Finding 3: a live stream lasts only as long as its credential. It ends at once when its API key is revoked
(the partners service's `api_key.revoked`), and within `stream_recheck_seconds` when its token expires; a stream
whose credential holds stays open through every check."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from gateway.auth import Authenticator, Caller
from shared.clock import FixedClock
from shared.tenancy import Actor, Role
from shared.tokens import TokenIssuer
from tests.e2e.test_gateway_live import EventStream
from tests.fixtures.platform import RunningPlatform, another_gateway_app
from tests.fixtures.tenants import Tenant
from tests.referral_bodies import referral_body
from tests.waiting import PATIENCE_SECONDS, eventually

RECHECK = 1.0


async def opened(response: httpx.Response) -> EventStream:
    assert response.status_code == 200, await response.aread()
    stream = EventStream(response)
    assert (await stream.next()).retry is not None  # open
    return stream


async def seconds_until_it_ends(stream: EventStream, timeout: float) -> tuple[float, list[str]]:
    """Read what is left of a stream; how long until the server ended it, and the lines it sent."""
    started, lines = time.monotonic(), []

    async def drain() -> None:
        async for line in stream.lines:
            lines.append(line)

    await asyncio.wait_for(drain(), timeout)
    return time.monotonic() - started, lines


async def test_a_feed_stream_ends_at_once_when_its_api_key_is_revoked(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    assert platform.settings.stream_recheck_seconds >= 60  # so only the revocation event can end it in time
    feed = f"/api/v1/partners/{tenant.partner_a}/feed/live"
    async with platform.client(tenant.partner_a_token) as owner:
        issued = await owner.post(
            f"/api/v1/partners/{tenant.partner_a}/api-keys", json={"name": "stream", "scopes": ["feed:read"]}
        )
        assert issued.status_code == 201, issued.text
        key = {"X-API-Key": issued.json()["key"]}
        async with platform.client() as api, api.stream("GET", feed, headers=key) as response:
            stream = await opened(response)
            revoked = await owner.delete(
                f"/api/v1/partners/{tenant.partner_a}/api-keys/{issued.json()['api_key']['id']}"
            )
            assert revoked.status_code == 200
            took, lines = await seconds_until_it_ends(stream, timeout=PATIENCE_SECONDS)
    # Well before the 60 s recheck: the revocation ended it.
    assert took < PATIENCE_SECONDS and any("no longer holds" in line for line in lines)
    async with platform.client() as api:
        assert (await api.get(feed, headers=key)).status_code == 401


async def test_streams_end_when_their_token_expires_and_go_on_while_it_holds(
    platform: RunningPlatform, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = dataclasses.replace(platform.settings, stream_recheck_seconds=RECHECK)
    valid_for = timedelta(minutes=5)
    partner = Actor(
        subject="kort-partner", role=Role.PARTNER, municipality=tenant.municipality, partner=tenant.partner_a
    )
    staff = Actor(subject="kort-staff", role=Role.STAFF, municipality=tenant.municipality, library=tenant.library_a)
    expiring = {
        f"/api/v1/partners/{tenant.partner_a}/feed/live": partner,
        f"/api/v1/libraries/{tenant.library_a}/referrals/live": staff,
    }
    async with another_gateway_app(settings) as (url, app):
        # The gateway's tokens expire on a clock the test moves (its issuer's and its memory of verified tokens'),
        # and each check a stream's guard makes is counted: nothing waits for a while in real time.
        auth: Authenticator = app.state.authenticator
        clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
        issuer = TokenIssuer(settings.jwt_secret, clock=clock)
        monkeypatch.setattr(auth, "issuer", issuer)
        monkeypatch.setattr(auth.tokens, "clock", lambda: clock.now().timestamp())
        checks = 0
        authenticate = auth.authenticate

        async def counted(headers: Any, *, fresh: bool = False) -> Caller | None:
            nonlocal checks
            if fresh:  # only a live stream's guard asks afresh
                checks += 1
            return await authenticate(headers, fresh=fresh)

        monkeypatch.setattr(auth, "authenticate", counted)

        for path, actor in expiring.items():
            token = issuer.issue(actor, valid_for=valid_for)
            async with (
                httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=20) as api,
                api.stream("GET", path) as response,
            ):
                stream = await opened(response)
                clock.advance(valid_for)
                _, lines = await seconds_until_it_ends(stream, timeout=PATIENCE_SECONDS)
            assert any("no longer holds" in line for line in lines), path

        # A token that holds: the library's stream outlives several checks and still delivers.
        headers = {"Authorization": f"Bearer {tenant.staff_a}"}
        library = f"/api/v1/libraries/{tenant.library_a}/referrals/live"
        async with (
            httpx.AsyncClient(base_url=url, headers=headers, timeout=20) as api,
            api.stream("GET", library) as live,
        ):
            stream = await opened(live)
            opened_at = checks

            async def three_checks_later() -> bool:
                return checks >= opened_at + 3

            await eventually(three_checks_later, timeout=30, what="three checks of the library stream's token")
            async with platform.client(tenant.partner_a_token) as partner_api:
                submitted = await partner_api.post(
                    "/api/v1/referrals", json=referral_body(tenant.library_a, tenant.partner_a)
                )
            assert submitted.status_code == 201
            (event,) = await stream.entries(1)
            assert submitted.json()["id"] in "".join(event.data)
