"""The public course calendar in a real headless Chromium at a phone's size (issue 22): a resident finds a course
with the keyboard, signs up, fixes what the form says is wrong, confirms from the e-mail's link, in Dutch and
English; axe-core finds no serious or critical violation on any of its pages. Screenshots go to the artefacts."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from launcher.mail_catcher import MailCatcher
from tests.console.test_browser import TIMEOUT_MS, Session
from tests.e2e.calendar_support import link_in, message_about, schedule
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant
from tests.services.courses.support import course_tenant

PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
async def tenant(platform: RunningPlatform) -> Tenant:
    return await course_tenant(platform)


@pytest.fixture
async def resident(browser: Any, platform: RunningPlatform) -> AsyncIterator[Session]:
    # CSP bypassed only so that axe-core can be injected; the pages run no script of their own.
    context = await browser.new_context(viewport=PHONE, locale="nl-NL", bypass_csp=True, is_mobile=True)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield Session(context, await context.new_page(), platform.base_url)
    finally:
        await context.close()


async def test_a_resident_finds_a_course_signs_up_and_confirms_with_the_keyboard_free_of_axe_violations(
    resident: Session, platform: RunningPlatform, tenant: Tenant, mail_catcher: MailCatcher, artifacts: Path
) -> None:
    course = await schedule(platform, tenant.staff_a, capacity=4, details={"title": "Digitaal de weg vinden"})
    await schedule(
        platform, tenant.staff_b, details={"title": "Taalcafé", "skill_area": "language", "audience": "newcomers"}
    )
    page = resident.page
    await resident.goto(f"/m/{tenant.municipality}/courses")
    assert await resident.axe() == []
    await page.screenshot(path=str(artifacts / "calendar-phone.png"), full_page=True)

    # The first Tab reaches the skip link; it leads to the content.
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.textContent") == "Naar de inhoud"
    await page.keyboard.press("Enter")
    assert await page.evaluate("document.activeElement.id") == "main"
    # A filter chosen with the keyboard: focus the subject, pick with the arrows, send with Enter.
    await page.focus("#f-skill")
    await page.select_option("#f-skill", "digital")
    await page.focus("button[type=submit]")
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    assert "skill_area=digital" in page.url
    cards = await page.locator(".card h3").all_inner_texts()
    assert "Digitaal de weg vinden" in cards and "Taalcafé" not in cards
    assert await resident.axe() == []

    # The course's page; the form sent empty says what to fix, and each message leads to its field.
    async with page.expect_navigation():
        await page.get_by_role("link", name="Digitaal de weg vinden").click()
    assert await resident.axe() == []
    async with page.expect_navigation():
        await page.get_by_role("button", name="Meld me aan").click()
    problems = page.get_by_role("alert")
    assert "Vul je naam in." in await problems.inner_text()
    assert await page.locator("#f-name").get_attribute("aria-invalid") == "true"
    assert await resident.axe() == []
    await page.screenshot(path=str(artifacts / "calendar-sign-up-problems.png"), full_page=True)

    email = f"browser-{uuid.uuid4().hex[:8]}@bewoner.example"
    await page.get_by_label("Naam").fill("Gijs Bos")
    await page.get_by_label("E-mailadres").fill(email)
    async with page.expect_navigation():
        await page.get_by_label("E-mailadres").press("Enter")
    assert await page.get_by_role("heading", level=1).inner_text() == "Kijk in je e-mail"
    assert await resident.axe() == []

    link = link_in(await message_about(mail_catcher, email, "Bevestig"))
    await resident.goto(link)
    assert await resident.axe() == []
    await page.get_by_role("button", name="Bevestig mijn aanmelding").focus()
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    assert "Je hebt een plek" in await page.locator("main").inner_text()
    assert await page.get_by_role("status").inner_text() == "Je aanmelding is bevestigd."
    assert await resident.axe() == []
    await page.screenshot(path=str(artifacts / "calendar-registration.png"), full_page=True)

    # English, a link away, on every page.
    async with page.expect_navigation():
        await page.get_by_role("link", name="English").click()
    assert await page.get_attribute("html", "lang") == "en"
    assert "You have a place" in await page.locator("main").inner_text()
    await resident.goto(f"/m/{tenant.municipality}/courses/{course['session']['id']}?lang=en")
    assert await page.get_by_role("heading", name="Sign up").count() == 1
    assert await resident.axe() == []
    await page.screenshot(path=str(artifacts / "calendar-session-english.png"), full_page=True)
