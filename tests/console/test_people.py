"""The console's page for a participant's rights as one person (issue 14): staff download everything the library
holds about someone across their referrals and erase it, found by a referral or by name and birth date typed in
a form; in Dutch and English; nobody else gets the page."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest

from gateway.console import paging
from gateway.console.messages import EN, NL
from tests.console.conftest import ConsoleClient, World
from tests.console.paging_support import every_once, walk
from tests.console.seed import ok, referral
from tests.console.test_browser import people  # noqa: F401  - the browser sessions fixture
from tests.fixtures.tenants import register_tenant

PAGE = 2
REQUEST = re.compile(r'<tr id="request-([0-9a-f-]{36})"')


async def twice_referred(world: World) -> tuple[dict[str, str], list[str]]:
    person = {"name": f"Joke Smit-{uuid.uuid4().hex[:6]}", "birth_date": "1971-02-03", "phone": "0611112222"}
    made = []
    async with world.platform.client(world.tenant.partner_a_token) as partner:
        for _ in range(2):
            body = referral(world.tenant.library_a, world.tenant.partner_a, person["name"], participant=person)
            response = await partner.post("/api/v1/referrals", json=body)
            assert response.status_code == 201, response.text
            made.append(str(response.json()["id"]))
    return person, made


async def test_staff_download_and_erase_a_person_across_their_referrals(console: ConsoleClient, world: World) -> None:
    person, made = await twice_referred(world)
    await console.sign_in(world.tenant.staff_a)

    detail = await console.get(f"/console/referrals/{made[0]}")
    assert NL["people.rights_of_person"] in detail.text and f"/console/people?referral_id={made[0]}" in detail.text
    form = await console.get("/console/people")
    assert form.status_code == 200 and NL["people.title"] in form.text

    lookup: dict[str, Any] = {"name": person["name"], "birth_date": person["birth_date"]}
    download = await console.post("/console/people/export", lookup)
    assert download.status_code == 200, download.text
    assert download.headers["content-disposition"].startswith("attachment")
    assert person["name"] not in download.headers["content-disposition"]
    exported = json.loads(download.content)
    assert sorted(r["id"] for r in exported["referrals"]) == sorted(made)

    await console.get("/console/people")
    unconfirmed = await console.post("/console/people/erase", lookup)
    assert unconfirmed.status_code == 422 and NL["problem.invalid-input"] in unconfirmed.text
    await console.get(f"/console/people?referral_id={made[1]}")
    erased = await console.post("/console/people/erase", {"referral_id": made[1], "confirm": "yes"})
    assert erased.status_code == 303
    after = await console.get(erased.headers["location"])
    assert NL["done.person_erased"] in after.text
    assert person["name"] not in after.text and NL["history.anonymise"] in after.text
    other = await console.get(f"/console/referrals/{made[0]}")
    assert person["name"] not in other.text and NL["history.anonymise"] in other.text


async def test_the_page_speaks_english_and_a_stranger_is_not_found(console: ConsoleClient, world: World) -> None:
    await console.sign_in(world.tenant.staff_a)
    await console.get("/console/people")
    missing = await console.post("/console/people/export", {"name": "Niemand Bekend", "birth_date": "1950-01-01"})
    assert missing.status_code == 404 and NL["problem.not-found"] in missing.text
    # What was typed is shown back (it came back empty), and the open requests stay on the page (they went).
    assert 'value="Niemand Bekend"' in missing.text and 'value="1950-01-01"' in missing.text
    assert 'id="h-requests"' in missing.text
    await console.post("/console/language", {"lang": "en", "next": "/console/people"})
    page = await console.get("/console/people")
    assert EN["people.explained"] in page.text, page.text
    assert EN["people.export"] in page.text


async def test_partners_and_coordinators_get_no_page_to_export_or_erase(console: ConsoleClient, world: World) -> None:
    person, made = await twice_referred(world)
    for token in (world.tenant.partner_a_token, world.coordinator):
        await console.sign_in(token)
        assert (await console.get("/console/people")).status_code == 403
        refused = await console.post("/console/people/erase", {"referral_id": made[0], "confirm": "yes"})
        assert refused.status_code == 403
    async with world.platform.client(world.tenant.partner_a_token) as referrer:  # it sees the person at every step
        still = await referrer.get(f"/api/v1/referrals/{made[0]}")
    assert still.json()["participant"]["name"] == person["name"]


async def test_staff_see_their_librarys_open_requests_from_participants_pages_and_mark_them_handled(
    console: ConsoleClient, world: World
) -> None:
    person, made = await twice_referred(world)
    async with world.platform.client(world.tenant.staff_a) as staff:
        assert (await staff.post(f"/api/v1/referrals/{made[0]}/accept")).status_code == 200
        issued = await staff.post(f"/api/v1/referrals/{made[0]}/participant-code")
    code = issued.json()["code"]
    async with world.platform.client() as participant:
        asked = await participant.post("/p/change", data={"code": code, "kind": "erasure"})
    assert asked.status_code == 200, asked.text

    await console.sign_in(world.tenant.staff_a)
    page = await console.get("/console/people")
    assert NL["people.requests"] in page.text and NL["request_kind.erasure"] in page.text
    assert f"/console/people?referral_id={made[0]}" in page.text and person["name"] not in page.text
    row = re.search(
        r'action="(/console/people/requests/[0-9a-f-]+/handle)".*?name="expected_version" value="(\d+)"',
        page.text,
        re.S,
    )
    assert row is not None
    stale = await console.post(row.group(1), {"expected_version": str(int(row.group(2)) + 1)})
    assert stale.status_code == 409
    handled = await console.post(row.group(1), {"expected_version": row.group(2)})
    assert handled.status_code == 303
    after = await console.get(handled.headers["location"])
    assert NL["done.request_handled"] in after.text and row.group(1) not in after.text


async def test_staff_ask_the_other_libraries_for_a_person_who_asked_at_the_desk(
    console: ConsoleClient, world: World
) -> None:
    person, _ = await twice_referred(world)
    async with world.platform.client(world.tenant.partner_a_token) as partner:
        body = referral(world.tenant.library_b, world.tenant.partner_a, person["name"], participant=person)
        at_b = (await partner.post("/api/v1/referrals", json=body)).json()["id"]
    await console.sign_in(world.tenant.staff_a)
    await console.get("/console/people")
    lookup = {"name": person["name"], "birth_date": person["birth_date"], "right": "erasure"}
    asked = await console.post("/console/people/ask-other-libraries", lookup)
    assert asked.status_code == 200 and NL["done.others_asked"] in asked.text
    assert world.tenant.library_b not in asked.text  # which libraries is theirs to tell the person
    async with world.platform.client(world.tenant.staff_b) as staff_b:
        waiting = (await staff_b.get("/api/v1/referrals/change-requests", params={"status": "open"})).json()
    assert (at_b, "erasure") in [(r["referral_id"], r["kind"]) for r in waiting["items"]]


async def test_a_mistake_in_the_form_is_said_on_the_page_and_changes_nothing(
    console: ConsoleClient, world: World
) -> None:
    await console.sign_in(world.tenant.staff_a)
    await console.get("/console/people")
    for path, form in (
        ("/console/people/export", {"name": "x" * 300, "birth_date": "1971-02-03"}),
        ("/console/people/export", {"name": "Joke Smit", "birth_date": "3 februari"}),
        ("/console/people/erase", {"referral_id": "not-an-id", "confirm": "yes"}),
        ("/console/people/ask-other-libraries", {"name": "Joke Smit", "birth_date": "1971-02-03", "right": "all"}),
    ):
        response = await console.post(path, form)
        assert response.status_code == 422, (path, response.text)
        assert NL["problem.invalid-input"] in response.text


async def test_staff_page_through_every_open_request(
    console: ConsoleClient,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
    people: Any,  # noqa: F811  - the fixture imported above
) -> None:
    """More open requests than a page holds (paging.PAGE made small): each once over the pages by the API's cursor
    (the chosen referral kept in the links); a cursor not of ours shows the first page; a later page passes axe in
    Chromium (issue 20)."""
    monkeypatch.setattr(paging, "PAGE", PAGE)
    tenant = await register_tenant(world.platform)
    asked: set[str] = set()
    async with (
        world.platform.client(tenant.partner_a_token) as partner,
        world.platform.client(tenant.staff_a) as staff,
        world.platform.client() as participant,
    ):
        for n in range(2 * PAGE + 1):
            made = await ok(
                await partner.post("/api/v1/referrals", json=referral(tenant.library_a, tenant.partner_a, f"Vraag {n}"))
            )
            await ok(await staff.post(f"/api/v1/referrals/{made['id']}/accept"))
            code = (await ok(await staff.post(f"/api/v1/referrals/{made['id']}/participant-code")))["code"]
            change = await participant.post("/p/change", data={"code": code, "kind": "export"})
            assert change.status_code == 200, change.text
            asked.add(str(made["id"]))
    await console.sign_in(tenant.staff_a)

    def waiting(page: str) -> list[str]:
        return REQUEST.findall(page)

    def referral_of(page: str) -> list[str]:
        return re.findall(r'<a href="/console/referrals/([0-9a-f-]{36})">', page)

    chosen = sorted(asked)[0]
    pages, visited = await walk(console, f"/console/people?referral_id={chosen}", "next-requests", waiting)
    assert [len(page) for page in pages] == [2, 2, 1] and len(every_once(pages)) == 2 * PAGE + 1
    assert all(f"referral_id={chosen}" in address for address in visited)
    shown = [await console.get(address) for address in visited]
    assert {r for page in shown for r in referral_of(page.text)} == asked  # each referral's request
    typo = await console.get("/console/people?cursor=not-a-cursor")  # not ours: the first page
    assert typo.status_code == 200 and waiting(typo.text) == pages[0]

    browser = await people(tenant.staff_a, bypass_csp=True)
    await browser.goto(visited[1])
    await browser.page.get_by_role("link", name=NL["inbox.first_page"]).wait_for()
    assert await browser.page.get_by_role("navigation", name=NL["people.request_pages"]).count() == 1
    assert await browser.axe() == []
