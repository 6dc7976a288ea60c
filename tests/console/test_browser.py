"""The console in a real headless Chromium: signing in per role, a partner's referral arriving live in the
library's inbox, accepting it and planning the intake, the partner seeing that, another library seeing nothing;
forms that check before sending; keyboard use; axe-core on the main pages; screenshots as artefacts."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gateway.console.messages import EN, NL
from shared.clock import LOCAL_TIME
from tests.console.conftest import AXE, World
from tests.console.seed import referral
from tests.waiting import PATIENCE_SECONDS

TIMEOUT_MS = int(PATIENCE_SECONDS * 1000)  # a wait for what the page shows: an upper bound only


class Session:
    """One person's browser (a context of its own: its own cookies), signed in with a token."""

    def __init__(self, context: Any, page: Any, base: str) -> None:
        self.context = context
        self.page = page
        self.base = base
        self.csp_errors: list[str] = []
        page.on("console", self._console)

    def _console(self, message: Any) -> None:
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            self.csp_errors.append(message.text)

    async def goto(self, path: str) -> Any:
        return await self.page.goto(self.base + path)

    async def sign_in(self, token: str) -> None:
        await self.goto("/console/sign-in")
        await self.page.locator("#f-token").fill(token)  # by id: the label is in the visitor's language
        await self.page.locator("form.card button[type=submit]").click()
        await self.page.wait_for_load_state()

    async def axe(self) -> list[dict[str, Any]]:
        """Serious and critical WCAG 2.1 A/AA violations (and best practices) on the current page."""
        await self.page.add_script_tag(path=str(AXE))
        results = await self.page.evaluate(
            """async () => await axe.run(document, {
                runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']},
                resultTypes: ['violations'],
            })"""
        )
        return [
            {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
            for v in results["violations"]
            if v["impact"] in ("serious", "critical")
        ]


@pytest.fixture
async def people(browser: Any, world: World) -> AsyncIterator[Any]:
    sessions: list[Session] = []

    async def open_as(token: str | None, *, bypass_csp: bool = False) -> Session:
        context = await browser.new_context(
            viewport={"width": 1280, "height": 900}, locale="nl-NL", bypass_csp=bypass_csp
        )
        context.set_default_timeout(TIMEOUT_MS)
        session = Session(context, await context.new_page(), world.base)
        sessions.append(session)
        if token:
            await session.sign_in(token)
        return session

    try:
        yield open_as
    finally:
        for session in sessions:
            await session.context.close()
        assert [error for session in sessions for error in session.csp_errors] == []


async def test_each_role_signs_in_with_a_token_and_sees_its_own_pages(people: Any, world: World) -> None:
    expected = {
        world.tenant.staff_a: ("/console/inbox", NL["nav.volunteers"], NL["nav.subscriptions"]),
        world.coordinator: ("/console/overview", NL["nav.overview"], NL["nav.new_referral"]),
        world.tenant.partner_a_token: ("/console/inbox", NL["nav.subscriptions"], NL["nav.volunteers"]),
    }
    for token, (landing, shown, hidden) in expected.items():
        person = await people(token)
        assert person.page.url.endswith(landing)
        menu = person.page.get_by_role("navigation", name=NL["a11y.main_nav"])
        assert await menu.get_by_role("link", name=shown, exact=True).count() == 1
        assert await menu.get_by_role("link", name=hidden, exact=True).count() == 0
    partner = await people(world.tenant.partner_a_token)
    refused = await partner.goto("/console/overview")
    assert refused.status == 403
    assert await partner.page.get_by_text(NL["problem.role"]).is_visible()


async def test_a_partners_referral_arrives_live_and_its_intake_reaches_the_partner(
    people: Any, world: World, artifacts: Path
) -> None:
    staff, other_library, partner = (
        await people(world.tenant.staff_a),
        await people(world.tenant.staff_b),
        await people(world.tenant.partner_a_token),
    )
    await staff.page.locator("#live[data-state=open]").wait_for()  # the event stream is subscribed
    await staff.page.evaluate("window.__notReloaded = true")
    await other_library.page.locator("#live[data-state=open]").wait_for()

    # The partner submits a referral with the form.
    await partner.goto("/console/referrals/new")
    form = partner.page
    name = f"Noor {uuid.uuid4().hex[:6]}"
    await form.get_by_label(NL["submit.library"]).select_option(world.tenant.library_a)  # from its partnerships
    await form.get_by_role("group", name=NL["submit.participant"]).get_by_label(NL["person.name"]).fill(name)
    await form.get_by_label(NL["area.language"], exact=True).check()
    await form.get_by_label(NL["submit.level"].format(area=NL["area.language"])).fill("A1")
    await form.get_by_label(NL["referral.reason"]).fill("Wil de brieven van de gemeente zelf kunnen lezen")
    await form.get_by_role("group", name=NL["submit.contact"]).get_by_label(NL["person.name"]).fill("Jan Consulent")
    await form.get_by_label(NL["shared.contact_details"]).check()  # none is ticked in advance
    await form.get_by_label(NL["shared.reason"]).check()
    await form.get_by_label(NL["consent.purpose"]).fill("warme doorverwijzing naar het Taalhuis")
    await form.get_by_role("button", name=NL["submit.button"]).click()
    await form.get_by_text(NL["done.submitted"]).wait_for()
    referral_id = re.search(r"/console/referrals/([0-9a-f-]{36})", form.url).group(1)  # type: ignore[union-attr]
    pseudonym = (await form.locator("h1").inner_text()).split()[-1]
    await partner.page.screenshot(path=str(artifacts / "partner-referral-submitted.png"), full_page=True)

    # It appears in the library's inbox without a reload, and is announced.
    row = staff.page.locator(f"#row-{referral_id}")
    await row.wait_for()
    assert await staff.page.evaluate("window.__notReloaded") is True
    assert pseudonym in await staff.page.locator("#live-status").inner_text()
    await staff.page.screenshot(path=str(artifacts / "staff-inbox-live.png"), full_page=True)

    # The partner follows its own list; the library accepts and plans the intake.
    await partner.goto("/console/inbox")
    await partner.page.evaluate("window.__notReloaded = true")
    await row.get_by_role("link", name=pseudonym).click()
    await staff.page.get_by_role("button", name=NL["step.accept_button"]).click()
    await staff.page.get_by_text(NL["done.accept"]).wait_for()
    await staff.page.locator("#step-plan-intake summary").click()
    intake = staff.page.locator("#step-plan-intake")
    tomorrow = (datetime.now(LOCAL_TIME) + timedelta(days=1)).replace(hour=10, minute=0)
    await intake.get_by_label(NL["intake.at"]).fill(tomorrow.strftime("%Y-%m-%dT%H:%M"))
    await intake.get_by_label(NL["intake.place"]).fill("Taalhuis, vestiging Centrum")
    await intake.get_by_label(NL["intake.contact_name"]).fill("Els van het Taalhuis")
    await intake.get_by_role("button", name=NL["step.plan-intake_button"]).click()
    await staff.page.get_by_text(NL["done.plan-intake"]).wait_for()
    assert await staff.page.locator("#referral-status").get_attribute("data-status") == "intake_planned"
    await staff.page.screenshot(path=str(artifacts / "staff-referral-intake-planned.png"), full_page=True)

    # The partner's list shows it without a reload; its page says when and where.
    await partner.page.locator(f"#row-{referral_id}[data-status=intake_planned]").wait_for()
    assert await partner.page.evaluate("window.__notReloaded") is True
    await partner.goto(f"/console/referrals/{referral_id}")
    assert "Taalhuis, vestiging Centrum" in await partner.page.locator("#referral-intake").inner_text()
    await partner.page.screenshot(path=str(artifacts / "partner-referral-intake.png"), full_page=True)

    # Staff of the other library saw nothing of it, and cannot open it.
    assert await other_library.page.locator(f"#row-{referral_id}").count() == 0
    assert pseudonym not in await other_library.page.content()
    refused = await other_library.goto(f"/console/referrals/{referral_id}")
    assert refused.status == 404
    assert await other_library.page.get_by_text(NL["problem.not-found"]).is_visible()


async def test_forms_check_before_sending_and_explain_the_apis_problems(
    people: Any, world: World, artifacts: Path
) -> None:
    partner = await people(world.tenant.partner_a_token)
    await partner.goto("/console/referrals/new")
    page = partner.page
    await page.get_by_role("button", name=NL["submit.button"]).click()  # nothing filled in: the browser stops it
    assert page.url.endswith("/console/referrals/new")
    assert await page.locator("#f-library").evaluate("field => field.validity.valueMissing") is True

    # Valid for the browser, but no needs chosen: the API refuses, the page explains and keeps what was typed.
    await page.get_by_label(NL["submit.library"]).select_option(world.tenant.library_a)
    await page.get_by_role("group", name=NL["submit.participant"]).get_by_label(NL["person.name"]).fill("Kees")
    await page.get_by_label(NL["referral.reason"]).fill("Wil leren digitaal zaken doen")
    await page.get_by_role("group", name=NL["submit.contact"]).get_by_label(NL["person.name"]).fill("Jan")
    await page.get_by_label(NL["shared.contact_details"]).check()
    await page.get_by_label(NL["consent.purpose"]).fill("doorverwijzing")
    await page.get_by_role("button", name=NL["submit.button"]).click()
    problem = page.get_by_role("alert")
    await problem.wait_for()
    assert NL["problem.invalid-input"] in await problem.inner_text()
    assert NL["field.needs"] in await problem.inner_text()
    assert await page.get_by_label(NL["referral.reason"]).input_value() == "Wil leren digitaal zaken doen"
    await page.screenshot(path=str(artifacts / "partner-referral-problem.png"), full_page=False)


async def test_the_console_is_dutch_by_default_and_english_on_request(
    people: Any, world: World, artifacts: Path
) -> None:
    person = await people(None)
    await person.goto("/console/sign-in")
    assert await person.page.locator("html").get_attribute("lang") == "nl"
    await person.page.get_by_role("button", name="English").click()
    await person.page.get_by_role("heading", name=EN["signin.title"]).wait_for()
    assert await person.page.locator("html").get_attribute("lang") == "en"
    await person.sign_in(world.coordinator)
    assert await person.page.get_by_role("heading", name=EN["overview.title"], level=1).is_visible()
    await person.page.screenshot(path=str(artifacts / "coordinator-overview-english.png"), full_page=False)


async def test_keyboard_users_skip_to_the_content_and_see_where_they_are(people: Any, world: World) -> None:
    person = await people(world.tenant.staff_a)
    await person.page.keyboard.press("Tab")
    skip = person.page.get_by_role("link", name=NL["a11y.skip"])
    assert await skip.evaluate("link => link === document.activeElement") is True
    assert await skip.is_visible()
    outline, shadow = await skip.evaluate(
        "link => [getComputedStyle(link).outlineStyle, getComputedStyle(link).boxShadow]"
    )
    assert outline == "solid" and shadow != "none"  # the focus is visible
    await person.page.keyboard.press("Enter")
    assert await person.page.evaluate("document.activeElement.id") == "main"
    for _ in range(3):  # and onwards through the content's links
        await person.page.keyboard.press("Tab")
    assert await person.page.evaluate("document.activeElement.closest('main') !== null") is True


MAIN_PAGES = [
    ("sign-in", None, "/console/sign-in"),
    ("staff-inbox", "staff", "/console/inbox"),
    ("staff-referral", "staff", "referral"),
    ("staff-network", "staff", "/console/network"),
    ("staff-new-partner", "staff", "/console/network/partners/new"),
    ("staff-new-partnership", "staff", "/console/network/partnerships/new"),
    ("coordinator-network", "coordinator", "/console/network"),
    ("staff-edit-partner", "staff", "/console/network a[href^='/console/network/partners/'][href$='/edit']"),
    ("staff-edit-partnership", "staff", "/console/network a[href^='/console/network/partnerships/'][href$='/edit']"),
    ("staff-volunteers", "staff", "/console/volunteers"),
    ("staff-people", "staff", "/console/people"),
    ("staff-courses", "staff", "/console/courses"),
    ("staff-purchases", "staff", "/console/purchases"),
    ("coordinator-overview", "coordinator", "/console/overview"),
    ("partner-inbox", "partner", "/console/inbox"),
    ("partner-new-referral", "partner", "/console/referrals/new"),
    ("staff-new-referral", "staff", "/console/referrals/new"),
    ("partner-subscriptions", "partner", "/console/subscriptions"),
]


async def test_the_main_pages_have_no_serious_accessibility_violations(
    people: Any, world: World, artifacts: Path
) -> None:
    tokens = {"staff": world.tenant.staff_a, "coordinator": world.coordinator, "partner": world.tenant.partner_a_token}
    sessions = {role: await people(token, bypass_csp=True) for role, token in tokens.items()}
    sessions[None] = await people(None, bypass_csp=True)  # type: ignore[index]
    found: dict[str, list[dict[str, Any]]] = {}

    async def check(role: str | None) -> None:
        person = sessions[role]  # type: ignore[index]
        for name, _, path in [page for page in MAIN_PAGES if page[1] == role]:
            if path == "referral":
                await person.goto("/console/inbox")
                await person.page.locator("#inbox-sections tbody th a").first.click()
                await person.page.wait_for_load_state()
            elif " " in path:  # a page reached by its link on another: "<page> <the link's selector>"
                start, link = path.split(" ", 1)
                await person.goto(start)
                await person.page.locator(link).first.click()
                await person.page.wait_for_load_state()
                assert person.page.url.endswith("/edit"), name
            else:
                response = await person.goto(path)
                assert response.status == 200, f"{name}: {response.status}"
            await person.page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)
            if violations := await person.axe():
                found[name] = violations

    await asyncio.gather(*(check(role) for role in sessions))  # one browser tab per role, side by side
    assert found == {}


async def test_staff_give_a_participant_a_code_with_the_keyboard(people: Any, world: World, artifacts: Path) -> None:
    async with (
        world.platform.client(world.tenant.partner_a_token) as partner,
        world.platform.client(world.tenant.staff_a) as library,
    ):
        body = referral(world.tenant.library_a, world.tenant.partner_a, f"Code {uuid.uuid4().hex[:6]}")
        made = (await partner.post("/api/v1/referrals", json=body)).json()
        assert (await library.post(f"/api/v1/referrals/{made['id']}/accept")).status_code == 200
    staff = await people(world.tenant.staff_a, bypass_csp=True)
    await staff.goto(f"/console/referrals/{made['id']}")
    assert await staff.axe() == []  # the page with its code and duplicates sections
    await staff.page.get_by_role("button", name=NL["code.issue"], exact=True).focus()
    await staff.page.keyboard.press("Enter")
    await staff.page.get_by_role("heading", name=NL["code.issued_title"]).wait_for()
    assert await staff.page.locator("#participant-code-value").inner_text()
    await staff.page.screenshot(path=str(artifacts / "staff-participant-code.png"), full_page=True)
    assert await staff.axe() == []
