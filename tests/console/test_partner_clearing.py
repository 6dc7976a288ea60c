"""The partner edit form clears what is emptied (issue 20): the KvK number, e-mail, phone, website and skill areas,
and addresses (an address whose fields are all emptied goes; a new one is added in the empty row). Before, an
emptied field stayed as it was, and addresses could not be edited at all."""

from __future__ import annotations

import uuid
from typing import Any

from gateway.console.messages import EN, NL
from tests.console.conftest import ConsoleClient, World
from tests.console.test_network_forms import version_on


async def registered(world: World) -> dict[str, Any]:
    body = {
        "name": f"Buurtwerk {uuid.uuid4().hex[:6]}",
        "kind": "referrer",
        "municipality": world.tenant.municipality,
        "chamber_of_commerce_number": "41178553",
        "email": "info@buurtwerk.example",
        "phone": "030-1112233",
        "website": "https://buurtwerk.example",
        "skill_areas": ["language"],
        "addresses": [
            {"street": "Kerkstraat", "house_number": "12a", "postcode": "3511 AB", "city": "Zuidstad"},
            {"street": "Postbus", "house_number": "99", "postcode": "3500 AA", "city": "Zuidstad", "kind": "postal"},
        ],
    }
    async with world.platform.client(world.tenant.staff_a) as api:
        made = await api.post("/api/v1/partners", json=body)
    assert made.status_code == 201, made.text
    return dict(made.json())


async def partner(world: World, partner_id: str) -> dict[str, Any]:
    async with world.platform.client(world.tenant.staff_a) as api:
        return dict((await api.get(f"/api/v1/partners/{partner_id}")).json())


def address(n: int, street: str, number: str, postcode: str, city: str, kind: str = "visiting") -> dict[str, str]:
    values = {"street": street, "house_number": number, "postcode": postcode, "city": city, "kind": kind}
    return {f"address-{n}-{name}": value for name, value in values.items()}


async def test_staff_clear_fields_and_remove_and_add_addresses(console: ConsoleClient, world: World) -> None:
    made = await registered(world)
    edit = f"/console/network/partners/{made['id']}/edit"
    await console.sign_in(world.tenant.staff_a)
    form = await console.get(edit)
    assert 'value="Kerkstraat"' in form.text and 'value="Postbus"' in form.text
    assert 'name="address-2-street"' in form.text  # an empty row for another address
    assert NL["partner_form.keep_hint"] in form.text and NL["partner_form.addresses_hint"] in form.text

    posted = {
        "name": made["name"],
        "kind": "referrer",
        "chamber_of_commerce_number": "",
        "email": "",
        "phone": "030-1112233",
        "website": "",
        "expected_version": version_on(form.text),
        **address(0, "", "", "", "", "visiting"),  # emptied: the visiting address goes
        **address(1, "Postbus", "99", "3500 AA", "Zuidstad", "postal"),
        **address(2, "Dorpsplein", "1", "3512 cd", "Zuidstad", "visiting"),  # typed in lower case
    }
    saved = await console.post(f"/console/network/partners/{made['id']}", posted)
    assert saved.status_code == 303, saved.text
    after = await partner(world, made["id"])
    assert (after["chamber_of_commerce_number"], after["email"], after["website"]) == (None, None, None)
    assert after["phone"] == "030-1112233" and after["skill_areas"] == []
    assert [(a["street"], a["postcode"], a["kind"]) for a in after["addresses"]] == [
        ("Postbus", "3500 AA", "postal"),
        ("Dorpsplein", "3512 CD", "visiting"),
    ]

    form = await console.get(edit)
    everything_emptied = {**posted, "expected_version": version_on(form.text), **address(0, "", "", "", "")}
    everything_emptied |= address(1, "", "", "", "") | address(2, "", "", "", "")
    cleared = await console.post(f"/console/network/partners/{made['id']}", everything_emptied)
    assert cleared.status_code == 303, cleared.text
    assert (await partner(world, made["id"]))["addresses"] == []


async def test_a_bad_address_comes_back_with_what_was_typed_and_changes_nothing(
    console: ConsoleClient, world: World
) -> None:
    made = await registered(world)
    await console.sign_in(world.tenant.staff_a)
    form = await console.get(f"/console/network/partners/{made['id']}/edit")
    posted = {
        "name": made["name"],
        "kind": "referrer",
        "email": "",
        "expected_version": version_on(form.text),
        **address(0, "Kerkstraat", "12a", "postcode?", "Zuidstad"),
    }
    refused = await console.post(f"/console/network/partners/{made['id']}", posted)
    assert refused.status_code == 422 and NL["problem.invalid-input"] in refused.text
    assert 'value="postcode?"' in refused.text  # what was typed stays
    nameless = await console.post(
        f"/console/network/partners/{made['id']}", {**posted, "name": "", **address(0, "", "", "", "")}
    )
    assert nameless.status_code == 422  # the name cannot be cleared
    after = await partner(world, made["id"])
    assert after["email"] == made["email"] and len(after["addresses"]) == 2 and after["version"] == made["version"]
    await console.post("/console/language", {"lang": "en", "next": f"/console/network/partners/{made['id']}/edit"})
    english = await console.get(f"/console/network/partners/{made['id']}/edit")
    assert EN["partner_form.addresses_hint"] in english.text and EN["address_kind.postal"] in english.text


async def test_a_partner_gets_no_edit_form(console: ConsoleClient, world: World) -> None:
    made = await registered(world)
    await console.sign_in(world.tenant.partner_a_token)
    assert (await console.get(f"/console/network/partners/{made['id']}/edit")).status_code == 403
    await console.get("/console/inbox")
    refused = await console.post(
        f"/console/network/partners/{made['id']}", {"name": made["name"], "kind": "referrer", "email": ""}
    )
    assert refused.status_code == 403
    assert (await partner(world, made["id"]))["email"] == made["email"]


async def test_staff_clear_a_partnerships_end_date_review_date_and_note(console: ConsoleClient, world: World) -> None:
    made = await registered(world)
    terms = {
        "library": world.tenant.library_a,
        "partner_id": made["id"],
        "roles": ["referrer"],
        "starts_on": "2026-01-01",
        "ends_on": "2099-12-31",
        "review_on": "2098-01-01",
        "note": "Jaarlijks evalueren",
    }
    async with world.platform.client(world.tenant.staff_a) as api:
        partnership = (await api.post("/api/v1/partnerships", json=terms)).json()
    edit = f"/console/network/partnerships/{partnership['id']}/edit"
    await console.sign_in(world.tenant.staff_a)
    form = await console.get(edit)
    assert 'value="2099-12-31"' in form.text
    saved = await console.post(
        f"/console/network/partnerships/{partnership['id']}",
        {
            "roles": "referrer",
            "starts_on": "2026-01-01",
            "ends_on": "",
            "review_on": "",
            "note": "",
            "expected_version": version_on(form.text),
        },
    )
    assert saved.status_code == 303, saved.text
    async with world.platform.client(world.tenant.staff_a) as api:
        after = (await api.get(f"/api/v1/partnerships/{partnership['id']}")).json()
    assert (after["ends_on"], after["review_on"], after["note"]) == (None, None, None)
    no_start = await console.post(
        f"/console/network/partnerships/{partnership['id']}", {"roles": "referrer", "starts_on": ""}
    )
    assert no_start.status_code == 422  # the start date cannot be cleared
