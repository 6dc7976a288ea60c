"""Residents sign up themselves on the public calendar (issue 22), over HTTP on the real platform, with the
messages read back from a real SMTP server (the session's mail catcher): the confirmation step, a place or the
waiting list, a place offered from the waiting list and held for a set time then passed on, cancelling and
erasing through the link; the resident's data sealed and never in an event."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from launcher.mail_catcher import MailCatcher
from services.courses.commands import residents
from services.courses.domain.residents import OFFER_HELD_FOR
from services.courses.store.residents import registrations
from shared.clock import FixedClock
from shared.unit_of_work import UnitOfWork
from tests.e2e.calendar_support import body_of, link_in, message_about, received, schedule
from tests.fixtures.platform import RunningPlatform, another_gateway
from tests.fixtures.tenants import Tenant
from tests.services.courses.support import course_events, course_tenant
from tests.services.referrals.conftest import now
from tests.waiting import PATIENCE_SECONDS


@pytest.fixture(scope="module")
async def tenant(platform: RunningPlatform) -> Tenant:
    return await course_tenant(platform)


@pytest.fixture(scope="module")
async def site(platform: RunningPlatform) -> AsyncIterator[str]:
    """A gateway of this module's own: its sign-ups from this one machine do not count against the session's
    gateway's per-address limit (tests/e2e/test_calendar_abuse.py tests that limit)."""
    generous = dataclasses.replace(platform.settings, calendar_sign_ups_per_minute=10_000)
    async with another_gateway(generous) as url:
        yield url


def browse(site: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=site, timeout=PATIENCE_SECONDS)


def resident(name: str) -> dict[str, str]:
    return {"name": name, "email": f"{name.split()[0].lower()}-{uuid.uuid4().hex[:8]}@bewoner.example"}


async def sign_up(
    web: httpx.AsyncClient, tenant: Tenant, session_id: str, who: dict[str, str], **extra: str
) -> httpx.Response:
    return await web.post(f"/m/{tenant.municipality}/courses/{session_id}", data={**who, **extra})


async def confirmed_link(site: str, catcher: MailCatcher, tenant: Tenant, session_id: str, who: dict[str, str]) -> str:
    async with browse(site) as web:
        answer = await sign_up(web, tenant, session_id, who)
        assert answer.status_code == 200, answer.text
        link = link_in(await message_about(catcher, who["email"], "Bevestig"))
        confirmed = await web.post(f"{link}/confirm")
        assert confirmed.status_code == 200, confirmed.text
    return link


async def places_of(platform: RunningPlatform, tenant: Tenant, session_id: str) -> tuple[int, int]:
    async with platform.client(tenant.staff_a) as api:
        seen = (await api.get(f"/api/v1/sessions/{session_id}")).json()
    return seen["confirmed"], seen["waitlisted"]


async def registration_row(platform: RunningPlatform, link: str) -> Any:
    registration_id = uuid.UUID(hex=link.rsplit("/", 1)[1][:32])
    async with platform.services["courses"].sessions() as session:
        return (await session.execute(sa.select(registrations).where(registrations.c.id == registration_id))).one()


