"""A partner list read page by page gives every partner once, in name order."""

from __future__ import annotations

from typing import Any

from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant


async def test_partners_page_by_page_in_name_order(platform: RunningPlatform, tenant: Tenant) -> None:
    async with platform.client(tenant.operator) as api:
        for name in ("Zuid Taalhuis", "Alpha Volksuniversiteit", "Midden ROC"):
            body = {"name": name, "kind": "other", "municipality": tenant.municipality}
            (await api.post("/api/v1/partners", json=body)).raise_for_status()
        names, cursor = [], None
        while True:
            params: dict[str, Any] = {
                "municipality": tenant.municipality,
                "limit": 2,
                **({"cursor": cursor} if cursor else {}),
            }
            page = (await api.get("/api/v1/partners", params=params)).json()
            names += [item["name"] for item in page["items"]]
            if not (cursor := page.get("next_cursor")):
                break
    assert len(names) == 5 and names == sorted(names)
