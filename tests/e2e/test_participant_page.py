"""The participant's own page over real HTTP: a personal code from the library's staff opens it, in plain Dutch
(checked at B1 with the Flesch–Douma score), showing their referral and nothing else; it works for as long as their
data is held (after the referral closed too) and then says it was erased, wrong codes lock a client out, and a
change request reaches the staff. Then the same page in a real browser (headless Chromium through Playwright):
axe-core finds no accessibility violations, and it reads aloud.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from services.referrals.commands import deadlines
from shared.clock import LOCAL_TIME
from shared.tenancy import Role
from tests.e2e.participant_support import (
    EASY_ENOUGH,
    INTAKE_AT,
    LIBRARY_PHONE,
    flesch_douma,
    issue_code,
    library_name_known,
    participant,
    planned_referral,
    visible_text,
)
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant, register_tenant
from tests.referral_bodies import referral_body
from tests.services.referrals.conftest import work_at
from tests.waiting import eventually

CHROMIUM = Path("/usr/bin/chromium")
HAS_CHROMIUM = CHROMIUM.exists()
AXE = Path(__file__).parent / "assets" / "axe.min.js"


# --- a referral with its intake planned, and its code ----------------------------------------------------


@pytest.fixture(scope="module")
async def tenant(platform: RunningPlatform) -> Tenant:
    """One municipality for these tests; each test has referrals of its own in it."""
    return await register_tenant(platform)


@pytest.fixture
async def planned(platform: RunningPlatform, tenant: Tenant) -> tuple[dict[str, Any], dict[str, Any]]:
    referral = await planned_referral(platform, tenant)
    await library_name_known(platform, tenant.library_a)
    return referral, await issue_code(platform, tenant, referral["id"])


async def test_a_code_opens_the_participants_page_in_plain_dutch_without_their_name(
    platform: RunningPlatform, tenant: Tenant, planned: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    referral, issued = planned
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", issued["code"]) and issued["path"] == f"/p/{issued['code']}"

    async with participant(platform) as browser:
        linked = await browser.get(issued["path"])
        typed = await browser.post("/p", data={"code": issued["code"].replace("-", " ").lower()})

    assert linked.status_code == 200, linked.text
    assert linked.headers["content-type"].startswith("text/html")
    assert linked.headers["cache-control"] == "no-store" and linked.headers["referrer-policy"] == "no-referrer"
    assert "default-src 'none'" in linked.headers["content-security-policy"]
    page = linked.text
    assert '<html lang="nl">' in page and "<svg" in page and 'aria-hidden="true"' in page
    text = " ".join(visible_text(page))
    assert f"Bibliotheek {tenant.library_a}" in text
    assert "Centrale bibliotheek, Marktplein 1" in text and "Sanne de Vries" in text and LIBRARY_PHONE in text
    assert f"Op {INTAKE_AT.day} " not in text and f" {INTAKE_AT.day} " in text and "uur" in text
    # Nothing that says who the participant is, not even to the participant (the code may be found by others).
    for personal in ("Fatima", "Amrani", "0612345678", "1984", referral["participant_pseudonym"]):
        assert personal not in page
    assert typed.status_code == 200 and "Sanne de Vries" in typed.text  # typed in any case, with spaces

    score = flesch_douma(visible_text(page))
    assert score >= EASY_ENOUGH, f"Flesch–Douma {score:.1f} on {visible_text(page)}"
    async with participant(platform) as browser:
        for other in (await browser.get("/p"), await browser.get("/p/AAAA-AAAA")):
            assert flesch_douma(visible_text(other.text)) >= EASY_ENOUGH


async def test_the_page_shows_its_own_referral_and_no_other(
    platform: RunningPlatform, tenant: Tenant, planned: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    _, issued = planned
    other = await planned_referral(platform, tenant, place="Wijkcentrum De Horst, zaal 3", name="Jan Jansen")
    other_code = (await issue_code(platform, tenant, other["id"]))["code"]

    async with participant(platform) as browser:
        mine = (await browser.get(issued["path"])).text
        theirs = (await browser.get(f"/p/{other_code}")).text

    assert "Centrale bibliotheek, Marktplein 1" in mine and "De Horst" not in mine
    assert "De Horst" in theirs and "Marktplein" not in theirs
    assert other["id"] not in mine and "Jan Jansen" not in theirs


async def test_a_change_request_reaches_the_librarys_staff_once(
    platform: RunningPlatform, tenant: Tenant, planned: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    referral, issued = planned
    async with participant(platform) as browser:
        asked = await browser.post("/p/change", data={"code": issued["code"], "kind": "reschedule"})
        again = await browser.post("/p/change", data={"code": issued["code"], "kind": "reschedule"})
        page = (await browser.get(issued["path"])).text

    assert asked.status_code == 200 and "Dank u wel" in asked.text and "genoteerd" in asked.text
    assert again.status_code == 200 and "Dat wisten we al" in again.text
    assert "U vroeg al om een andere dag" in page
    assert 'value="reschedule"' not in page and 'value="cancel"' not in page  # no second button to press
    async with platform.client(tenant.staff_a) as staff, platform.client(tenant.staff_b) as other_staff:
        mine = {"status": "open", "referral_id": referral["id"]}
        waiting = (await staff.get("/api/v1/referrals/change-requests", params=mine)).json()["items"]
        assert (await other_staff.get("/api/v1/referrals/change-requests")).json()["items"] == []
        (request,) = waiting
        assert (request["referral_id"], request["kind"], request["participant_pseudonym"]) == (
            referral["id"],
            "reschedule",
            referral["participant_pseudonym"],
        )
        assert (await other_staff.post(f"/api/v1/referrals/change-requests/{request['id']}/handle")).status_code == 404
        handled = await staff.post(
            f"/api/v1/referrals/change-requests/{request['id']}/handle", headers={"If-Match": '"1"'}
        )
        assert handled.status_code == 200, handled.text
        assert (handled.json()["status"], handled.json()["version"]) == ("handled", 2)
        assert (await staff.post(f"/api/v1/referrals/change-requests/{request['id']}/handle")).status_code == 409
        history = (await staff.get(f"/api/v1/referrals/{referral['id']}")).json()["history"]
    assert [h["details"] for h in history if h["step"] == "participant_asked_change"] == [{"kind": "reschedule"}]


async def test_a_new_code_replaces_the_old_and_a_code_keeps_working_after_close_until_the_data_is_erased(
    platform: RunningPlatform, tenant: Tenant, planned: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    """What a participant expects: for as long as the library holds their data they can see what is held, who sees
    it and until when, and ask for their rights; once the referral is closed there is no appointment to change; once
    the data is erased (on request or by retention) the page says so, and when."""
    referral, issued = planned
    replaced = await issue_code(platform, tenant, referral["id"])
    async with participant(platform) as browser:
        assert (await browser.get(issued["path"])).status_code == 404  # the old code opens nothing any more
        assert (await browser.get(replaced["path"])).status_code == 200
    async with platform.client(tenant.partner_a_token) as partner:
        withdrawn = await partner.post(
            f"/api/v1/referrals/{referral['id']}/withdraw", json={"reason": "no_longer_needed"}
        )
        assert withdrawn.status_code == 200, withdrawn.text

    async with participant(platform) as browser:
        closed = await browser.get(replaced["path"])
        change = await browser.post("/p/change", data={"code": replaced["code"], "kind": "cancel"})
        export = await browser.post("/p/change", data={"code": replaced["code"], "kind": "export"})
        unknown = await browser.get("/p/AAAA-AAAA")

    assert closed.status_code == 200, closed.text
    blocks = visible_text(closed.text)
    assert "Uw aanvraag is gestopt." in blocks and "Wat weten wij van u?" in blocks
    assert f"Hebt u een vraag? Bel ons dan: {LIBRARY_PHONE}." in blocks
    assert any(b.startswith("Op ") and b.endswith("wissen wij uw gegevens.") for b in blocks)  # until when
    for kind in ("export", "erasure", "revocation"):
        assert f'value="{kind}"' in closed.text
    assert 'value="cancel"' not in closed.text and 'value="reschedule"' not in closed.text
    assert "Sanne de Vries" not in closed.text and "Marktplein" not in closed.text  # no appointment any more
    assert flesch_douma(blocks) >= EASY_ENOUGH, blocks
    assert change.status_code == 409 and "Uw afspraak is al voorbij" in change.text
    assert flesch_douma(visible_text(change.text)) >= EASY_ENOUGH
    assert export.status_code == 200 and "U wilt uw gegevens zien." in export.text
    assert unknown.status_code == 404 and "Deze code kennen we niet" in unknown.text
    async with platform.client(tenant.staff_a) as staff:
        (request,) = (await staff.get("/api/v1/referrals/change-requests", params={"status": "open"})).json()["items"]
        assert (request["referral_id"], request["kind"]) == (referral["id"], "export")
        refused = await staff.post(f"/api/v1/referrals/{referral['id']}/participant-code")
        assert refused.status_code == 409  # withdrawn (perhaps before it was ever accepted): no new code
        erased = await staff.post("/api/v1/referrals/person/erase", json={"referral_id": referral["id"]})
        assert erased.status_code == 200, erased.text

    async with participant(platform) as browser:
        gone = await browser.get(replaced["path"])
        asked = await browser.post("/p/change", data={"code": replaced["code"], "kind": "export"})
    assert gone.status_code == 410 and "Uw gegevens zijn gewist" in gone.text
    today = datetime.now(LOCAL_TIME).date()
    assert f"Dat deden wij op {today.day} " in gone.text and "Bel dan de bibliotheek." in gone.text
    assert asked.status_code == 410 and "Uw gegevens zijn gewist" in asked.text
    assert flesch_douma(visible_text(gone.text)) >= EASY_ENOUGH


async def test_a_code_of_a_completed_referral_works_until_retention_erases_the_data(
    platform: RunningPlatform, tenant: Tenant, planned: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    referral, _ = planned
    async with platform.client(tenant.staff_a) as staff:
        past = {
            "intake_at": (datetime.now(UTC) - timedelta(days=2)).isoformat(),
            "place": "Centrale bibliotheek",
            "contact_person": {"name": "Sanne de Vries"},
        }
        steps = (("plan-intake", past), ("intake-held", None), ("complete", {"outcome": {"course_finished": True}}))
        for step, body in steps:
            done = await staff.post(f"/api/v1/referrals/{referral['id']}/{step}", json=body)
            assert done.status_code == 200, done.text
    issued = await issue_code(platform, tenant, referral["id"])  # completed: a code can still be given
    async with participant(platform) as browser:
        page = await browser.get(issued["path"])
    assert page.status_code == 200 and "U bent klaar. Fijn dat u meedeed!" in visible_text(page.text)

    work, _ = work_at(platform, datetime.now(UTC) + timedelta(days=400))  # past the library's 365 days
    assert await deadlines.anonymise_after_retention(work, library=tenant.library_a) >= 1
    async with participant(platform) as browser:
        gone = await browser.get(issued["path"])
    assert gone.status_code == 410 and "Uw gegevens zijn gewist" in gone.text


async def test_only_the_librarys_staff_give_a_code_once_the_referral_is_accepted(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    async with platform.client(tenant.partner_a_token) as partner:
        submitted = await partner.post("/api/v1/referrals", json=referral_body(tenant.library_a, tenant.partner_a))
    referral_id = submitted.json()["id"]
    coordinator = platform.token(Role.COORDINATOR, municipality=tenant.municipality)
    path = f"/api/v1/referrals/{referral_id}/participant-code"
    for token, status in (
        (tenant.partner_a_token, 403),
        (coordinator, 403),
        (tenant.operator, 403),
        (tenant.staff_b, 404),  # another library's referral: as if it did not exist
        (tenant.staff_a, 409),  # not accepted yet
    ):
        async with platform.client(token) as api:
            assert (await api.post(path)).status_code == status, token
    async with platform.client(tenant.staff_a) as staff:
        assert (await staff.post(f"/api/v1/referrals/{referral_id}/accept")).status_code == 200
        card = await staff.post(f"{path}/card", json={"contact_phone": LIBRARY_PHONE})
        assert card.status_code == 201 and card.headers["content-type"].startswith("text/html")
        code = re.search(r"[A-Z0-9]{4}-[A-Z0-9]{4}", card.text)
        assert code is not None and f"{platform.base_url}/p" in card.text and "Fatima" not in card.text
        async with participant(platform) as browser:
            waiting = await browser.get(f"/p/{code.group()}")
        assert waiting.status_code == 200 and "We bellen u snel" in waiting.text  # accepted, no intake yet
        revoked = await staff.delete(path)
        assert revoked.status_code == 200 and revoked.json()["revoked"] is True
    async with participant(platform) as browser:
        assert (await browser.get(f"/p/{code.group()}")).status_code == 404


async def test_wrong_codes_lock_the_client_out_and_lookups_are_rate_limited(
    platform: RunningPlatform, tenant: Tenant, planned: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    _, issued = planned
    async with participant(platform) as guesser, participant(platform) as someone_else:
        wrong = [
            await guesser.get(f"/p/{guess}") for guess in ("AAAA-AAAA", "CCCC-CCCC", "DDDD", "x" * 41, "EEEE-EEEE")
        ]
        assert [r.status_code for r in wrong] == [404] * 5
        locked = await guesser.get(issued["path"])  # even the right code, once locked out
        typed = await guesser.post("/p", data={"code": issued["code"]})
        assert locked.status_code == 429 and typed.status_code == 429
        assert 60 <= int(locked.headers["retry-after"]) <= 15 * 60 and "Even wachten" in locked.text
        assert (await someone_else.get(issued["path"])).status_code == 200  # per client

        statuses = [(await someone_else.get(issued["path"])).status_code for _ in range(20)]
    assert statuses[:19] == [200] * 19 and statuses[19] == 429  # 20 lookups a minute


async def test_the_code_stays_out_of_the_access_log_and_the_trace(
    platform: RunningPlatform,
    planned: tuple[dict[str, Any], dict[str, Any]],
    spans: InMemorySpanExporter,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _, issued = planned
    with caplog.at_level(logging.INFO, logger="gateway.access"):
        async with participant(platform) as browser:
            response = await browser.get(issued["path"])
    assert response.status_code == 200
    request_id = int(response.headers["x-request-id"], 16)
    lines = [r.getMessage() for r in caplog.records if r.name == "gateway.access"]
    assert "GET /p/{code} 200" in lines
    assert not any(issued["code"] in line for line in lines)

    def trace() -> list[Any]:
        return [s for s in spans.get_finished_spans() if s.context.trace_id == request_id]

    async def server_span_ended() -> bool:
        return any(span.name.startswith("GET /p/{code") for span in trace())  # the server span, by its route

    await eventually(server_span_ended, what=f"the server span among {[s.name for s in trace()]}")
    in_trace = trace()
    for span in in_trace:
        values = " ".join(str(v) for v in (span.attributes or {}).values())
        assert issued["code"] not in values
    # Not yet: the ASGI instrumentation names its own "http send"/"http receive" spans by the raw path before
    # any route runs, so those names still hold the code (gateway/app.py's OpenTelemetryConfig could name them
    # by method only, with `scope_span_details_extractor`).


# --- in a real browser ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def chromium() -> AsyncIterator[Any]:
    if not HAS_CHROMIUM:
        pytest.skip("no Chromium at /usr/bin/chromium (CI installs it with apt): the browser checks did not run")
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        pytest.skip("Playwright for Python is not installed (a dev dependency): the browser checks did not run")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield browser
        finally:
            await browser.close()


async def axe_violations(page: Any) -> list[dict[str, Any]]:
    await page.add_script_tag(content=AXE.read_text())
    result = await page.evaluate(
        "async () => await axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']}})"
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["html"][:120] for n in v["nodes"]]}
        for v in result["violations"]
    ]


async def test_axe_finds_no_accessibility_violations_on_the_pages(
    platform: RunningPlatform, planned: tuple[dict[str, Any], dict[str, Any]], chromium: Any
) -> None:
    _, issued = planned
    # The page's CSP allows its own script only; axe is added by the test, so this context does not enforce it.
    context = await chromium.new_context(bypass_csp=True)
    try:
        page = await context.new_page()
        for path, status in ((issued["path"], 200), ("/p", 200), ("/p/AAAA-AAAA", 404)):
            response = await page.goto(platform.base_url + path)
            assert response is not None and response.status == status
            assert await axe_violations(page) == [], path
    finally:
        await context.close()


async def test_the_page_reads_aloud_in_dutch_with_large_text_under_its_own_csp(
    platform: RunningPlatform, planned: tuple[dict[str, Any], dict[str, Any]], chromium: Any
) -> None:
    _, issued = planned
    context = await chromium.new_context()
    try:
        page = await context.new_page()
        problems: list[str] = []
        page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: problems.append(str(error)))
        # What the browser would say, recorded instead of spoken (a headless browser has no voices).
        await page.add_init_script(
            "window.__spoken = [];"
            "window.speechSynthesis.speak = (u) => window.__spoken.push({text: u.text, lang: u.lang});"
        )
        await page.goto(platform.base_url + "/p")
        await page.fill("#code", issued["code"])
        await page.click("button[type=submit]")
        await page.wait_for_selector("text=Uw afspraak")
        button = page.locator("#voorlezen")
        assert await button.is_visible()  # the page's own script ran, under its CSP
        await button.click()
        spoken = await page.evaluate("window.__spoken")
        font_size = await page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    finally:
        await context.close()
    assert problems == []
    (said,) = spoken
    assert said["lang"] == "nl-NL" and "Sanne de Vries" in said["text"] and "Wanneer?" in said["text"]
    assert font_size >= 20  # large text: 125% of the browser's default


async def test_an_intake_that_was_held_is_no_appointment_to_move_or_cancel(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    """The page showed it as the coming appointment with 'Ik wil een andere dag' after it had taken place, and the
    request was recorded: staff found an 'another day' request on a referral already enrolled."""
    async with platform.client(tenant.partner_a_token) as partner, platform.client(tenant.staff_a) as staff:
        submitted = await partner.post("/api/v1/referrals", json=referral_body(tenant.library_a, tenant.partner_a))
        referral_id = submitted.json()["id"]
        an_hour_ago = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
        intake = {"intake_at": an_hour_ago, "place": "Taalhuis", "contact_person": {"name": "Els"}}
        for step, body in (("accept", None), ("plan-intake", intake), ("intake-held", None)):
            done = await staff.post(f"/api/v1/referrals/{referral_id}/{step}", json=body)
            assert done.status_code == 200, done.text
    await library_name_known(platform, tenant.library_a)
    issued = await issue_code(platform, tenant, referral_id)
    async with participant(platform) as browser:
        page = (await browser.get(issued["path"])).text
        asked = await browser.post("/p/change", data={"code": issued["code"], "kind": "reschedule"})
    shown = visible_text(page)
    assert "Kunt u niet?" not in shown and 'value="reschedule"' not in page and 'value="cancel"' not in page
    assert "U had uw afspraak op" in " ".join(shown) and "We bellen u snel voor een afspraak." not in shown
    assert "genoteerd" not in asked.text, asked.text
    async with platform.client(tenant.staff_a) as staff:
        mine = {"status": "open", "referral_id": referral_id}
        assert (await staff.get("/api/v1/referrals/change-requests", params=mine)).json()["items"] == []
