"""An applicant's page in the console (issue 20): the library's staff record an application, take it through intake
and screening, request the certificate of conduct (VOG) and record its receipt, accept (activate) the person only
with a valid VOG, reject with a reason and change the details; bad input shows on the form and changes nothing.
Another library's staff, the coordinator (who reads without names) and a partner change nothing."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from gateway.console.messages import EN, NL
from shared.clock import local_today
from tests.console.conftest import ConsoleClient, World
from tests.console.test_browser import people  # noqa: F401  - the browser sessions fixture


def version_of(html: str) -> str:
    found = re.search(r'name="expected_version" value="(\d+)"', html)
    assert found is not None
    return found.group(1)


async def person_of(world: World, volunteer_id: str) -> dict[str, Any]:
    async with world.platform.client(world.tenant.staff_a) as api:
        found = await api.get(f"/api/v1/volunteers/{volunteer_id}")
    assert found.status_code == 200, found.text
    return dict(found.json())


async def applied(console: ConsoleClient, world: World, name: str) -> str:
    await console.sign_in(world.tenant.staff_a)
    assert (await console.get("/console/volunteers/new")).status_code == 200
    made = await console.post(
        "/console/volunteers/new",
        {"person_name": name, "person_email": "vrijwilliger@example.org", "certificate_of_conduct_required": "yes"},
    )
    assert made.status_code == 303, made.text
    return str(made.headers["location"].split("?")[0])


async def step(console: ConsoleClient, path: str, form: dict[str, str]) -> Any:
    page = await console.get(path)
    return await console.post(
        f"{path}/{form.pop('act', 'take-step')}", form | {"expected_version": version_of(page.text)}
    )


async def test_staff_screen_an_applicant_with_the_vog_and_accept_them(console: ConsoleClient, world: World) -> None:
    name = f"Fenna Visser{uuid.uuid4().hex[:6]}"
    await console.sign_in(world.tenant.staff_a)
    await console.get("/console/volunteers/new")
    bad = await console.post("/console/volunteers/new", {"person_name": name, "person_email": "geen-adres"})
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.text and name in bad.text
    async with world.platform.client(world.tenant.staff_a) as api:
        found = await api.get("/api/v1/volunteers", params={"name": name})
    assert found.status_code == 200 and found.json()["items"] == []  # nothing stored

    path = await applied(console, world, name)
    volunteer_id = path.rsplit("/", 1)[1]
    page = await console.get(path + "?done=applied")
    assert NL["applicant_done.applied"] in page.text and name in page.text and "vrijwilliger@example.org" in page.text
    for next_step in ("start_intake", "start_screening"):
        assert (await step(console, path, {"step": next_step})).status_code == 303, next_step
    refused = await step(console, path, {"step": "activate"})
    assert refused.status_code == 409 and "certificate of conduct" in refused.text  # no VOG yet
    assert (await step(console, path, {"act": "certificate-request"})).status_code == 303
    future = str(local_today() + timedelta(days=3))
    early = await step(console, path, {"act": "certificate-receipt", "issued_on": future})
    assert early.status_code == 422 and NL["problem.invalid-input"] in early.text
    received = await step(console, path, {"act": "certificate-receipt", "issued_on": str(local_today())})
    assert received.status_code == 303, received.text
    assert (await step(console, path, {"step": "activate"})).status_code == 303
    stale = await console.post(f"{path}/take-step", {"step": "deactivate", "expected_version": "1"})
    assert stale.status_code == 409 and NL["problem.conflict"] in stale.text

    bad_phone = await step(console, path, {"act": "details", "person_name": name, "person_phone": "bel me"})
    assert bad_phone.status_code == 422 and 'id="f-d-person_phone"' in bad_phone.text
    changed = await step(console, path, {"act": "details", "person_name": name, "person_email": "f.visser@example.org"})
    assert changed.status_code == 303, changed.text

    person = await person_of(world, volunteer_id)
    assert person["status"] == "active" and person["certificate"]["status"] == "valid"
    assert person["person"]["email"] == "f.visser@example.org" and person["certificate_of_conduct_required"] is False
    await console.post("/console/language", {"lang": "en", "next": path})
    english = await console.get(path)
    assert EN["certificate.valid"] in english.text and EN["volunteer_status.active"] in english.text


async def test_a_rejection_needs_a_reason(console: ConsoleClient, world: World) -> None:
    path = await applied(console, world, f"Bram Kok{uuid.uuid4().hex[:6]}")
    without = await step(console, path, {"step": "reject"})
    assert without.status_code == 422 and NL["problem.invalid-input"] in without.text
    rejected = await step(console, path, {"step": "reject", "reason": "Geen plek voor deze rol"})
    assert rejected.status_code == 303
    person = await person_of(world, path.rsplit("/", 1)[1])
    assert (person["status"], person["status_reason"]) == ("rejected", "Geen plek voor deze rol")


async def test_another_library_the_coordinator_and_a_partner_change_nothing(
    console: ConsoleClient, world: World
) -> None:
    name = f"Ilse de Wit{uuid.uuid4().hex[:6]}"
    path = await applied(console, world, name)
    volunteer_id = path.rsplit("/", 1)[1]
    forms = {"take-step": {"step": "start_intake"}, "certificate-request": {}, "details": {"person_name": "X"}}

    await console.sign_in(world.tenant.staff_b)
    assert (await console.get(path)).status_code == 404
    await console.get("/console/volunteers")
    for act, form in forms.items():
        refused = await console.post(f"{path}/{act}", form)
        assert refused.status_code == 404 and name not in refused.text, act

    await console.sign_in(world.coordinator)
    read = await console.get(path)
    assert read.status_code == 200 and name not in read.text and "vrijwilliger@example.org" not in read.text
    assert f'action="{path}/' not in read.text  # reads, no forms
    for act, form in forms.items():
        assert (await console.post(f"{path}/{act}", form)).status_code == 403, act
    assert (await console.get("/console/volunteers/new")).status_code == 403

    await console.sign_in(world.tenant.partner_a_token)
    assert (await console.get(path)).status_code == 403
    for act, form in forms.items():
        assert (await console.post(f"{path}/{act}", form)).status_code == 403, act
    person = await person_of(world, volunteer_id)
    assert (person["status"], person["version"], person["person"]["name"]) == ("applied", 1, name)


async def test_in_chromium_an_applicant_is_recorded_and_screened(
    people: Any,  # noqa: F811  - the fixture imported above
    world: World,
    artifacts: Path,
) -> None:
    name = f"Yara Bos{uuid.uuid4().hex[:6]}"
    staff = await people(world.tenant.staff_a, bypass_csp=True)
    await staff.goto("/console/volunteers")
    await staff.page.get_by_role("link", name=NL["applicant.new_title"]).click()
    await staff.page.get_by_role("heading", name=NL["applicant.new_title"], level=1).wait_for()
    assert await staff.axe() == []
    await staff.page.get_by_label(NL["applicant.name"]).fill(name)
    await staff.page.get_by_label(NL["applicant.certificate_without_vacancy"]).check()
    await staff.page.get_by_role("button", name=NL["applicant.apply"]).click()
    await staff.page.get_by_role("heading", name=name, level=1).wait_for()
    assert await staff.axe() == []
    for next_step in ("start_intake", "start_screening"):
        await staff.page.get_by_role("button", name=NL[f"volunteer_step.{next_step}"]).click()
        await staff.page.get_by_text(NL["applicant_done.step"]).wait_for()
    await staff.page.get_by_role("button", name=NL["applicant.request_certificate"]).click()
    await staff.page.get_by_text(NL["applicant_done.requested"]).wait_for()
    await staff.page.get_by_label(NL["applicant.issued_on"]).fill(str(local_today()))
    await staff.page.get_by_role("button", name=NL["applicant.receive_certificate"]).focus()
    await staff.page.keyboard.press("Enter")
    await staff.page.get_by_text(NL["applicant_done.received"]).wait_for()
    await staff.page.get_by_role("button", name=NL["volunteer_step.activate"]).click()
    await staff.page.get_by_text(NL["applicant_done.step"]).wait_for()
    assert await staff.page.locator(".lead").get_by_text(NL["volunteer_status.active"]).count() == 1
    await staff.page.screenshot(path=str(artifacts / "staff-applicant.png"), full_page=True)
    assert await staff.axe() == []
