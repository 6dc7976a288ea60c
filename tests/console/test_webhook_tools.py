"""What a partner does with its webhook in the console (issue 20, audit): pause it and make it active again, give
it a new signing secret (shown once, the old one signing on for the overlap), deliver one event again, and remove
it (only when confirmed). Another partner can do none of it, and staff get no page."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from gateway.console import paging
from gateway.console.messages import EN, NL
from tests.console.conftest import ConsoleClient, World
from tests.console.paging_support import every_once, walk
from tests.console.seed import ok
from tests.console.test_browser import people  # noqa: F401  - the browser sessions fixture
from tests.console.test_participant_tools import refer
from tests.fixtures.tenants import register_tenant
from tests.fixtures.webhooks import accepting_endpoint
from tests.waiting import eventually

PAGE = 2
DELIVERY = re.compile(r'<tr id="delivery-([0-9a-f-]{36})">')


async def webhook_of_partner_a(console: ConsoleClient, world: World, url: str) -> str:
    await console.sign_in(world.tenant.partner_a_token)
    await console.get("/console/subscriptions")
    created = await console.post("/console/subscriptions", {"url": url, "event_types": "referral.submitted"})
    assert created.status_code == 201, created.text
    listed = rf'href="(/console/subscriptions/[0-9a-f-]{{36}})">[^<]*<span class="visually-hidden"> {re.escape(url)}<'
    link = re.search(listed, created.text)
    assert link is not None, "the new webhook is not listed"
    return link.group(1)


async def webhook(world: World, path: str) -> dict[str, Any]:
    async with world.platform.client(world.tenant.partner_a_token) as api:
        found = await api.get(f"/api/v1/partners/{world.tenant.partner_a}/webhooks/{path.rsplit('/', 1)[1]}")
    assert found.status_code == 200, found.text
    return dict(found.json())


async def test_a_partner_pauses_rotates_replays_and_removes_its_webhook(console: ConsoleClient, world: World) -> None:
    async with accepting_endpoint() as url:
        url = f"{url}-{uuid.uuid4().hex[:6]}"
        path = await webhook_of_partner_a(console, world, url)
        assert (await webhook(world, path))["url"] == url
        await refer(world, f"Webje Haak {uuid.uuid4().hex[:6]}")  # an event for the webhook

        async def delivered() -> str | None:
            found = re.search(r'action="([^"]+/deliveries/[0-9a-f-]{36}/replay)"', (await console.get(path)).text)
            return found.group(1) if found else None

        replay = await eventually(delivered, what="a delivery that can be sent again")
        page = await console.get(path)
        assert NL["webhook.to_paused_means"] in page.text and NL["webhook.remove_means"] in page.text
        again = await console.post(replay)
        assert again.status_code == 303, again.text
        assert NL["done.delivery_replayed"] in (await console.get(again.headers["location"])).text

        version = str((await webhook(world, path))["version"])
        paused = await console.post(f"{path}/status", {"status": "paused", "expected_version": version})
        assert paused.status_code == 303, paused.text
        assert (await webhook(world, path))["status"] == "paused"
        stale = await console.post(f"{path}/status", {"status": "active", "expected_version": version})
        assert stale.status_code == 409 and NL["problem.conflict"] in stale.text
        assert (await console.post(f"{path}/status", {"status": "asleep"})).status_code == 422
        resumed = await console.post(f"{path}/status", {"status": "active"})
        assert resumed.status_code == 303 and (await webhook(world, path))["status"] == "active"

        rotated = await console.post(f"{path}/rotate-secret", {"overlap_hours": "2"})
        assert rotated.status_code == 201, rotated.text
        assert rotated.headers["cache-control"] == "no-store" and 'id="new-secret"' in rotated.text
        secret = re.search(r'id="new-secret">([^<]+)<', rotated.text)
        assert secret is not None and secret.group(1) not in (await console.get(path)).text  # shown once
        assert (await webhook(world, path))["previous_secret_valid_until"] is not None
        assert (await console.post(f"{path}/rotate-secret", {"overlap_hours": "100000"})).status_code == 422

        await console.post("/console/language", {"lang": "en", "next": path})
        assert EN["webhook.manage"] in (await console.get(path)).text
        unconfirmed = await console.post(f"{path}/delete")
        assert unconfirmed.status_code == 422 and (await webhook(world, path))["url"] == url
        removed = await console.post(f"{path}/delete", {"confirm": "yes"})
        assert removed.status_code == 303, removed.text
        assert EN["done.webhook_removed"] in (await console.get(removed.headers["location"])).text
        async with world.platform.client(world.tenant.partner_a_token) as api:
            gone = await api.get(f"/api/v1/partners/{world.tenant.partner_a}/webhooks/{path.rsplit('/', 1)[1]}")
        assert gone.status_code == 404


async def test_another_partner_and_staff_cannot_touch_the_webhook(console: ConsoleClient, world: World) -> None:
    path = await webhook_of_partner_a(console, world, f"http://127.0.0.1:9/hook-{uuid.uuid4().hex[:6]}")
    await console.sign_in(world.tenant.partner_b_token)
    assert (await console.get(path)).status_code == 404
    await console.get("/console/subscriptions")
    for action, form in (("status", {"status": "paused"}), ("rotate-secret", {}), ("delete", {"confirm": "yes"})):
        assert (await console.post(f"{path}/{action}", form)).status_code == 404, action
    await console.sign_in(world.tenant.staff_a)
    await console.get("/console/inbox")
    assert (await console.post(f"{path}/delete", {"confirm": "yes"})).status_code == 403
    still = await webhook(world, path)
    assert still["status"] == "active" and still["secret_rotated_at"] is None


async def test_in_chromium_a_partner_pauses_its_webhook_free_of_axe_violations(
    people: Any,  # noqa: F811  - the fixture imported above
    world: World,
    artifacts: Path,
    console: ConsoleClient,
) -> None:
    path = await webhook_of_partner_a(console, world, f"http://127.0.0.1:9/hook-{uuid.uuid4().hex[:6]}")
    partner = await people(world.tenant.partner_a_token, bypass_csp=True)
    await partner.goto(path)
    await partner.page.get_by_role("heading", name=NL["webhook.manage"]).wait_for()
    assert await partner.axe() == []
    await partner.page.get_by_role("button", name=NL["webhook.to_paused"]).focus()
    await partner.page.keyboard.press("Enter")
    await partner.page.get_by_text(NL["done.webhook_paused"]).wait_for()
    await partner.page.screenshot(path=str(artifacts / "partner-webhook.png"), full_page=True)
    assert await partner.axe() == []


async def test_a_partner_pages_through_every_webhook_and_every_delivery(
    console: ConsoleClient,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
    people: Any,  # noqa: F811  - the fixture imported above
) -> None:
    """More webhooks and deliveries than a page holds (paging.PAGE made small): each once over the pages by the
    API's cursor (the deliveries' status filter kept in the links); a cursor not of ours shows the first page; a
    later page passes axe in Chromium (issue 20)."""
    monkeypatch.setattr(paging, "PAGE", PAGE)
    tenant = await register_tenant(world.platform)
    mine = World(world.platform, tenant, world.coordinator)
    async with accepting_endpoint() as url:
        async with world.platform.client(tenant.partner_a_token) as api:
            hooks = [
                (
                    await ok(
                        await api.post(
                            f"/api/v1/partners/{tenant.partner_a}/webhooks",
                            json={"url": f"{url}-{n}", "event_types": ["referral.submitted"]},
                        )
                    )
                )["webhook"]["id"]
                for n in range(2 * PAGE + 1)
            ]
        for n in range(2 * PAGE + 1):  # an event for each webhook
            await refer(mine, f"Webje Haak {uuid.uuid4().hex[:6]} {n}")
        await console.sign_in(tenant.partner_a_token)
        hook = f"/console/subscriptions/{hooks[0]}"

        def delivered(page: str) -> list[str]:
            return DELIVERY.findall(page)

        async def all_delivered() -> bool:
            async with world.platform.client(tenant.partner_a_token) as api:
                log = f"/api/v1/partners/{tenant.partner_a}/webhooks/{hooks[0]}/deliveries"
                found = await ok(await api.get(log, params={"status": "delivered", "limit": 200}))
            return len(found["items"]) == 2 * PAGE + 1

        await eventually(all_delivered, what="every delivery made")

    def listed(page: str) -> list[str]:
        return re.findall(r'<tr id="webhook-([0-9a-f-]{36})">', page)

    pages, visited = await walk(console, "/console/subscriptions", "next-webhooks", listed)
    assert [len(page) for page in pages] == [2, 2, 1] and set(every_once(pages)) == set(hooks)
    typo = await console.get("/console/subscriptions?cursor=not-a-cursor")  # not ours: the first page
    assert typo.status_code == 200 and listed(typo.text) == pages[0]

    pages, visited = await walk(console, f"{hook}?status=delivered", "next-deliveries", delivered)
    assert [len(page) for page in pages] == [2, 2, 1] and all("status=delivered" in at for at in visited)
    everything, _ = await walk(console, hook, "next-deliveries", delivered)
    assert set(every_once(everything)) == set(every_once(pages))
    typo = await console.get(f"{hook}?cursor=not-a-cursor")  # not ours: the first page
    assert typo.status_code == 200 and delivered(typo.text) == everything[0]

    partner = await people(tenant.partner_a_token, bypass_csp=True)
    await partner.goto(visited[1])
    await partner.page.get_by_role("link", name=NL["inbox.first_page"]).wait_for()
    assert await partner.page.get_by_role("navigation", name=NL["deliveries.pages"]).count() == 1
    assert await partner.axe() == []
