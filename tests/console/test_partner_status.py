"""A partner's and a partnership's status in the console (issue 20): the municipality's coordinator suspends,
reactivates and ends a partner on its page, which says what each means; a library's staff see what it means and
that it is the coordinator's, and suspend or end their own partnership (ending only when confirmed). Another
municipality's coordinator, staff and partners cannot change a partner's status."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

from gateway.console.messages import EN, NL
from tests.console.conftest import ConsoleClient, World
from tests.console.test_browser import people  # noqa: F401  - the browser sessions fixture
from tests.console.test_network_forms import version_on
from tests.fixtures.tenants import Tenant


async def a_partner_with_a_partnership(world: World) -> tuple[str, str]:
    """A partner of its own (other tests keep theirs) with an active partnership with library B."""
    async with world.platform.client(world.tenant.staff_b) as api:
        body = {
            "name": f"Wijkcentrum {uuid.uuid4().hex[:6]}",
            "kind": "referrer",
            "municipality": world.tenant.municipality,
        }
        partner = await api.post("/api/v1/partners", json=body)
        assert partner.status_code == 201, partner.text
        terms = {
            "library": world.tenant.library_b,
            "partner_id": partner.json()["id"],
            "roles": ["referrer"],
            "starts_on": "2026-01-01",
        }
        partnership = await api.post("/api/v1/partnerships", json=terms)
        assert partnership.status_code == 201, partnership.text
        activated = await api.post(f"/api/v1/partnerships/{partnership.json()['id']}/activate")
        assert activated.status_code == 200, activated.text
    return str(partner.json()["id"]), str(partnership.json()["id"])


async def status_of(world: World, path: str) -> dict[str, Any]:
    async with world.platform.client(world.tenant.staff_b) as api:
        found = await api.get(path)
    assert found.status_code == 200, found.text
    return dict(found.json())


async def test_the_coordinator_suspends_reactivates_and_ends_a_partner(console: ConsoleClient, world: World) -> None:
    partner_id, partnership_id = await a_partner_with_a_partnership(world)
    edit = f"/console/network/partners/{partner_id}/edit"
    await console.sign_in(world.coordinator)
    page = await console.get(edit)
    assert page.status_code == 200, page.text
    assert NL["partner_step.suspend_means"] in page.text and NL["partner_step.end_means"] in page.text
    assert 'name="step" value="suspend"' in page.text and 'name="step" value="reactivate"' not in page.text

    step = f"/console/network/partners/{partner_id}/step"
    version = re.search(
        r'name="step" value="suspend">\s*<input type="hidden" name="expected_version" value="(\d+)"', page.text
    )
    assert version is not None
    suspended = await console.post(
        step, {"step": "suspend", "reason": "Geen VOG", "expected_version": version.group(1)}
    )
    assert suspended.status_code == 303, suspended.text
    assert NL["done.partner_step"] in (await console.get(suspended.headers["location"])).text
    after = await console.get(edit)
    assert NL["partner_status.suspended"] in after.text and "Geen VOG" in after.text
    assert 'name="step" value="reactivate"' in after.text
    assert (await status_of(world, f"/api/v1/partners/{partner_id}"))["status"] == "suspended"

    stale = await console.post(step, {"step": "reactivate", "expected_version": version.group(1)})
    assert stale.status_code == 409 and NL["problem.conflict"] in stale.text
    illegal = await console.post(step, {"step": "suspend"})  # already suspended
    assert illegal.status_code == 409 and NL["problem.illegal-transition"] in illegal.text
    assert (await console.post(step, {"step": "pause"})).status_code == 422
    reactivated = await console.post(step, {"step": "reactivate"})
    assert reactivated.status_code == 303, reactivated.text
    assert (await status_of(world, f"/api/v1/partners/{partner_id}"))["status"] == "active"

    unconfirmed = await console.post(step, {"step": "end", "reason": "Opgeheven"})
    assert unconfirmed.status_code == 422 and NL["problem.invalid-input"] in unconfirmed.text
    assert (await status_of(world, f"/api/v1/partners/{partner_id}"))["status"] == "active"
    ended = await console.post(step, {"step": "end", "reason": "Opgeheven", "confirm": "yes"})
    assert ended.status_code == 303, ended.text
    assert (await status_of(world, f"/api/v1/partners/{partner_id}"))["status"] == "ended"
    assert (await status_of(world, f"/api/v1/partnerships/{partnership_id}"))["status"] == "ended"  # with it
    final = await console.get(edit)
    assert NL["partner_status_page.ended"] in final.text and 'name="step"' not in final.text

    await console.post("/console/language", {"lang": "en", "next": edit})
    english = await console.get(edit)
    assert EN["partner_step.end_means"] in english.text and EN["partner_status.ended"] in english.text


async def test_staff_learn_it_is_the_coordinators_and_others_cannot_change_a_partner(
    console: ConsoleClient, world: World, elsewhere: Tenant
) -> None:
    partner_id, _ = await a_partner_with_a_partnership(world)
    step = f"/console/network/partners/{partner_id}/step"
    await console.sign_in(world.tenant.staff_b)
    page = await console.get(f"/console/network/partners/{partner_id}/edit")
    assert NL["partner_status_page.coordinator_only"] in page.text and NL["partner_step.suspend_means"] in page.text
    assert 'name="step"' not in page.text
    assert (await console.post(step, {"step": "suspend"})).status_code == 403
    await console.sign_in(world.tenant.partner_a_token)
    await console.get("/console/inbox")
    assert (await console.post(step, {"step": "end", "confirm": "yes"})).status_code == 403
    await console.sign_in(elsewhere.coordinator)
    await console.get("/console/network")
    assert (await console.post(step, {"step": "suspend"})).status_code == 404
    assert (await console.get(f"/console/network/partners/{partner_id}/edit")).status_code == 404
    assert (await status_of(world, f"/api/v1/partners/{partner_id}"))["status"] == "active"  # nothing changed


async def test_staff_suspend_and_end_their_partnership_only_when_confirmed(
    console: ConsoleClient, world: World
) -> None:
    _, partnership_id = await a_partner_with_a_partnership(world)
    edit = f"/console/network/partnerships/{partnership_id}/edit"
    step = f"/console/network/partnerships/{partnership_id}/step"
    await console.sign_in(world.tenant.staff_b)
    page = await console.get(edit)
    assert NL["partnership_step.suspend_means"] in page.text and NL["partnership_step.end_means"] in page.text
    suspended = await console.post(
        step, {"step": "suspend", "reason": "Even pauze", "expected_version": version_on(page.text)}
    )
    assert suspended.status_code == 303, suspended.text
    assert (await status_of(world, f"/api/v1/partnerships/{partnership_id}"))["status"] == "suspended"
    unconfirmed = await console.post(step, {"step": "end"})
    assert unconfirmed.status_code == 422
    assert (await status_of(world, f"/api/v1/partnerships/{partnership_id}"))["status"] == "suspended"
    await console.sign_in(world.tenant.staff_a)  # another library's staff
    await console.get("/console/network")
    assert (await console.post(step, {"step": "end", "confirm": "yes"})).status_code in (403, 404)
    await console.sign_in(world.tenant.staff_b)
    await console.get(edit)
    ended = await console.post(step, {"step": "end", "confirm": "yes"})
    assert ended.status_code == 303, ended.text
    assert (await status_of(world, f"/api/v1/partnerships/{partnership_id}"))["status"] == "ended"


async def test_in_chromium_the_coordinator_suspends_a_partner_free_of_axe_violations(
    people: Any,  # noqa: F811  - the fixture imported above
    world: World,
    artifacts: Path,
) -> None:
    partner_id, _ = await a_partner_with_a_partnership(world)
    coordinator = await people(world.coordinator, bypass_csp=True)
    await coordinator.goto(f"/console/network/partners/{partner_id}/edit")
    await coordinator.page.get_by_role("heading", name=NL["partner_status_page.title"]).wait_for()
    await coordinator.page.screenshot(path=str(artifacts / "coordinator-partner-status.png"), full_page=True)
    assert await coordinator.axe() == []
    await coordinator.page.locator("#f-suspend-reason").fill("Tijdelijk geen begeleiders")
    await coordinator.page.get_by_role("button", name=NL["partner_step.suspend"]).focus()
    await coordinator.page.keyboard.press("Enter")
    await coordinator.page.get_by_text(NL["done.partner_step"]).wait_for()
    await coordinator.goto(f"/console/network/partners/{partner_id}/edit")
    assert await coordinator.page.get_by_role("button", name=NL["partner_step.reactivate"]).count() == 1
    end = coordinator.page.get_by_role("button", name=NL["partner_step.end"])
    await end.click()  # the box is not ticked: the browser does not send the form
    assert await coordinator.page.get_by_role("button", name=NL["partner_step.reactivate"]).count() == 1
    assert await coordinator.axe() == []
