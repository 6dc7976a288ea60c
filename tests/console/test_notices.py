"""Notices in the console (issue 20): staff and partners' people choose their notices on a page of their own (the
same operation and refusals as PUT /api/v1/notices/preferences); operators see the mail outbox and, where `up`
runs its mail catcher, the messages it caught. In Chromium with the keyboard, and axe on both pages."""

from __future__ import annotations

import dataclasses
import re
import uuid
from pathlib import Path
from typing import Any

from gateway.console.messages import NL
from launcher.mail_catcher import MailCatcher
from shared.tenancy import Role
from tests.console.conftest import ConsoleClient, World
from tests.console.test_browser import Session, people  # noqa: F401 - the fixture, for this module's browser test
from tests.fixtures.platform import another_gateway
from tests.referral_bodies import referral_body
from tests.waiting import eventually


def version_on(page: str) -> str:
    found = re.search(r'name="expected_version" value="(\d+)"', page)
    assert found is not None
    return found.group(1)


def checked(page: str) -> list[str]:
    return re.findall(r'name="kinds" value="([a-z_]+)" checked', page)


async def test_staff_choose_their_notices_and_the_api_reads_the_same(console: ConsoleClient, world: World) -> None:
    staff = world.platform.token(Role.STAFF, municipality=world.tenant.municipality, library=world.tenant.library_a)
    await console.sign_in(staff)
    first = await console.get("/console/notices")
    assert first.status_code == 200
    assert NL["notices.first_time"] in first.text
    assert checked(first.text) == [
        "referral_submitted",
        "referral_overdue",
        "referral_declined",
        "review_due",
        "waiting_list_place",
    ]
    assert 'value="delivery_failed"' not in first.text  # a partner's kind
    email = f"lies-{uuid.uuid4().hex[:6]}@bieb.example"
    saved = await console.post(
        "/console/notices", {"email": email, "language": "en", "kinds": ["referral_submitted", "review_due"]}
    )
    assert (saved.status_code, saved.headers["location"]) == (303, "/console/notices?saved=1")
    shown = await console.get("/console/notices?saved=1")
    assert NL["notices.saved"] in shown.text
    assert checked(shown.text) == ["referral_submitted", "review_due"]
    assert version_on(shown.text) == "1"
    async with world.platform.client(staff) as api:
        read = (await api.get("/api/v1/notices/preferences")).json()
    assert (read["email"], read["language"], read["kinds"]) == (email, "en", ["referral_submitted", "review_due"])

    stale = await console.post("/console/notices", {"email": email, "kinds": [], "expected_version": "7"})
    assert stale.status_code == 409
    assert 'role="alert"' in stale.text
    bad = await console.post("/console/notices", {"email": "geen adres", "kinds": [], "expected_version": "1"})
    assert bad.status_code == 422
    assert 'value="geen adres"' in bad.text  # what was typed comes back with the explanation
    assert 'aria-invalid="true"' in bad.text
    async with world.platform.client(staff) as api:
        assert (await api.get("/api/v1/notices/preferences")).json()["version"] == 1  # the refusals changed nothing


async def test_a_partners_person_gets_the_partners_kinds(console: ConsoleClient, world: World) -> None:
    person = world.platform.token(Role.PARTNER, municipality=world.tenant.municipality, partner=world.tenant.partner_a)
    await console.sign_in(person)
    page = await console.get("/console/notices")
    assert page.status_code == 200
    assert 'href="/console/notices"' in page.text  # in the partner's navigation
    assert checked(page.text) == ["referral_submitted", "referral_overdue", "referral_declined", "delivery_failed"]


async def test_who_gets_no_notices_has_no_notices_page(console: ConsoleClient, world: World) -> None:
    await console.sign_in(world.tenant.operator)
    assert (await console.get("/console/notices")).status_code == 403
    assert (await console.post("/console/notices", {"email": "x@y.nl", "kinds": []})).status_code == 403