async def test_a_resident_signs_up_confirms_by_email_and_gets_a_place_with_the_least_data(
    platform: RunningPlatform, tenant: Tenant, mail_catcher: MailCatcher, site: str
) -> None:
    session_id = (await schedule(platform, tenant.staff_a, capacity=3))["session"]["id"]
    who = resident("Fatima El Amrani")
    async with browse(site) as web:
        answer = await sign_up(web, tenant, session_id, who, phone="06 12345678")
        assert answer.status_code == 200, answer.text
        assert "Kijk in je e-mail" in answer.text
        assert who["email"] not in answer.text  # the page does not repeat the address to whoever typed it
        assert await places_of(platform, tenant, session_id) == (0, 0)  # nothing taken before the confirmation
        message = await message_about(mail_catcher, who["email"], "Bevestig je aanmelding")
        assert "Hallo Fatima El Amrani" in body_of(message)
        link = link_in(message)
        opened = await web.get(link)
        assert opened.status_code == 200 and "nog niet bevestigd" in opened.text
        assert opened.headers["referrer-policy"] == "no-referrer"
        # Opening the link changes nothing (mail scanners open links); the button does.
        assert await places_of(platform, tenant, session_id) == (0, 0)
        confirmed = await web.post(f"{link}/confirm")
        assert confirmed.status_code == 200 and "Je hebt een plek" in confirmed.text
        again = await web.post(f"{link}/confirm")
        assert again.status_code == 409  # confirmed already: one place, not two
    assert await places_of(platform, tenant, session_id) == (1, 0)
    assert "Je hebt een plek" in str((await message_about(mail_catcher, who["email"], "Je hebt een plek"))["Subject"])

    row = await registration_row(platform, link)
    assert row.status == "confirmed" and row.sealed is not None
    for secret in ("Fatima", "Amrani", who["email"], "12345678"):
        assert secret.encode() not in row.sealed  # sealed at rest
    events = await course_events(platform, "enrolment.confirmed", tenant.municipality)
    ours = [e for e in events if e.data["session_id"] == session_id]
    assert len(ours) == 1 and ours[0].data["participant_pseudonym"].startswith("P-")
    for event in ours:
        for secret in ("Fatima", "Amrani", who["email"].split("@")[0], "12345678"):
            assert secret not in str(event.data)


async def test_the_waiting_list_gets_an_offer_held_for_a_set_time_then_the_next_in_line(
    platform: RunningPlatform, tenant: Tenant, mail_catcher: MailCatcher, site: str
) -> None:
    session_id = (await schedule(platform, tenant.staff_a, capacity=1))["session"]["id"]
    first, second, third = resident("Anna Jansen"), resident("Bram de Vries"), resident("Chen Li")
    first_link = await confirmed_link(site, mail_catcher, tenant, session_id, first)
    second_link = await confirmed_link(site, mail_catcher, tenant, session_id, second)
    third_link = await confirmed_link(site, mail_catcher, tenant, session_id, third)
    await message_about(mail_catcher, second["email"], "Je staat op de wachtlijst")
    async with browse(site) as web:
        assert "nummer 2" in (await web.get(third_link)).text
        public = (await web.get(f"/m/{tenant.municipality}/courses/{session_id}")).text
        assert "2 mensen op de wachtlijst" in public
        # The first cancels through their link: the place is offered to the second, held for them.
        cancelled = await web.post(f"{first_link}/cancel")
        assert cancelled.status_code == 200 and "afgemeld" in cancelled.text
        offer = await message_about(mail_catcher, second["email"], "Er is een plek voor je")
        assert link_in(offer) == second_link
        offered = (await web.get(second_link)).text
        assert "Er is een plek voor je" in offered and "Ik neem de plek aan" in offered
        assert "nummer 1" in (await web.get(third_link)).text
    assert await places_of(platform, tenant, session_id) == (1, 1)  # the held place is taken meanwhile

    # Nobody answers: once the time passed, the job passes the place on to the third.
    runtime = platform.services["courses"]
    later = now() + OFFER_HELD_FOR + timedelta(minutes=1)
    passed = await residents.pass_on_lapsed_offers(UnitOfWork(runtime.sessions, FixedClock(later)))
    assert passed >= 1
    await message_about(mail_catcher, second["email"], "De plek is naar de volgende")
    await message_about(mail_catcher, third["email"], "Er is een plek voor je")
    async with browse(site) as web:
        assert "niet op tijd aan" in (await web.get(second_link)).text
        assert (await web.post(f"{second_link}/accept")).status_code == 409  # too late
        accepted = await web.post(f"{third_link}/accept")
        assert accepted.status_code == 200 and "Je hebt de plek aangenomen" in accepted.text
        assert "Je hebt een plek" in accepted.text
    assert (await registration_row(platform, third_link)).offer_expires_at is None
    assert await places_of(platform, tenant, session_id) == (1, 0)
    # A job run again passes nothing on: the third accepted.
    assert await residents.pass_on_lapsed_offers(UnitOfWork(runtime.sessions, FixedClock(later))) == 0


