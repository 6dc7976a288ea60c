"""A purchase from request to close in the console (issue 20, audit): the library's staff request it, add a quote
and invite a partner to quote, a budget holder (not the requester) approves, then the order, delivery, invoice and
close; stale and unknown steps are refused. Another library's staff, a partner and the coordinator (who reads it)
take no step."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from gateway.console.messages import EN, NL
from shared.clock import LOCAL_TIME
from shared.tenancy import Role
from tests.console.conftest import ConsoleClient, World
from tests.console.test_browser import people  # noqa: F401  - the browser sessions fixture


def version_of(html: str) -> str:
    found = re.search(r'name="expected_version" value="(\d+)"', html)
    assert found is not None
    return found.group(1)


async def status_of(world: World, purchase_id: str) -> dict[str, Any]:
    async with world.platform.client(world.tenant.staff_a) as api:
        found = await api.get(f"/api/v1/purchases/{purchase_id}")
    assert found.status_code == 200, found.text
    return dict(found.json())


async def requested(console: ConsoleClient, world: World) -> tuple[str, str]:
    """Requested by a second member of library A's staff (the budget holder may not approve their own)."""
    requester = world.platform.token(Role.STAFF, municipality=world.tenant.municipality, library=world.tenant.library_a)
    await console.sign_in(requester)
    form = await console.get("/console/purchases/new")
    assert form.status_code == 200, form.text
    title = f"Cursus Klik & Tik {uuid.uuid4().hex[:6]}"
    made = await console.post(
        "/console/purchases",
        {"title": title, "purpose": "Senioren leren tablets", "audience": ["seniors"], "estimated_cost": "600,00"},
    )
    assert made.status_code == 303, made.text
    return made.headers["location"].split("?")[0], requester


async def test_staff_take_a_purchase_from_request_to_close(console: ConsoleClient, world: World) -> None:
    path, requester = await requested(console, world)
    purchase_id = path.rsplit("/", 1)[1]
    page = await console.get(path)
    assert NL["purchase_step.add_quote"] in page.text and NL["purchase_step.order"] not in page.text
    assert (await console.post(f"{path}/add_quote", {"provider_name": "ROC", "amount": "veel"})).status_code == 422
    quoted = await console.post(f"{path}/add_quote", {"provider_name": "ROC Zuidstad", "amount": "550,00"})
    assert quoted.status_code == 303, quoted.text
    page = await console.get(quoted.headers["location"])
    assert NL["purchase_done.add_quote"] in page.text and "€ 550,00" in page.text
    invited = await console.post(f"{path}/invite", {"partner_id": world.tenant.partner_b})
    assert invited.status_code == 303, invited.text
    quote_id = (await status_of(world, purchase_id))["quotes"][0]["id"]
    own = await console.post(f"{path}/approve", {"quote_id": quote_id})
    assert own.status_code == 403  # the requester does not approve

    await console.sign_in(world.tenant.staff_a)  # a budget holder
    page = await console.get(path)
    approved = await console.post(f"{path}/approve", {"quote_id": quote_id, "expected_version": version_of(page.text)})
    assert approved.status_code == 303, approved.text
    assert (await status_of(world, purchase_id))["status"] == "approved"

    await console.sign_in(requester)
    page = await console.get(path)
    stale = await console.post(f"{path}/cancel", {"reason": "Te laat", "expected_version": "1"})
    assert stale.status_code == 409 and NL["problem.conflict"] in stale.text
    assert (await console.post(f"{path}/merge", {})).status_code == 422
    steps = [
        ("order", {"order_reference": "PO-2026-17"}),
        (
            "delivery",
            {"sessions_held": "4", "participants": "11", "delivered_on": datetime.now(LOCAL_TIME).date().isoformat()},
        ),
        ("invoice", {"amount": "550,00", "invoice_reference": "F-88"}),
        ("close", {}),
    ]
    for step, form in steps:
        done = await console.post(f"{path}/{step}", form)
        assert done.status_code == 303, (step, done.text)
    final = await status_of(world, purchase_id)
    assert final["status"] == "closed" and final["order_reference"] == "PO-2026-17"
    assert final["invited_partner_ids"] == [world.tenant.partner_b]
    await console.post("/console/language", {"lang": "en", "next": path})
    english = await console.get(path)
    assert EN["purchase_status.closed"] in english.text and "€550.00" in english.text


async def test_others_take_no_step_and_the_coordinator_reads(console: ConsoleClient, world: World) -> None:
    path, _ = await requested(console, world)
    purchase_id = path.rsplit("/", 1)[1]
    await console.sign_in(world.tenant.staff_b)
    assert (await console.get(path)).status_code == 404
    await console.get("/console/purchases")
    refused = await console.post(f"{path}/cancel", {"reason": "Niet van ons"})
    assert refused.status_code in (403, 404), refused.status_code
    await console.sign_in(world.coordinator)
    read = await console.get(path)
    assert read.status_code == 200 and 'action="' + path not in read.text  # no steps offered
    await console.get("/console/purchases")
    assert (await console.post(f"{path}/cancel", {"reason": "Zomaar"})).status_code == 403
    await console.sign_in(world.tenant.partner_a_token)
    assert (await console.get(path)).status_code == 403
    assert (await status_of(world, purchase_id))["status"] == "requested"  # nothing changed


async def test_in_chromium_the_purchase_pages_are_free_of_axe_violations(
    people: Any,  # noqa: F811  - the fixture imported above
    world: World,
    artifacts: Path,
    console: ConsoleClient,
) -> None:
    path, requester = await requested(console, world)
    staff = await people(requester, bypass_csp=True)
    await staff.goto("/console/purchases")
    await staff.page.get_by_role("link", name=NL["purchase.new_title"]).click()
    await staff.page.get_by_role("heading", name=NL["purchase.new_title"], level=1).wait_for()
    assert await staff.axe() == []
    await staff.goto(path)
    await staff.page.locator("#step-add_quote summary").click()
    await staff.page.locator("#f-add_quote-provider_name").fill("Digisterker")
    await staff.page.locator("#f-add_quote-amount").fill("480")
    await staff.page.locator("#step-add_quote button[type=submit]").focus()
    await staff.page.keyboard.press("Enter")
    await staff.page.get_by_text(NL["purchase_done.add_quote"]).wait_for()
    await staff.page.screenshot(path=str(artifacts / "staff-purchase.png"), full_page=True)
    assert await staff.axe() == []
