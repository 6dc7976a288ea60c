"""The network's lists page through everything (issue 20): the partner map and the partnerships on the network page,
and a partner's own partnerships on its organisation page, each a page at a time (paging.PAGE, made small here)
with the API's cursor; every row shows once; a cursor not of ours shows the first page; a later page passes axe."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from gateway.console import paging
from gateway.console.messages import NL
from shared.clock import local_today
from shared.tenancy import Role
from tests.console.conftest import ConsoleClient, World
from tests.console.paging_support import every_once, section, walk
from tests.console.seed import ok
from tests.console.test_browser import people  # noqa: F401  - the browser sessions fixture
from tests.fixtures.tenants import register_tenant

PAGE = 2


def partnership(library: str, partner_id: str) -> dict[str, Any]:
    return {
        "library": library,
        "partner_id": partner_id,
        "roles": ["referrer"],
        "library_contributions": ["location"],
        "partner_contributions": ["recruitment"],
        "starts_on": local_today().isoformat(),
    }


async def test_the_network_pages_through_the_map_and_the_partnerships(
    console: ConsoleClient,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
    people: Any,  # noqa: F811  - the fixture imported above
    artifacts: Path,
) -> None:
    monkeypatch.setattr(paging, "PAGE", PAGE)
    tenant = await register_tenant(world.platform)
    tag = uuid.uuid4().hex[:6]
    names = {f"Partner {tag} {n}" for n in range(5)}
    async with world.platform.client(tenant.operator) as operator, world.platform.client(tenant.staff_a) as staff:
        for name in sorted(names):
            body = {"name": name, "kind": "volunteer_organisation", "municipality": tenant.municipality}
            made = await ok(await operator.post("/api/v1/partners", json=body))
            await ok(await staff.post("/api/v1/partnerships", json=partnership(tenant.library_a, made["id"])))
    await console.sign_in(tenant.staff_a)

    def on_map(page: str) -> list[str]:
        return re.findall(r"<h3>([^<]+)</h3>", section(page, "h-map"))

    def partnerships(page: str) -> list[str]:
        return re.findall(rf'<th scope="row">(Partner {tag} \d)', section(page, "h-partnerships"))

    map_pages, _ = await walk(console, "/console/network", "next-map", on_map)
    assert len(map_pages) == 4 and all(len(page) == PAGE for page in map_pages[:-1])  # 5 partners and the tenant's 2
    assert set(every_once(map_pages)) >= names and len(every_once(map_pages)) == 7
    shown, visited = await walk(console, "/console/network", "next-partnerships", partnerships)
    assert len(shown) == 3 and set(every_once(shown)) == names
    assert all("partnerships_cursor=" in address for address in visited[1:])

    kind = "/console/network?kind=volunteer_organisation"  # a filter stays on every page
    filtered, visited = await walk(console, kind, "next-map", on_map)
    assert set(every_once(filtered)) == names and all("kind=volunteer_organisation" in a for a in visited)

    typo = await console.get("/console/network?map_cursor=not-a-cursor&partnerships_cursor=x")  # not ours: first
    assert typo.status_code == 200 and on_map(typo.text) == map_pages[0] and partnerships(typo.text) == shown[0]

    staff = await people(tenant.staff_a, bypass_csp=True)
    await staff.goto(visited[1])
    await staff.page.get_by_role("link", name=NL["inbox.first_page"]).first.wait_for()
    assert await staff.page.get_by_role("navigation", name=NL["network.map_pages"]).count() == 1
    await staff.page.screenshot(path=str(artifacts / "staff-network-page-2.png"), full_page=True)
    assert await staff.axe() == []


async def test_a_partner_pages_through_its_own_partnerships(
    console: ConsoleClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(paging, "PAGE", PAGE)
    tenant = await register_tenant(world.platform)
    libraries = [tenant.library_a, tenant.library_b, f"{tenant.library_a[:-2]}-c"]
    async with world.platform.client(tenant.operator) as operator:
        body = {"slug": libraries[2], "municipality": tenant.municipality, "name": f"Bibliotheek {libraries[2]}"}
        await ok(await operator.post("/api/v1/libraries", json=body))
    for library in libraries:
        token = world.platform.token(Role.STAFF, municipality=tenant.municipality, library=library)
        async with world.platform.client(token) as staff:
            await ok(await staff.post("/api/v1/partnerships", json=partnership(library, tenant.partner_a)))
    await console.sign_in(tenant.partner_a_token)

    def own(page: str) -> list[str]:
        return re.findall(r'<th scope="row">Bibliotheek ([^<]+)</th>', section(page, "h-own-partnerships"))

    pages, visited = await walk(console, "/console/organisation", "next-partnerships", own)
    assert [len(page) for page in pages] == [2, 1]
    assert sorted(every_once(pages)) == sorted(libraries)
    assert visited[1].startswith("/console/organisation?cursor=")
