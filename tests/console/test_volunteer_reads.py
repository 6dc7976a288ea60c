"""The console's page of who read a volunteer's personal data (issue 14): the library's staff see each read
(when, who, why) without the data; nobody else gets the page."""

from __future__ import annotations

import uuid

from gateway.console.messages import EN, NL
from tests.console.conftest import ConsoleClient, World
from tests.console.test_volunteers_privacy import applicant


async def test_staff_see_who_read_a_volunteers_personal_data(console: ConsoleClient, world: World) -> None:
    person = await applicant(world, f"Lotte Dekker{uuid.uuid4().hex[:6]}")
    await console.sign_in(world.tenant.staff_a)
    listed = await console.get("/console/volunteers")  # shows the name: a read, in the log
    assert f"/console/volunteers/{person['id']}/access-log" in listed.text
    page = await console.get(f"/console/volunteers/{person['id']}/access-log")
    assert page.status_code == 200, page.text
    assert NL["volunteer_reads.title"] in page.text
    assert NL["volunteer_read.list"] in page.text and NL["volunteer_read.change"] in page.text
    assert person["person"]["name"] not in page.text and person["person"]["email"] not in page.text
    await console.post("/console/language", {"lang": "en", "next": "/console/volunteers"})
    english = await console.get(f"/console/volunteers/{person['id']}/access-log")
    assert EN["volunteer_reads.title"] in english.text


async def test_others_get_no_page_of_reads(console: ConsoleClient, world: World) -> None:
    person = await applicant(world, f"Bram Kok{uuid.uuid4().hex[:6]}")
    await console.sign_in(world.coordinator)
    assert (await console.get(f"/console/volunteers/{person['id']}/access-log")).status_code == 403
    await console.sign_in(world.tenant.staff_b)
    assert (await console.get(f"/console/volunteers/{person['id']}/access-log")).status_code == 404
