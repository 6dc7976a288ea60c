"""The network's forms: staff register and edit a partner and record, edit and activate a partnership through the
console, with the same operations (and refusals) as the API; coordinators edit partners but not partnerships;
partners neither."""

from __future__ import annotations

import re
import uuid

from gateway.console.messages import NL
from tests.console.conftest import ConsoleClient, World


def version_on(page: str) -> str:
    found = re.search(r'name="expected_version" value="(\d+)"', page)
    assert found is not None
    return found.group(1)


async def test_staff_register_and_edit_a_partner(console: ConsoleClient, world: World) -> None:
    name = f"Buurthuis De Brug {uuid.uuid4().hex[:6]}"
    await console.sign_in(world.tenant.staff_b)
    network = await console.get("/console/network")
    assert 'href="/console/network/partners/new"' in network.text
    await console.get("/console/network/partners/new")
    typed = {
        "name": name,
        "kind": "volunteer_organisation",
        "chamber_of_commerce_number": "123",
        "skill_areas": "digital",
    }
    refused = await console.post("/console/network/partners", typed)
    assert refused.status_code == 422
    assert NL["problem.invalid-input"] in refused.text and f'value="{name}"' in refused.text  # what was typed stays
    registered = await console.post("/console/network/partners", {**typed, "chamber_of_commerce_number": "12345678"})
    assert registered.status_code == 303, registered.text
    network = await console.get(registered.headers["location"])
    assert NL["done.partner_registered"] in network.text and name in network.text
    link = re.search(
        r'href="(/console/network/partners/[0-9a-f-]{36})/edit">'
        + NL["network.edit"]
        + r'<span class="visually-hidden">: '
        + re.escape(name),
        network.text,
    )
    assert link is not None
    form = await console.get(f"{link.group(1)}/edit")
    version = version_on(form.text)
    changed = await console.post(
        link.group(1), {"name": f"{name} (Noord)", "kind": "volunteer_organisation", "expected_version": version}
    )
    assert changed.status_code == 303, changed.text
    assert f"{name} (Noord)" in (await console.get("/console/network")).text
    stale = await console.post(
        link.group(1), {"name": f"{name} (Zuid)", "kind": "volunteer_organisation", "expected_version": version}
    )
    assert stale.status_code == 409
    assert NL["problem.conflict"] in stale.text


async def test_staff_record_edit_and_activate_a_partnership_which_the_referral_form_then_offers(
    console: ConsoleClient, world: World
) -> None:
    tenant = world.tenant
    async with world.platform.client(tenant.staff_b) as api:  # a partner of its own: other tests keep their network
        body = {
            "name": f"Taalschool {uuid.uuid4().hex[:6]}",
            "kind": "course_provider",
            "municipality": tenant.municipality,
        }
        made = await api.post("/api/v1/partners", json=body)
        assert made.status_code == 201, made.text
    partner_id = made.json()["id"]
    await console.sign_in(tenant.staff_b)
    assert f'value="{partner_id}"' not in (await console.get("/console/referrals/new")).text  # no partnership yet
    form = await console.get("/console/network/partnerships/new")
    assert f'value="{partner_id}"' in form.text
    terms = {"partner_id": partner_id, "starts_on": "2026-01-01", "library_contributions": "location"}
    no_role = await console.post("/console/network/partnerships", terms)
    assert no_role.status_code == 422
    assert NL["problem.invalid-input"] in no_role.text
    created = await console.post("/console/network/partnerships", {**terms, "roles": ["referrer", "course_provider"]})
    assert created.status_code == 303, created.text
    network = await console.get(created.headers["location"])
    assert NL["done.partnership_created"] in network.text
    link = re.search(
        r'href="(/console/network/partnerships/[0-9a-f-]{36})/edit">'
        + NL["network.edit"]
        + r'<span class="visually-hidden">: '
        + re.escape(body["name"]),
        network.text,
    )
    assert link is not None
    edit = await console.get(f"{link.group(1)}/edit")
    assert NL["partnership_step.activate"] in edit.text
    updated = await console.post(
        link.group(1),
        {
            "roles": "referrer",
            "starts_on": "2026-01-01",
            "review_on": "2027-01-01",
            "expected_version": version_on(edit.text),
        },
    )
    assert updated.status_code == 303, updated.text
    edit = await console.get(f"{link.group(1)}/edit")
    assert 'value="course_provider" checked' not in edit.text and 'value="referrer" checked' in edit.text
    step = {"step": "activate", "expected_version": version_on(edit.text)}
    activated = await console.post(f"{link.group(1)}/step", step)
    assert activated.status_code == 303, activated.text
    again = await console.post(f"{link.group(1)}/step", step)  # the same step on the old version
    assert again.status_code == 409
    referral_form = await console.get("/console/referrals/new")
    assert f'value="{partner_id}"' in referral_form.text  # now one of the library's active partnerships


async def test_coordinators_edit_partners_but_not_partnerships_and_partners_neither(
    console: ConsoleClient, world: World
) -> None:
    await console.sign_in(world.coordinator)
    network = await console.get("/console/network")
    assert 'href="/console/network/partners/new"' in network.text
    assert 'href="/console/network/partnerships/new"' not in network.text
    assert (await console.get("/console/network/partnerships/new")).status_code == 403
    await console.sign_in(world.tenant.partner_a_token)
    assert (await console.get("/console/network/partners/new")).status_code == 403
    refused = await console.post("/console/network/partners", {"name": "Sneaky", "kind": "other"})
    assert refused.status_code == 403
