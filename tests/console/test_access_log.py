"""The library's access logs as a console page (issue 20): its staff see who read the personal data of their
participants (the library's whole log, or one referral's) and of their volunteers, without names; another
library's staff see none of it, and partners and coordinators get no page."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

from gateway.console.messages import EN, NL
from tests.console.conftest import ConsoleClient, World
from tests.console.test_browser import people  # noqa: F401  - the browser sessions fixture
from tests.console.test_participant_tools import refer
from tests.console.test_volunteers_privacy import applicant


def rows_of(html: str) -> list[str]:
    table = re.search(r'<table id="access-log".*?<tbody>(.*?)</tbody>', html, re.S)
    return re.findall(r"<tr>(.*?)</tr>", table.group(1), re.S) if table else []


async def pseudonym_of(world: World, referral_id: str) -> str:
    async with world.platform.client(world.tenant.staff_a) as api:
        return str((await api.get(f"/api/v1/referrals/{referral_id}")).json()["participant_pseudonym"])


async def test_staff_see_who_read_their_participants_and_volunteers(console: ConsoleClient, world: World) -> None:
    name = f"Gerda Inzage {uuid.uuid4().hex[:6]}"
    referral_id = await refer(world, name, accept=True)  # the library sees who it is from then on
    pseudonym = await pseudonym_of(world, referral_id)  # a read by staff through the API
    await console.sign_in(world.tenant.staff_a)
    detail = await console.get(f"/console/referrals/{referral_id}")  # and one through the console
    assert f'href="/console/access-log?referral_id={referral_id}"' in detail.text
    assert 'href="/console/access-log"' in detail.text  # in the staff's menu

    whole = await console.get("/console/access-log")
    assert whole.status_code == 200, whole.text
    assert NL["access_log.title"] in whole.text and name not in whole.text  # nobody's name on the page
    mine = [row for row in rows_of(whole.text) if pseudonym in row]
    assert len(mine) >= 2 and all(f'href="/console/referrals/{referral_id}"' in row for row in mine)
    assert all(NL["access_read.view"] in row and NL["role.staff"] in row for row in mine)
    assert all(f"<td>Bibliotheek {world.tenant.library_a}</td>" in row for row in mine)  # by name, not slug

    one = await console.get(f"/console/access-log?referral_id={referral_id}")
    rows = rows_of(one.text)
    assert NL["access_log.of_referral"] in one.text and len(rows) == len(mine)
    assert all(pseudonym in row for row in rows)

    person = await applicant(world, f"Vera Inzage{uuid.uuid4().hex[:6]}")
    await console.get("/console/volunteers")  # the register shows names: a read of each person listed
    volunteers = await console.get("/console/access-log?of=volunteers")
    assert volunteers.status_code == 200, volunteers.text
    theirs = [row for row in rows_of(volunteers.text) if f"/console/volunteers/{person['id']}/access-log" in row]
    assert theirs and NL["volunteer_read.list"] in theirs[0]
    assert person["person"]["name"] not in volunteers.text

    for bad in ("?of=everyone", "?referral_id=not-an-id", "?referral_id=not-an-id&cursor=%25"):
        refused = await console.get(f"/console/access-log{bad}")
        assert refused.status_code == 422, (bad, refused.status_code)
        assert NL["problem.invalid-input"] in refused.text and 'href="/console/referrals/not-an-id"' not in refused.text
    for typo in ("?cursor=%25%25%25", "?of=volunteers&cursor=%25"):  # a cursor not of the API's: the first page
        assert (await console.get(f"/console/access-log{typo}")).status_code == 200

    await console.post("/console/language", {"lang": "en", "next": "/console/access-log"})
    english = await console.get("/console/access-log")
    assert EN["access_log.explained"] in english.text and EN["access_read.view"] in english.text


async def test_another_library_sees_none_of_it_and_others_get_no_page(console: ConsoleClient, world: World) -> None:
    referral_id = await refer(world, f"Hidde Apart {uuid.uuid4().hex[:6]}")
    pseudonym = await pseudonym_of(world, referral_id)
    await console.sign_in(world.tenant.staff_b)
    theirs = await console.get("/console/access-log")
    assert theirs.status_code == 200 and pseudonym not in theirs.text
    asked = await console.get(f"/console/access-log?referral_id={referral_id}")
    assert asked.status_code == 404 and rows_of(asked.text) == [] and NL["problem.not-found"] in asked.text
    for token in (world.tenant.partner_a_token, world.coordinator):
        await console.sign_in(token)
        for path in ("/console/access-log", f"/console/access-log?referral_id={referral_id}", "?of=volunteers"):
            refused = await console.get(path if path.startswith("/") else f"/console/access-log{path}")
            assert refused.status_code == 403 and pseudonym not in refused.text


async def test_in_chromium_both_logs_are_free_of_axe_violations(
    people: Any,  # noqa: F811  - the fixture imported above
    world: World,
    artifacts: Path,
) -> None:
    referral_id = await refer(world, f"Axel Log {uuid.uuid4().hex[:6]}", accept=True)
    await pseudonym_of(world, referral_id)
    staff = await people(world.tenant.staff_a, bypass_csp=True)
    await staff.goto("/console/inbox")
    await staff.page.get_by_role("link", name=NL["nav.access_log"], exact=True).click()
    await staff.page.get_by_role("heading", name=NL["access_log.title"], level=1).wait_for()
    await staff.page.screenshot(path=str(artifacts / "staff-access-log.png"), full_page=True)
    assert await staff.axe() == []
    await staff.page.get_by_role("link", name=NL["access_log.of_volunteers"]).click()
    await staff.page.get_by_role("heading", name=NL["access_log.of_volunteers"], level=2).wait_for()
    assert await staff.axe() == []
    await staff.goto(f"/console/referrals/{referral_id}")
    await staff.page.get_by_role("link", name=NL["access_log.link"]).click()
    await staff.page.get_by_role("heading", name=NL["access_log.of_referral"], level=2).wait_for()
    assert await staff.page.locator("#access-log tbody tr").count() >= 2
    assert await staff.axe() == []