async def test_the_mail_page_is_for_operators(console: ConsoleClient, world: World) -> None:
    await console.sign_in(world.tenant.staff_a)
    assert (await console.get("/console/mail")).status_code == 403
    await console.sign_in(world.tenant.operator)
    page = await console.get("/console/mail")
    assert page.status_code == 200
    assert NL["mail.no_catcher"] in page.text  # this gateway runs without `up`'s catcher


async def test_operators_read_what_the_mail_catcher_caught(world: World, mail_catcher: MailCatcher) -> None:
    platform = world.platform
    email = f"lies-{uuid.uuid4().hex[:6]}@bieb.example"
    async with platform.client(world.tenant.staff_a) as api:
        current = (await api.get("/api/v1/notices/preferences")).json()
        body: dict[str, Any] = {"email": email, "kinds": ["review_due", "referral_submitted"]}
        if current["version"]:
            body["expected_version"] = current["version"]
        assert (await api.put("/api/v1/notices/preferences", json=body)).status_code == 200
    async with platform.client(world.tenant.partner_a_token) as api:
        referral = await api.post(
            "/api/v1/referrals", json=referral_body(world.tenant.library_a, world.tenant.partner_a)
        )
    assert referral.status_code == 201, referral.text
    settings = dataclasses.replace(platform.settings, mail_catcher_dir=mail_catcher.directory)
    async with another_gateway(settings) as base:
        console = ConsoleClient(dataclasses.replace(platform, base_url=base))
        try:
            await console.sign_in(world.tenant.operator)

            async def shown() -> str | None:
                page = (await console.get("/console/mail")).text
                return page if page.count(email) >= 2 else None  # in the outbox, and caught

            page = await eventually(shown, what="the notice in the outbox and among the caught messages")
        finally:
            await console.aclose()
    assert NL["mail.caught_lead"] in page
    assert f"/console/referrals/{referral.json()['id']}" in page  # the caught body, with its link
    assert "Fatima" not in page and "0612345678" not in page


async def test_staff_choose_notices_with_the_keyboard_and_both_pages_pass_axe(
    people: Any,  # noqa: F811
    world: World,
    artifacts: Path,
) -> None:
    staff_token = world.platform.token(
        Role.STAFF, municipality=world.tenant.municipality, library=world.tenant.library_a
    )
    staff: Session = await people(staff_token, bypass_csp=True)  # axe is injected
    await staff.goto("/console/notices")
    assert await staff.axe() == []
    await staff.page.locator("#f-email").focus()
    await staff.page.keyboard.type(f"kb-{uuid.uuid4().hex[:6]}@bieb.example")
    await staff.page.keyboard.press("Tab")  # to the language
    await staff.page.locator("#f-kind-referral_overdue").focus()
    await staff.page.keyboard.press("Space")  # untick one
    await staff.page.locator("form button.primary").focus()
    await staff.page.keyboard.press("Enter")
    await staff.page.wait_for_url("**/console/notices?saved=1")
    assert not await staff.page.locator("#f-kind-referral_overdue").is_checked()
    assert await staff.page.locator("#f-kind-referral_submitted").is_checked()
    await staff.page.screenshot(path=str(artifacts / "staff-notices.png"), full_page=True)
    assert await staff.axe() == []

    operator: Session = await people(world.tenant.operator, bypass_csp=True)
    response = await operator.goto("/console/mail")
    assert response.status == 200
    await operator.page.screenshot(path=str(artifacts / "operator-mail.png"), full_page=True)
    assert await operator.axe() == []