async def test_a_resident_erases_their_data_through_the_link_and_the_place_frees(
    platform: RunningPlatform, tenant: Tenant, mail_catcher: MailCatcher, site: str
) -> None:
    session_id = (await schedule(platform, tenant.staff_a, capacity=2))["session"]["id"]
    who = resident("Dirk Bakker")
    link = await confirmed_link(site, mail_catcher, tenant, session_id, who)
    assert await places_of(platform, tenant, session_id) == (1, 0)
    async with browse(site) as web:
        erased = await web.post(f"{link}/erase")
        assert erased.status_code == 200 and "gewist" in erased.text
        page = (await web.get(link)).text
        assert "gewist" in page and "Meld me af" not in page
    row = await registration_row(platform, link)
    assert (row.sealed, row.email_digest, row.status) == (None, None, "cancelled")
    assert row.erased_at is not None
    assert await places_of(platform, tenant, session_id) == (0, 0)
    assert len(received(mail_catcher, who["email"])) == 2  # the confirmation and the place; nothing after


async def test_unconfirmed_sign_ups_lapse_and_data_goes_after_the_retention(
    platform: RunningPlatform, tenant: Tenant, mail_catcher: MailCatcher, site: str
) -> None:
    session_id = (await schedule(platform, tenant.staff_a, capacity=2))["session"]["id"]
    never, kept = resident("Eva Smit"), resident("Frank Mol")
    async with browse(site) as web:
        assert (await sign_up(web, tenant, session_id, never)).status_code == 200
    never_link = link_in(await message_about(mail_catcher, never["email"], "Bevestig"))
    kept_link = await confirmed_link(site, mail_catcher, tenant, session_id, kept)
    runtime = platform.services["courses"]
    await residents.erase_after_retention(UnitOfWork(runtime.sessions, FixedClock(now() + timedelta(hours=25))))
    lapsed = await registration_row(platform, never_link)
    assert (lapsed.status, lapsed.sealed) == ("expired", None)
    assert (await registration_row(platform, kept_link)).sealed is not None  # its session has not even started
    async with browse(site) as web:
        assert (await web.post(f"{never_link}/confirm")).status_code == 409
    # 30 days after the session ended, the confirmed resident's data goes too.
    await residents.erase_after_retention(UnitOfWork(runtime.sessions, FixedClock(now() + timedelta(days=60))))
    assert (await registration_row(platform, kept_link)).sealed is None


async def test_residents_are_told_when_the_library_cancels_the_session(
    platform: RunningPlatform, tenant: Tenant, mail_catcher: MailCatcher, site: str
) -> None:
    session_id = (await schedule(platform, tenant.staff_a, capacity=1))["session"]["id"]
    placed, waiting = resident("Gerda Kok"), resident("Hans Wit")
    placed_link = await confirmed_link(site, mail_catcher, tenant, session_id, placed)
    waiting_link = await confirmed_link(site, mail_catcher, tenant, session_id, waiting)
    async with platform.client(tenant.staff_a) as api:
        cancelled = await api.post(f"/api/v1/sessions/{session_id}/cancel", json={"reason": "docent ziek"})
        assert cancelled.status_code == 200, cancelled.text
    for who, link in ((placed, placed_link), (waiting, waiting_link)):
        message = await message_about(mail_catcher, who["email"], "Afgezegd")
        assert "De bibliotheek heeft je aanmelding" in body_of(message) and "docent" not in body_of(message)
        async with browse(site) as web:
            page = (await web.get(link)).text
        assert "De bibliotheek heeft je plek afgezegd" in page and "Meld me af</button>" not in page
