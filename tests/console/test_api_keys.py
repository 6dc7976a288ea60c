"""A partner's API keys in the console (issue 20, audit): its people issue a key with the scopes it needs (shown
once, never kept by the browser), see its keys without the keys, and revoke one; the key then works nowhere.
Another partner cannot revoke it, and staff and coordinators get no page."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.console import paging
from gateway.console.messages import EN, NL
from shared.tenancy import Role
from tests.console.conftest import ConsoleClient, World
from tests.console.paging_support import every_once, walk
from tests.console.seed import ok
from tests.console.test_browser import people  # noqa: F401  - the browser sessions fixture
from tests.fixtures.tenants import register_tenant
from tests.waiting import PATIENCE_SECONDS

PAGE = 2


def issued_key(html: str) -> str:
    found = re.search(r'id="api-key-value">([^<]+)<', html)
    assert found is not None, "no key on the page"
    return found.group(1)


async def with_key(world: World, key: str, method: str, path: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=world.base, headers={"X-API-Key": key}, timeout=PATIENCE_SECONDS) as api:
        return await api.request(method, path)


async def test_a_partner_issues_uses_and_revokes_a_key(console: ConsoleClient, world: World) -> None:
    await console.sign_in(world.tenant.partner_a_token)
    page = await console.get("/console/api-keys")
    assert page.status_code == 200, page.text
    assert 'href="/console/api-keys"' in page.text and NL["api_keys.explained"] in page.text
    issued = await console.post(
        "/console/api-keys", {"name": "Cliëntsysteem", "scopes": ["referrals:read", "feed:read"]}
    )
    assert issued.status_code == 201, issued.text
    assert issued.headers["cache-control"] == "no-store" and NL["api_keys.shown_once"] in issued.text
    key = issued_key(issued.text)
    assert (await with_key(world, key, "GET", "/api/v1/referrals")).status_code == 200
    assert (await with_key(world, key, "POST", "/api/v1/referrals")).status_code == 403  # no referrals:write
    listed = await console.get("/console/api-keys")
    assert key not in listed.text and "Cliëntsysteem" in listed.text and key[:6] in listed.text
    row = re.search(r'<tr id="key-([0-9a-f-]{36})">\s*<th scope="row">Cliëntsysteem</th>', listed.text)
    assert row is not None

    no_scope = await console.post("/console/api-keys", {"name": "Leeg"})
    assert no_scope.status_code == 422 and 'value="Leeg"' in no_scope.text
    bad_date = await console.post("/console/api-keys", {"name": "Datum", "scopes": "feed:read", "expires_on": "morgen"})
    assert bad_date.status_code == 422
    sneaky = await console.post("/console/api-keys", {"name": "Stiekem", "scopes": "api-keys:write"})
    assert sneaky.status_code == 201  # the API takes any well-formed scope, but no key ever manages keys:
    keys_path = f"/api/v1/partners/{world.tenant.partner_a}/api-keys"
    assert (await with_key(world, issued_key(sneaky.text), "GET", keys_path)).status_code == 403

    await console.sign_in(world.tenant.partner_b_token)  # another partner: not its key
    await console.get("/console/api-keys")
    assert (await console.post(f"/console/api-keys/{row.group(1)}/revoke")).status_code == 404
    assert (await with_key(world, key, "GET", "/api/v1/referrals")).status_code == 200

    await console.sign_in(world.tenant.partner_a_token)
    await console.get("/console/api-keys")
    revoked = await console.post(f"/console/api-keys/{row.group(1)}/revoke")
    assert revoked.status_code == 303, revoked.text
    assert NL["done.api_key_revoked"] in (await console.get(revoked.headers["location"])).text
    assert (await with_key(world, key, "GET", "/api/v1/referrals")).status_code == 401
    with_revoked = await console.get("/console/api-keys?revoked=true")
    assert f'id="key-{row.group(1)}"' in with_revoked.text
    await console.post("/console/language", {"lang": "en", "next": "/console/api-keys"})
    assert EN["api_keys.new"] in (await console.get("/console/api-keys")).text


async def test_staff_and_coordinators_get_no_page_of_keys(console: ConsoleClient, world: World) -> None:
    for token in (world.tenant.staff_a, world.coordinator):
        await console.sign_in(token)
        assert (await console.get("/console/api-keys")).status_code == 403
        await console.get("/console/inbox" if token == world.tenant.staff_a else "/console/overview")
        refused = await console.post("/console/api-keys", {"name": "Overname", "scopes": "referrals:write"})
        assert refused.status_code == 403
    partner_b = world.platform.token(
        Role.PARTNER, municipality=world.tenant.municipality, partner=world.tenant.partner_b
    )
    async with world.platform.client(partner_b) as api:
        keys = (await api.get(f"/api/v1/partners/{world.tenant.partner_b}/api-keys")).json()["items"]
    assert all(k["name"] != "Overname" for k in keys)


async def test_in_chromium_a_partner_makes_a_key_with_the_keyboard_free_of_axe_violations(
    people: Any,  # noqa: F811  - the fixture imported above
    world: World,
    artifacts: Path,
) -> None:
    partner = await people(world.tenant.partner_a_token, bypass_csp=True)
    await partner.goto("/console/inbox")
    await partner.page.get_by_role("link", name=NL["nav.api_keys"], exact=True).click()
    await partner.page.get_by_role("heading", name=NL["api_keys.new"]).wait_for()
    assert await partner.axe() == []
    await partner.page.locator("#f-name").fill("Rapportage")
    await partner.page.locator("#f-scope-referrals-read").check()
    await partner.page.get_by_role("button", name=NL["api_keys.issue"]).focus()
    await partner.page.keyboard.press("Enter")
    await partner.page.locator("#api-key-value").wait_for()
    await partner.page.screenshot(path=str(artifacts / "partner-api-keys.png"), full_page=True)
    assert await partner.axe() == []


async def test_a_partner_pages_through_every_key(
    console: ConsoleClient,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
    people: Any,  # noqa: F811  - the fixture imported above
) -> None:
    """More keys than a page holds (paging.PAGE made small): each key once over the pages by the API's cursor, with
    and without the revoked ones (the choice kept in the links); a cursor not of ours shows the first page; a later
    page passes axe in Chromium (issue 20)."""
    monkeypatch.setattr(paging, "PAGE", PAGE)
    tenant = await register_tenant(world.platform)
    made = f"/api/v1/partners/{tenant.partner_a}/api-keys"
    async with world.platform.client(tenant.partner_a_token) as api:
        keys = [
            (await ok(await api.post(made, json={"name": f"Sleutel {n}", "scopes": ["feed:read"]})))["api_key"]["id"]
            for n in range(5)
        ]
        await ok(await api.delete(f"{made}/{keys[0]}"))
    await console.sign_in(tenant.partner_a_token)

    def shown(page: str) -> list[str]:
        return re.findall(r'<tr id="key-([0-9a-f-]{36})">', page)

    pages, visited = await walk(console, "/console/api-keys", "next-keys", shown)
    assert [len(page) for page in pages] == [2, 2] and set(every_once(pages)) == set(keys[1:])
    pages, visited = await walk(console, "/console/api-keys?revoked=true", "next-keys", shown)
    assert [len(page) for page in pages] == [2, 2, 1] and set(every_once(pages)) == set(keys)
    assert all("revoked=true" in address for address in visited)
    typo = await console.get("/console/api-keys?cursor=not-a-cursor")  # not ours: the first page
    assert typo.status_code == 200 and len(shown(typo.text)) == PAGE

    partner = await people(tenant.partner_a_token, bypass_csp=True)
    await partner.goto(visited[1])
    await partner.page.get_by_role("link", name=NL["inbox.first_page"]).wait_for()
    assert await partner.page.get_by_role("navigation", name=NL["api_keys.pages"]).count() == 1
    assert await partner.axe() == []
