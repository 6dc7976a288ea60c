"""A library's budget and budget holders in the console (issue 20, audit): a budget holder sets the budget and the
second-approval threshold and appoints and removes budget holders; the coordinator appoints for any library of the
municipality; staff who hold no budget, partners and bad input change nothing."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from gateway.console.messages import EN, NL
from tests.console.conftest import ConsoleClient, World
from tests.console.seed import YEAR
from tests.console.test_browser import people  # noqa: F401  - the browser sessions fixture


async def holders_of(world: World, library: str) -> list[str]:
    async with world.platform.client(world.coordinator) as api:
        found = await api.get(f"/api/v1/budget-holders/{library}")
    assert found.status_code == 200, found.text
    return [h["subject"] for h in found.json()["items"]]


async def budget_of(world: World) -> dict[str, Any]:
    async with world.platform.client(world.tenant.staff_a) as api:
        return dict((await api.get(f"/api/v1/budgets/{world.tenant.library_a}/{YEAR}")).json())


async def test_a_budget_holder_sets_the_budget_and_threshold_and_keeps_the_holders(
    console: ConsoleClient, world: World
) -> None:
    before = await budget_of(world)
    await console.sign_in(world.tenant.staff_a)  # the world's budget holder of library A
    page = await console.get("/console/budget")
    assert page.status_code == 200, page.text
    assert NL["budget_page.explained"] in page.text and 'id="holders"' in page.text
    assert (await console.get("/console/purchases")).text.count('href="/console/budget"') == 1
    assert (await console.post("/console/budget/amount", {"amount": "veel"})).status_code == 422
    assert (await console.post("/console/budget/splurge", {"amount": "1"})).status_code == 422
    raised = await console.post("/console/budget/amount", {"amount": "6.000,00", "year": str(YEAR)})
    assert raised.status_code == 303, raised.text
    assert (await budget_of(world))["amount_cents"] == 600_000
    restored = await console.post("/console/budget/amount", {"amount": f"{before['amount_cents'] // 100}"})
    assert restored.status_code == 303 and (await budget_of(world))["amount_cents"] == before["amount_cents"]

    lowered = await console.post("/console/budget/threshold", {"threshold": "4.000"})
    assert lowered.status_code == 303, lowered.text
    assert "€ 4.000,00" in (await console.get(lowered.headers["location"])).text
    assert (await console.post("/console/budget/threshold", {"threshold": "5.000"})).status_code == 303

    newcomer = f"test-staff-{uuid.uuid4().hex[:6]}"
    appointed = await console.post("/console/budget/appoint", {"subject": newcomer})
    assert appointed.status_code == 303, appointed.text
    assert newcomer in await holders_of(world, world.tenant.library_a)
    removed = await console.post("/console/budget/remove", {"subject": newcomer})
    assert removed.status_code == 303 and newcomer not in await holders_of(world, world.tenant.library_a)
    history = await console.get("/console/budget")
    assert NL["budget_page.change_appointed"] in history.text and NL["budget_page.change_removed"] in history.text
    await console.post("/console/language", {"lang": "en", "next": "/console/budget"})
    assert EN["budget_page.holders"] in (await console.get("/console/budget")).text


async def test_the_coordinator_appoints_and_others_change_nothing(console: ConsoleClient, world: World) -> None:
    holders = await holders_of(world, world.tenant.library_b)
    await console.sign_in(world.tenant.staff_b)  # holds no budget of library B
    page = await console.get("/console/budget")
    assert page.status_code == 200, page.text
    refused = await console.post(
        "/console/budget/appoint", {"subject": "test-staff-zelf", "library": world.tenant.library_a}
    )
    assert refused.status_code == 403, refused.status_code
    assert (await console.post("/console/budget/amount", {"amount": "1000000"})).status_code == 403
    assert await holders_of(world, world.tenant.library_b) == holders
    assert "test-staff-zelf" not in await holders_of(world, world.tenant.library_a)
    await console.sign_in(world.tenant.partner_a_token)
    assert (await console.get("/console/budget")).status_code == 403

    await console.sign_in(world.coordinator)
    choose = await console.get("/console/budget")
    assert choose.status_code == 200 and f'value="{world.tenant.library_b}"' in choose.text
    shown = await console.get(f"/console/budget?library={world.tenant.library_b}")
    assert 'id="holders"' in shown.text or NL["budget_page.no_holders"] in shown.text
    first, second = (f"test-staff-{uuid.uuid4().hex[:6]}" for _ in range(2))
    for subject in (first, second):
        appointed = await console.post(
            "/console/budget/appoint", {"subject": subject, "library": world.tenant.library_b}
        )
        assert appointed.status_code == 303, appointed.text
    assert {first, second} <= set(await holders_of(world, world.tenant.library_b))
    removed = await console.post("/console/budget/remove", {"subject": second, "library": world.tenant.library_b})
    assert removed.status_code == 303, removed.text  # (the last holder stays: the service refuses that, 409)
    assert second not in await holders_of(world, world.tenant.library_b)
    assert (await console.post("/console/budget/appoint", {"subject": second})).status_code == 422  # no library chosen


async def test_in_chromium_the_budget_page_is_free_of_axe_violations(
    people: Any,  # noqa: F811  - the fixture imported above
    world: World,
    artifacts: Path,
) -> None:
    staff = await people(world.tenant.staff_a, bypass_csp=True)
    await staff.goto("/console/purchases")
    await staff.page.get_by_role("link", name=NL["budget_page.link"]).click()
    await staff.page.get_by_role("heading", name=NL["budget_page.holders"], exact=True).wait_for()
    await staff.page.screenshot(path=str(artifacts / "staff-budget.png"), full_page=True)
    assert await staff.axe() == []
