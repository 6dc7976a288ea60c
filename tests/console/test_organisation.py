"""A partner's own organisation in the console (issue 20): its people see their record, status and partnerships,
keep their contact details and addresses current (an emptied field is cleared) but not the name or KvK number,
and read the history of changes; staff and coordinators read a partner's history from its page. Another partner's
history is not found, and staff get no organisation page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gateway.console.messages import EN, NL
from shared.tenancy import Role
from tests.console.conftest import ConsoleClient, World
from tests.console.test_browser import people  # noqa: F401  - the browser sessions fixture
from tests.console.test_network_forms import version_on
from tests.console.test_partner_clearing import address, partner
from tests.console.test_partner_status import a_partner_with_a_partnership


async def own_partner(world: World) -> tuple[str, str]:
    """A partner of its own, with details to change and an active partnership, and a token of its people."""
    partner_id, _ = await a_partner_with_a_partnership(world)
    async with world.platform.client(world.tenant.staff_b) as api:
        details = {
            "email": "info@wijk.example",
            "website": "https://wijk.example",
            "chamber_of_commerce_number": "41178553",
        }
        assert (await api.patch(f"/api/v1/partners/{partner_id}", json=details)).status_code == 200
    token = world.platform.token(Role.PARTNER, municipality=world.tenant.municipality, partner=partner_id)
    return partner_id, token


async def test_a_partner_keeps_its_own_contact_details_and_reads_its_history(
    console: ConsoleClient, world: World
) -> None:
    partner_id, token = await own_partner(world)
    await console.sign_in(token)
    page = await console.get("/console/organisation")
    assert page.status_code == 200, page.text
    assert 'href="/console/organisation"' in page.text  # in the partner's menu
    assert NL["organisation.explained"] in page.text and "41178553" in page.text
    assert f"Bibliotheek {world.tenant.library_b}" in page.text  # its partnership, the library by name
    assert 'name="name"' not in page.text and 'name="chamber_of_commerce_number"' not in page.text

    saved = await console.post(
        "/console/organisation",
        {
            "email": "",  # cleared
            "phone": "030-4445566",
            "website": "https://wijkcentrum.example",
            "skill_areas": ["digital"],
            "expected_version": version_on(page.text),
            **address(0, "Marktplein", "3", "3511 ab", "Zuidstad"),
        },
    )
    assert saved.status_code == 303, saved.text
    assert NL["done.organisation_updated"] in (await console.get(saved.headers["location"])).text
    after = await partner(world, partner_id)
    assert (after["email"], after["phone"], after["website"]) == (None, "030-4445566", "https://wijkcentrum.example")
    assert after["skill_areas"] == ["digital"] and after["addresses"][0]["postcode"] == "3511 AB"
    assert after["chamber_of_commerce_number"] == "41178553"  # not the partner's to change

    stale = await console.post("/console/organisation", {"phone": "030-0000000", "expected_version": "1"})
    assert stale.status_code == 409 and NL["problem.conflict"] in stale.text
    bad = await console.post("/console/organisation", {"website": "geen adres"})
    assert bad.status_code == 422 and 'value="geen adres"' in bad.text
    assert (await partner(world, partner_id))["version"] == after["version"]  # refused: nothing changed

    history = await console.get(f"/console/network/partners/{partner_id}/history")
    assert history.status_code == 200, history.text
    assert NL["partner_action.update"] in history.text and NL["partner_action.activate"] in history.text
    assert "https://wijk.example → https://wijkcentrum.example" in history.text

    await console.post("/console/language", {"lang": "en", "next": "/console/organisation"})
    english = (await console.get("/console/organisation")).text
    assert EN["organisation.record"] in english and EN["organisation.partnerships"] in english


async def test_a_partner_or_staff_choose_what_it_publishes_as_open_data(console: ConsoleClient, world: World) -> None:
    """Issue 22: nothing until the partner (or the library's staff, on its behalf) ticks 'publish'; then only what
    was ticked, in the public HSDS API. A form without the choice (an older one) leaves it as it was."""
    partner_id, token = await own_partner(world)
    public = f"/m/{world.tenant.municipality}/hsds/organizations/{partner_id}"
    await console.sign_in(token)
    page = await console.get("/console/organisation")
    assert (
        NL["open_data.legend"] in page.text and f'href="/m/{world.tenant.municipality}/hsds/organizations"' in page.text
    )
    assert 'id="f-open_data-publish" name="open_data" value="publish">' in page.text  # not ticked: not published
    assert 'name="address-0-open_data" value="yes">' in page.text  # an address is not published until ticked
    async with world.platform.client() as web:
        assert (await web.get(public)).status_code == 404
    details = {
        "email": "info@wijk.example",
        "website": "https://wijk.example",
        **address(0, "Marktplein", "3", "3511 AB", "Zuidstad"),
        "address-0-open_data": "yes",  # this address may be published
        **address(1, "Opvanglaan", "7", "3512 CD", "Zuidstad"),  # this one never: its box left empty
    }
    saved = await console.post(
        "/console/organisation",
        {
            **details,
            "open_data_shown": "yes",
            "open_data": ["publish", "email"],
            "expected_version": version_on(page.text),
        },
    )
    assert saved.status_code == 303, saved.text
    after = await partner(world, partner_id)
    assert after["open_data"] == {"publish": True, "addresses": False, "email": True, "phone": False, "courses": False}
    again = await console.get("/console/organisation")
    assert 'id="f-open_data-publish" name="open_data" value="publish" checked>' in again.text
    async with world.platform.client() as web:
        shown = await web.get(public)
    assert shown.status_code == 200, shown.text
    assert shown.json()["email"] == "info@wijk.example" and shown.json()["locations"] == []  # no addresses ticked
    unchanged = await console.post("/console/organisation", {**details, "expected_version": version_on(again.text)})
    assert unchanged.status_code == 303 and (await partner(world, partner_id))["open_data"] == after["open_data"]
    again = await console.get("/console/organisation")
    withdrawn = await console.post(
        "/console/organisation",
        {**details, "open_data_shown": "yes", "expected_version": version_on(again.text)},  # nothing ticked
    )
    assert withdrawn.status_code == 303, withdrawn.text
    async with world.platform.client() as web:
        assert (await web.get(public)).status_code == 404

    await console.sign_in(world.tenant.staff_b)  # the library's staff, for the partner that agreed on paper
    edit = await console.get(f"/console/network/partners/{partner_id}/edit")
    assert 'id="f-open_data-publish" name="open_data" value="publish">' in edit.text
    by_staff = await console.post(
        f"/console/network/partners/{partner_id}",
        {
            "name": after["name"],
            "kind": after["kind"],
            **details,
            "open_data_shown": "yes",
            "open_data": ["publish", "addresses"],
            "expected_version": version_on(edit.text),
        },
    )
    assert by_staff.status_code == 303, by_staff.text
    async with world.platform.client() as web:
        shown = await web.get(public)
    assert shown.status_code == 200, shown.text
    (location,) = shown.json()["locations"]
    assert location["addresses"][0]["address_1"] == "Marktplein 3" and "email" not in shown.json()
    assert "Opvanglaan" not in shown.text
    kept = await partner(world, partner_id)
    assert [a["open_data"] for a in kept["addresses"]] == [True, False]


async def test_staff_read_a_partners_history_and_others_do_not(console: ConsoleClient, world: World) -> None:
    partner_id, token = await own_partner(world)
    await console.sign_in(world.tenant.staff_b)
    edit = await console.get(f"/console/network/partners/{partner_id}/edit")
    assert f'href="/console/network/partners/{partner_id}/history"' in edit.text
    history = await console.get(f"/console/network/partners/{partner_id}/history")
    assert history.status_code == 200 and NL["partner_action.register"] in history.text
    assert NL["partner_history.partnership"] in history.text  # library B's partnership with it
    await console.sign_in(world.tenant.staff_a)  # another library: the partner, not library B's partnership
    other_library = await console.get(f"/console/network/partners/{partner_id}/history")
    assert other_library.status_code == 200 and NL["partner_action.activate"] not in other_library.text
    assert (await console.get("/console/organisation")).status_code == 403
    await console.sign_in(world.tenant.partner_a_token)  # another partner
    assert (await console.get(f"/console/network/partners/{partner_id}/history")).status_code == 404
    await console.get("/console/organisation")
    await console.sign_in(token)
    await console.get("/console/organisation")
    refused = await console.post(f"/console/network/partners/{partner_id}", {"name": "Overgenomen", "kind": "other"})
    assert refused.status_code == 403  # the staff's form is not the partner's
    assert (await partner(world, partner_id))["name"] != "Overgenomen"


async def test_in_chromium_a_partner_saves_its_details_free_of_axe_violations(
    people: Any,  # noqa: F811  - the fixture imported above
    world: World,
    artifacts: Path,
) -> None:
    partner_id, token = await own_partner(world)
    person = await people(token, bypass_csp=True)
    await person.goto("/console/inbox")
    await person.page.get_by_role("link", name=NL["nav.organisation"], exact=True).click()
    await person.page.get_by_role("heading", name=NL["organisation.partnerships"]).wait_for()
    await person.page.screenshot(path=str(artifacts / "partner-organisation.png"), full_page=True)
    assert await person.axe() == []
    await person.page.locator("#f-phone").fill("030-9998877")
    await person.page.get_by_role("button", name=NL["partner_form.save"]).focus()
    await person.page.keyboard.press("Enter")
    await person.page.get_by_text(NL["done.organisation_updated"]).wait_for()
    assert (await partner(world, partner_id))["phone"] == "030-9998877"
    await person.page.get_by_role("link", name=NL["partner_history.link"]).click()
    await person.page.get_by_role("heading", level=1).wait_for()
    assert await person.axe() == []
