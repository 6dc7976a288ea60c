"""The console's side of volunteers' personal data (issue 14): staff find people by name, set how long the
library keeps leavers' data, download everything held about someone and erase it on request; in Dutch and
English, over plain HTTP and in Chromium with axe."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

from gateway.console.messages import EN, NL
from tests.console.conftest import ConsoleClient, World
from tests.console.test_browser import people  # noqa: F401  - the browser sessions fixture


async def applicant(world: World, name: str) -> dict[str, Any]:
    person = {"name": name, "email": f"{uuid.uuid4().hex[:8]}@mail.example", "phone": "0612341234"}
    async with world.platform.client(world.tenant.staff_a) as staff:
        response = await staff.post("/api/v1/applications", json={"person": person, "motivation": "Voorlezen"})
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_staff_find_by_name_set_retention_download_and_erase(console: ConsoleClient, world: World) -> None:
    tag = uuid.uuid4().hex[:6]
    wanted = await applicant(world, f"Karel Appel{tag}")
    await applicant(world, f"Karel Doorman{tag}")
    await console.sign_in(world.tenant.staff_a)

    found = await console.get("/console/volunteers", params={"name": f"appel{tag}"})
    assert found.status_code == 200
    assert f"Karel Appel{tag}" in found.text and f"Doorman{tag}" not in found.text
    assert NL["volunteers.personal_data_title"] in found.text

    page = await console.get("/console/volunteers")
    version = re.search(
        r'action="/console/volunteers/policy"[^>]*>.*?name="expected_version" value="(\d+)"', page.text, re.S
    )
    assert version is not None
    wrong = await console.post(
        "/console/volunteers/policy",
        {"applicant_retention_days": "0", "volunteer_retention_days": "365", "expected_version": version.group(1)},
    )
    assert wrong.status_code == 422 and NL["problem.invalid-input"] in wrong.text
    saved = await console.post(
        "/console/volunteers/policy",
        {
            "applicant_retention_days": "21",
            "volunteer_retention_days": "365",
            "certificate_validity_months": "24",
            "certificate_max_age_months": "2",
            "expected_version": version.group(1),
        },
    )
    assert saved.status_code == 303
    after = await console.get(saved.headers["location"])
    assert NL["done.volunteer_policy"] in after.text
    assert NL["volunteers.policy_explained"].format(applicants=21, volunteers=365) in after.text
    assert NL["volunteers.certificate_policy_explained"].format(validity=24, max_age=2) in after.text

    download = await console.get(f"/console/volunteers/{wanted['id']}/export")
    assert download.status_code == 200
    assert download.headers["content-disposition"].startswith("attachment")
    exported = json.loads(download.content)
    assert exported["volunteer"]["person"]["name"] == f"Karel Appel{tag}" and exported["history"]

    unconfirmed = await console.post(f"/console/volunteers/{wanted['id']}/erase", {})
    assert unconfirmed.status_code == 422
    assert f"Karel Appel{tag}" in (await console.get("/console/volunteers")).text
    erased = await console.post(f"/console/volunteers/{wanted['id']}/erase", {"confirm": "yes"})
    assert erased.status_code == 303
    after = await console.get(erased.headers["location"])
    assert NL["done.volunteer_erased"] in after.text
    assert f"Karel Appel{tag}" not in after.text and NL["volunteers.erased_person"] in after.text


async def test_a_coordinator_sees_no_names_and_can_neither_download_nor_erase(
    console: ConsoleClient, world: World
) -> None:
    person = await applicant(world, f"Truus Schroder{uuid.uuid4().hex[:6]}")
    await console.sign_in(world.coordinator)
    page = await console.get("/console/volunteers")
    assert page.status_code == 200
    assert person["person"]["name"] not in page.text
    assert NL["volunteers.search_name"] not in page.text and "/erase" not in page.text
    assert (await console.get(f"/console/volunteers/{person['id']}/export")).status_code == 403
    assert (await console.post(f"/console/volunteers/{person['id']}/erase", {"confirm": "yes"})).status_code == 403
    async with world.platform.client(world.tenant.staff_a) as staff:
        still = (await staff.get(f"/api/v1/volunteers/{person['id']}")).json()
    assert still["person"]["name"] == person["person"]["name"]


async def test_in_english_staff_erase_someone_with_the_keyboard_free_of_axe_violations(
    people: Any,  # noqa: F811  - the fixture imported above
    world: World,
    artifacts: Path,
) -> None:
    person = await applicant(world, f"Anton Pieck{uuid.uuid4().hex[:6]}")
    name = person["person"]["name"]
    staff = await people(None, bypass_csp=True)
    await staff.goto("/console/sign-in")
    await staff.page.get_by_role("button", name="English").click()
    await staff.page.get_by_role("heading", name=EN["signin.title"]).wait_for()
    await staff.sign_in(world.tenant.staff_a)
    await staff.goto("/console/volunteers")
    await staff.page.get_by_role("heading", name=EN["volunteers.personal_data_title"]).wait_for()
    card = staff.page.locator(f"#v-{person['id']}")
    await card.locator("summary", has_text=EN["volunteers.personal_data"]).click()
    await card.get_by_role("link", name=EN["volunteers.export"]).wait_for(state="visible")
    violations = await staff.axe()
    await staff.page.screenshot(path=str(artifacts / "staff-volunteer-personal-data-english.png"), full_page=True)
    assert violations == []
    # Each button names its person for a screen reader (a hidden ": <name>" after the visible words).
    erase = card.get_by_role("button", name=re.compile(rf"^{re.escape(EN['volunteers.erase'])}\s*: {name}$"))
    await erase.click()  # the box is not ticked: the browser does not send the form
    assert await staff.page.locator(f"#v-{person['id']}").count() == 1
    await card.get_by_label(EN["volunteers.erase_confirm"].format(name=name)).check()
    await erase.focus()
    await staff.page.keyboard.press("Enter")
    await staff.page.get_by_text(EN["done.volunteer_erased"]).wait_for()
    assert name not in await staff.page.content()