async def test_in_chromium_a_coordinator_chooses_the_municipalitys_notices(
    people: Any,  # noqa: F811
    world: World,
) -> None:
    coordinator_token = world.platform.token(Role.COORDINATOR, municipality=world.tenant.municipality)
    coordinator: Session = await people(coordinator_token, bypass_csp=True)
    await coordinator.goto("/console/overview")
    await coordinator.page.get_by_role("link", name=NL["nav.notices"]).click()  # in the coordinator's navigation
    await coordinator.page.locator("#f-email").wait_for()
    assert await coordinator.axe() == []
    boxes = coordinator.page.locator("input[name=kinds]")
    offered = [await boxes.nth(n).get_attribute("value") for n in range(await boxes.count())]
    assert offered == ["review_due", "partnership_ended", "partner_delivery_failed"]
    assert await coordinator.page.get_by_label(NL["notice_kind.partnership_ended"]).is_checked()  # all, at first
    address = f"gemeente-{uuid.uuid4().hex[:6]}@gemeente.example"
    await coordinator.page.locator("#f-email").fill(address)
    await coordinator.page.get_by_label(NL["notice_kind.review_due"]).uncheck()
    await coordinator.page.locator("form button.primary").click()
    await coordinator.page.wait_for_url("**/console/notices?saved=1")
    assert not await coordinator.page.get_by_label(NL["notice_kind.review_due"]).is_checked()
    assert await coordinator.axe() == []
    async with world.platform.client(coordinator_token) as api:
        saved = (await api.get("/api/v1/notices/preferences")).json()
    assert (saved["email"], saved["kinds"]) == (address, ["partnership_ended", "partner_delivery_failed"])
    assert await coordinator.page.locator("#h-library-address").count() == 0  # a library's address is staff's


async def test_staff_keep_their_librarys_general_address_and_others_cannot(
    console: ConsoleClient, world: World
) -> None:
    async def entry() -> Any:
        async with world.platform.client(world.tenant.staff_b) as api:
            found = await api.get(f"/api/v1/libraries/{world.tenant.library_b}")
        assert found.status_code == 200, found.text
        return found.json()

    async def address() -> Any:
        return (await entry())["email"]

    await console.sign_in(world.tenant.staff_b)
    page = await console.get("/console/notices")
    assert page.status_code == 200 and 'id="h-library-address"' in page.text
    bad = await console.post("/console/notices/library", {"library_email": "de balie"})
    assert bad.status_code == 422 and 'id="f-library_email"' in bad.text and 'aria-invalid="true"' in bad.text
    assert await address() is None
    saved = await console.post("/console/notices/library", {"library_email": "balie@bieb-b.example"})
    assert saved.status_code == 303, saved.text
    page = await console.get(saved.headers["location"])
    assert NL["notices.library_saved"] in page.text and "balie@bieb-b.example" in page.text
    assert await address() == "balie@bieb-b.example"
    typed = {"library_email": "balie@bieb-b.example", "library_phone": "bel ons"}
    bad_phone = await console.post("/console/notices/library", typed)
    assert bad_phone.status_code == 422 and 'id="f-library_phone"' in bad_phone.text
    assert re.search(r'id="f-library_phone"[^>]*aria-invalid="true"', bad_phone.text)
    phoned = await console.post("/console/notices/library", {**typed, "library_phone": "010 555 0123"})
    assert phoned.status_code == 303, phoned.text
    assert "010 555 0123" in (await console.get("/console/notices")).text
    assert (await entry())["phone"] == "010 555 0123"
    assert await address() == "balie@bieb-b.example"

    await console.sign_in(world.tenant.partner_b_token)  # a partner keeps no library's address
    page = await console.get("/console/notices")
    assert page.status_code == 200 and 'id="h-library-address"' not in page.text
    assert (await console.post("/console/notices/library", {"library_email": "x@partner.example"})).status_code == 403
    await console.sign_in(world.coordinator)
    await console.get("/console/courses")
    assert (await console.post("/console/notices/library", {"library_email": "x@gemeente.example"})).status_code == 403
    assert await address() == "balie@bieb-b.example"

    await console.sign_in(world.tenant.staff_b)
    await console.get("/console/notices")
    cleared = await console.post("/console/notices/library", {"library_email": ""})
    assert cleared.status_code == 303 and await address() is None
