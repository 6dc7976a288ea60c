"""A partner's own event feed in the console (issue 20, audit): its people read what their systems read (no
participant's name), page on by position, and make NATS credentials (the token shown once, listed and revoked with
the API keys); staff and coordinators get no page."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

from gateway.console.messages import EN, NL
from tests.console.conftest import ConsoleClient, World
from tests.console.test_browser import people  # noqa: F401  - the browser sessions fixture
from tests.console.test_participant_tools import refer


async def test_a_partner_reads_its_feed_without_names_and_makes_nats_credentials(
    console: ConsoleClient, world: World
) -> None:
    name = f"Fenna Feed {uuid.uuid4().hex[:6]}"
    await refer(world, name)
    await console.sign_in(world.tenant.partner_a_token)
    page = await console.get("/console/feed")
    assert page.status_code == 200, page.text
    assert 'href="/console/feed"' in page.text and "referral.submitted" in page.text
    assert name not in page.text and "Amina Yilmaz" not in page.text  # pseudonyms only
    positions = [int(p) for p in re.findall(r'<tr><th scope="row">(\d+)</th>', page.text)]
    assert positions == sorted(positions) and positions
    later = await console.get(f"/console/feed?after={positions[0]}")
    assert f'<tr><th scope="row">{positions[0]}</th>' not in later.text
    assert (await console.get("/console/feed?after=abc")).status_code == 422

    issued = await console.post("/console/feed/nats-credentials", {"name": f"Koppeling {name[-6:]}"})
    assert issued.status_code == 201, issued.text
    assert issued.headers["cache-control"] == "no-store" and 'id="nats-token"' in issued.text
    token = re.search(r'id="nats-token">([^<]+)<', issued.text)
    assert token is not None
    keys = await console.get("/console/api-keys")
    assert f"Koppeling {name[-6:]}" in keys.text and token.group(1) not in keys.text
    await console.post("/console/language", {"lang": "en", "next": "/console/feed"})
    assert EN["feed.credentials"] in (await console.get("/console/feed")).text


async def test_staff_and_coordinators_get_no_feed_page(console: ConsoleClient, world: World) -> None:
    for token, home in ((world.tenant.staff_a, "/console/inbox"), (world.coordinator, "/console/overview")):
        await console.sign_in(token)
        assert (await console.get("/console/feed")).status_code == 403
        await console.get(home)
        assert (await console.post("/console/feed/nats-credentials", {"name": "Overname"})).status_code == 403


async def test_in_chromium_the_feed_is_free_of_axe_violations(
    people: Any,  # noqa: F811  - the fixture imported above
    world: World,
    artifacts: Path,
) -> None:
    partner = await people(world.tenant.partner_a_token, bypass_csp=True)
    await partner.goto("/console/inbox")
    await partner.page.get_by_role("link", name=NL["nav.feed"], exact=True).click()
    await partner.page.get_by_role("heading", name=NL["feed.title"], level=1).wait_for()
    await partner.page.locator("#feed summary").first.click()
    await partner.page.screenshot(path=str(artifacts / "partner-feed.png"), full_page=True)
    assert await partner.axe() == []
