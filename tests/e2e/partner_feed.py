"""A partner's feed as the partner reads it over HTTP, the entries of one kind."""

from __future__ import annotations

from typing import Any

from tests.fixtures.platform import RunningPlatform


async def feed_entries(platform: RunningPlatform, token: str, partner_id: str, kind: str) -> list[dict[str, Any]]:
    async with platform.client(token) as api:
        response = await api.get(f"/api/v1/partners/{partner_id}/feed", params={"limit": 200})
    assert response.status_code == 200, response.text
    return [e for e in response.json()["items"] if kind in e["type"]]
