"""Residents who signed up on the public calendar, on a session's page in the console (issue 22): the library's staff
see their names and how to reach them and erase one on request; the coordinator and the other library see
pseudonyms only; every showing is a read in the access log. Dutch and English."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa

from gateway.console.messages import EN, NL
from launcher.mail_catcher import MailCatcher
from services.courses.store.residents import data_reads, registrations
from tests.console.conftest import ConsoleClient, World
from tests.e2e.calendar_support import registration_of, schedule, signed_up, someone
from tests.fixtures.platform import RunningPlatform, another_gateway


@pytest.fixture(scope="module")
async def site(platform: RunningPlatform) -> AsyncIterator[str]:
    generous = dataclasses.replace(platform.settings, calendar_sign_ups_per_minute=10_000)
    async with another_gateway(generous) as url:
        yield url


async def reads_of(platform: RunningPlatform, link: str) -> list[str]:
    d = data_reads
    async with platform.services["courses"].sessions() as session:
        statement = sa.select(d.c.purpose).where(d.c.registration_id == registration_of(link)).order_by(d.c.id)
        return list((await session.execute(statement)).scalars())


async def test_staff_see_and_erase_residents_others_see_pseudonyms(
    console: ConsoleClient, world: World, mail_catcher: MailCatcher, site: str
) -> None:
    platform, tenant = world.platform, world.tenant
    session_id = (await schedule(platform, tenant.staff_a, capacity=1))["session"]["id"]
    placed, waiting = someone("Hanna"), someone("Ivo")
    placed_link = await signed_up(site, mail_catcher, tenant.municipality, session_id, placed)
    await signed_up(site, mail_catcher, tenant.municipality, session_id, waiting)
    path = f"/console/sessions/{session_id}"

    await console.sign_in(tenant.staff_a)
    for lang, words in (("nl", NL), ("en", EN)):
        console.http.cookies.set("pn_lang", lang)
        page = (await console.get(path)).text
        assert words["session_page.resident_email"] in page and words["session_page.resident_erase"] in page
        for who in (placed, waiting):
            assert who["name"] in page and f"mailto:{who['email']}" in page and who["phone"] in page
    assert await reads_of(platform, placed_link) == ["view", "view"]  # each showing of the page

    console.http.cookies.set("pn_lang", "nl")
    erased = await console.post(f"{path}/erase_resident", {"registration_id": str(registration_of(placed_link))})
    assert erased.status_code == 303, erased.text
    after = (await console.get(erased.headers["location"])).text
    assert NL["session_done.erase_resident"] in after
    assert placed["name"] not in after and waiting["name"] in after
    # The freed place is offered to the one waiting, who has not taken it yet: said so, not "has a place".
    (row_of_waiting,) = [line for line in after.split("<tr") if waiting["name"] in line]
    assert "Plek aangeboden, nog niet aangenomen (tot " in row_of_waiting, row_of_waiting
    assert NL["session_page.resident_confirmed"] not in row_of_waiting
    r = registrations
    async with platform.services["courses"].sessions() as session:
        row = (await session.execute(sa.select(r).where(r.c.id == registration_of(placed_link)))).one()
    assert row.sealed is None and row.erased_at is not None
    # A registration of another session is not erased from this page.
    other_session = (await schedule(platform, tenant.staff_a, capacity=2))["session"]["id"]
    elsewhere = await signed_up(site, mail_catcher, tenant.municipality, other_session, someone("Jet"))
    refused = await console.post(f"{path}/erase_resident", {"registration_id": str(registration_of(elsewhere))})
    assert refused.status_code == 404
    async with platform.services["courses"].sessions() as session:
        kept = (await session.execute(sa.select(r).where(r.c.id == registration_of(elsewhere)))).one()
    assert kept.sealed is not None

    for token in (world.coordinator, tenant.staff_b):
        await console.sign_in(token)
        seen = await console.get(path)
        assert seen.status_code == 200
        assert waiting["name"] not in seen.text and waiting["email"] not in seen.text
        assert 'id="h-residents"' not in seen.text
    assert await reads_of(platform, placed_link) == ["view", "view", "erase"]
