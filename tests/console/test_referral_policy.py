"""A library's referral policy in the console (issue 20, audit): its staff set how quickly they answer, when an
unanswered referral lapses and how long personal data is kept; the municipality's coordinator reads each
library's; partners get no page, and another library's staff change only their own."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from gateway.console.messages import EN, NL
from tests.console.conftest import ConsoleClient, World
from tests.console.test_browser import people  # noqa: F401  - the browser sessions fixture
from tests.console.test_network_forms import version_on


async def policy_of(world: World, token: str) -> dict[str, Any]:
    async with world.platform.client(token) as api:
        found = await api.get("/api/v1/referrals/policy")
    assert found.status_code == 200, found.text
    return dict(found.json())


async def test_staff_set_their_librarys_time_limits(console: ConsoleClient, world: World) -> None:
    before = await policy_of(world, world.tenant.staff_a)
    await console.sign_in(world.tenant.staff_a)
    page = await console.get("/console/referral-policy")
    assert page.status_code == 200, page.text
    assert 'href="/console/referral-policy"' in page.text and NL["referral_policy.explained"] in page.text
    assert f'value="{before["response_days"]}"' in page.text
    days = {"response_days": "7", "expiry_days": "45", "retention_days": str(before["retention_days"] + 1)}
    saved = await console.post("/console/referral-policy", {**days, "expected_version": version_on(page.text)})
    assert saved.status_code == 303, saved.text
    assert NL["done.referral_policy"] in (await console.get(saved.headers["location"])).text
    after = await policy_of(world, world.tenant.staff_a)
    assert (after["response_days"], after["expiry_days"]) == (7, 45) and after["version"] == before["version"] + 1

    stale = await console.post("/console/referral-policy", {**days, "expected_version": str(before["version"])})
    assert stale.status_code == 409 and NL["problem.conflict"] in stale.text
    too_slow = await console.post("/console/referral-policy", {**days, "response_days": "91"})
    assert too_slow.status_code == 422 and 'value="91"' in too_slow.text  # what was typed stays
    not_a_number = await console.post("/console/referral-policy", {**days, "expiry_days": "veel"})
    assert not_a_number.status_code == 422
    assert (await policy_of(world, world.tenant.staff_a))["version"] == after["version"]  # nothing changed

    await console.post("/console/language", {"lang": "en", "next": "/console/referral-policy"})
    assert EN["referral_policy.save"] in (await console.get("/console/referral-policy")).text


async def test_the_coordinator_reads_each_librarys_and_others_set_none(console: ConsoleClient, world: World) -> None:
    library_b_before = await policy_of(world, world.tenant.staff_b)
    await console.sign_in(world.coordinator)
    choose = await console.get("/console/referral-policy")
    assert choose.status_code == 200 and f'value="{world.tenant.library_a}"' in choose.text
    shown = await console.get(f"/console/referral-policy?library={world.tenant.library_a}")
    assert shown.status_code == 200 and 'id="policy-now"' in shown.text and 'name="response_days"' not in shown.text
    assert f"Bibliotheek {world.tenant.library_a}" in shown.text
    assert (
        await console.post(
            "/console/referral-policy", {"response_days": "1", "expiry_days": "1", "retention_days": "0"}
        )
    ).status_code == 403
    await console.sign_in(world.tenant.partner_a_token)
    assert (await console.get("/console/referral-policy")).status_code == 403
    await console.get("/console/inbox")
    assert (
        await console.post(
            "/console/referral-policy", {"response_days": "1", "expiry_days": "1", "retention_days": "0"}
        )
    ).status_code == 403
    await console.sign_in(world.tenant.staff_b)
    other = await console.get(f"/console/referral-policy?library={world.tenant.library_a}")
    assert other.status_code == 404  # staff read their own library's only
    after = await policy_of(world, world.tenant.staff_b)
    assert (after["response_days"], after["version"]) == (
        library_b_before["response_days"],
        library_b_before["version"],
    )


async def test_in_chromium_staff_save_time_limits_free_of_axe_violations(
    people: Any,  # noqa: F811  - the fixture imported above
    world: World,
    artifacts: Path,
) -> None:
    staff = await people(world.tenant.staff_b, bypass_csp=True)
    await staff.goto("/console/inbox")
    await staff.page.get_by_role("link", name=NL["nav.referral_policy"], exact=True).click()
    await staff.page.get_by_role("heading", name=re.compile(NL["referral_policy.title"]), level=1).wait_for()
    await staff.page.screenshot(path=str(artifacts / "staff-referral-policy.png"), full_page=True)
    assert await staff.axe() == []
    await staff.page.locator("#f-response_days").fill("6")
    await staff.page.get_by_role("button", name=NL["referral_policy.save"]).focus()
    await staff.page.keyboard.press("Enter")
    await staff.page.get_by_text(NL["done.referral_policy"]).wait_for()
    assert (await policy_of(world, world.tenant.staff_b))["response_days"] == 6
    assert await staff.axe() == []
