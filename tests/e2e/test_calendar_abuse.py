"""Floods and bad input on the public calendar's sign-up (issue 22), as an attacker without any credential: a flood
from one address is held back at the gateway, one e-mail address cannot be signed up without end, a link cannot
be guessed, and whatever is typed gets a clear 4xx page, never a 5xx, and changes nothing."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
import sqlalchemy as sa

from launcher.mail_catcher import MailCatcher
from services.courses.domain.residents import SIGN_UPS_PER_ADDRESS
from services.courses.store.residents import data_reads, registrations
from tests.e2e.calendar_support import link_in, message_about, received, schedule
from tests.fixtures.platform import RunningPlatform, another_gateway
from tests.fixtures.tenants import Tenant
from tests.services.courses.support import course_tenant
from tests.waiting import PATIENCE_SECONDS, eventually


@pytest.fixture(scope="module")
async def tenant(platform: RunningPlatform) -> Tenant:
    return await course_tenant(platform)


@pytest.fixture(scope="module")
async def session_id(platform: RunningPlatform, tenant: Tenant) -> str:
    return str((await schedule(platform, tenant.staff_a, capacity=3))["session"]["id"])


@pytest.fixture
async def strict_site(platform: RunningPlatform) -> AsyncIterator[str]:
    """A gateway that takes 3 sign-ups a minute from one address (its own counter)."""
    async with another_gateway(dataclasses.replace(platform.settings, calendar_sign_ups_per_minute=3)) as url:
        yield url


@pytest.fixture(scope="module")
async def site(platform: RunningPlatform) -> AsyncIterator[str]:
    async with another_gateway(dataclasses.replace(platform.settings, calendar_sign_ups_per_minute=10_000)) as url:
        yield url


def address() -> str:
    return f"bewoner-{uuid.uuid4().hex[:10]}@bewoner.example"


async def registrations_of(platform: RunningPlatform, session_id: str) -> int:
    async with platform.services["courses"].sessions() as session:
        statement = sa.select(sa.func.count()).where(registrations.c.session_id == uuid.UUID(session_id))
        return int((await session.execute(statement)).scalar_one())


async def test_a_flood_from_one_address_is_held_back_and_takes_nothing(
    platform: RunningPlatform, tenant: Tenant, session_id: str, strict_site: str, mail_catcher: MailCatcher
) -> None:
    before = await registrations_of(platform, session_id)
    flooded = [address() for _ in range(8)]
    async with httpx.AsyncClient(base_url=strict_site, timeout=PATIENCE_SECONDS) as web:
        answers = [
            await web.post(f"/m/{tenant.municipality}/courses/{session_id}", data={"name": "Bot", "email": email})
            for email in flooded
        ]
    assert [a.status_code for a in answers] == [200, 200, 200] + [429] * 5
    held = answers[3]
    assert int(held.headers["retry-after"]) > 0
    assert "Even wachten" in held.text and held.headers["content-type"].startswith("text/html")
    assert await registrations_of(platform, session_id) == before + 3
    await message_about(mail_catcher, flooded[2], "Bevestig")
    assert all(received(mail_catcher, email) == [] for email in flooded[3:])


async def test_one_email_address_cannot_be_signed_up_without_end(
    platform: RunningPlatform, tenant: Tenant, site: str, mail_catcher: MailCatcher
) -> None:
    victim = address()
    sessions = [
        (await schedule(platform, tenant.staff_b, capacity=2, days=20 + n))["session"]["id"]
        for n in range(SIGN_UPS_PER_ADDRESS + 1)
    ]
    async with httpx.AsyncClient(base_url=site, timeout=PATIENCE_SECONDS) as web:
        answers = [
            await web.post(f"/m/{tenant.municipality}/courses/{s}", data={"name": "Iemand", "email": victim})
            for s in sessions
        ]
        # The same address again for a session it signed up for: the same answer, nothing new, no second e-mail.
        again = await web.post(
            f"/m/{tenant.municipality}/courses/{sessions[0]}", data={"name": "Iemand", "email": victim.upper()}
        )
    assert [a.status_code for a in answers] == [200] * SIGN_UPS_PER_ADDRESS + [429]
    assert again.status_code == 200 and again.text == answers[0].text
    assert await registrations_of(platform, sessions[-1]) == 0
    assert await registrations_of(platform, sessions[0]) == 1

    async def five() -> bool:
        return len(received(mail_catcher, victim)) == SIGN_UPS_PER_ADDRESS

    await eventually(five, what="one confirmation per sign-up")


@pytest.mark.parametrize(
    ("form", "wrong"),
    [
        ({"name": "", "email": "a@b.nl"}, "f-name"),
        ({"name": "Ab", "email": "geen-adres"}, "f-email"),
        ({"name": "x" * 201, "email": "a@b.nl"}, "f-name"),
        ({"name": "Ab", "email": "a@b.nl", "phone": "bel me maar"}, "f-phone"),
        ({"email": "a@b.nl"}, "f-name"),
        ({"name": "Ab", "email": "a@" + "b" * 300 + ".nl"}, "f-email"),
    ],
)
async def test_bad_input_gets_a_400_page_naming_the_field_and_changes_nothing(
    platform: RunningPlatform, tenant: Tenant, session_id: str, site: str, form: dict[str, str], wrong: str
) -> None:
    before = await registrations_of(platform, session_id)
    async with httpx.AsyncClient(base_url=site, timeout=PATIENCE_SECONDS) as web:
        answer = await web.post(f"/m/{tenant.municipality}/courses/{session_id}", data=form)
    assert answer.status_code == 400, answer.text
    assert f'href="#{wrong}"' in answer.text and 'aria-invalid="true"' in answer.text
    assert await registrations_of(platform, session_id) == before


async def test_nonsense_never_gets_a_5xx(platform: RunningPlatform, tenant: Tenant, session_id: str, site: str) -> None:
    staff_only = (
        await schedule(
            platform,
            tenant.staff_a,
            days=30,
            details={"title": "Intern", "audience": "library_staff"},
        )
    )["session"]["id"]
    base = f"/m/{tenant.municipality}"
    before = await registrations_of(platform, session_id)
    good = {"name": "Ab", "email": address()}
    async with httpx.AsyncClient(base_url=site, timeout=PATIENCE_SECONDS) as web:
        answers = {
            "unknown session": await web.post(f"{base}/courses/{uuid.uuid4()}", data=good),
            "staff training": await web.post(f"{base}/courses/{staff_only}", data=good),
            "other municipality": await web.post(f"/m/gem-anders/courses/{session_id}", data=good),
            "not a uuid": await web.post(f"{base}/courses/abc", data=good),
            "json body": await web.post(f"{base}/courses/{session_id}", json=good),
            "bytes": await web.post(
                f"{base}/courses/{session_id}",
                content=b"name=\xff\xfe&email=\xc3",
                headers={"content-type": "application/x-www-form-urlencoded"},
            ),
            "page of staff training": await web.get(f"{base}/courses/{staff_only}"),
            "unknown step": await web.post(f"{base}/registrations/{'0' * 32}{'A' * 24}/approve"),
            "short token": await web.get(f"{base}/registrations/abc"),
        }
    for what, answer in answers.items():
        assert 400 <= answer.status_code < 500, (what, answer.status_code, answer.text[:300])
    for what in ("unknown session", "staff training", "other municipality", "page of staff training"):
        assert answers[what].status_code == 404, what
    assert await registrations_of(platform, session_id) == before


async def test_links_cannot_be_guessed_and_guessing_locks_out(
    platform: RunningPlatform, tenant: Tenant, session_id: str, strict_site: str, mail_catcher: MailCatcher
) -> None:
    email = address()
    async with httpx.AsyncClient(base_url=strict_site, timeout=PATIENCE_SECONDS) as web:
        assert (
            await web.post(f"/m/{tenant.municipality}/courses/{session_id}", data={"name": "Echt", "email": email})
        ).status_code == 200
        real = link_in(await message_about(mail_catcher, email, "Bevestig"))
        token = real.rsplit("/", 1)[1]
        forged = token[:32] + ("B" if token[32] != "B" else "C") + token[33:]  # the right id, a wrong digest
        other_municipality = real.replace(tenant.municipality, "gem-anders")
        guesses = [
            await web.get(f"/m/{tenant.municipality}/registrations/{forged}"),
            await web.post(f"/m/{tenant.municipality}/registrations/{forged}/cancel"),
            await web.get(other_municipality),
            await web.get(f"/m/{tenant.municipality}/registrations/{uuid.uuid4().hex}{'A' * 24}"),
        ]
        assert [g.status_code for g in guesses] == [404] * 4
        fifth = await web.get(f"/m/{tenant.municipality}/registrations/{forged}")
        assert fifth.status_code == 404
        locked = await web.get(real)  # even the real link waits now: the address guessed
        assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
    # The forged cancel changed nothing: the registration still waits for its confirmation.
    async with platform.services["courses"].sessions() as session:
        row = (
            await session.execute(
                sa.select(registrations.c.status).where(registrations.c.id == uuid.UUID(hex=token[:32]))
            )
        ).one()
    assert row.status == "unconfirmed"


async def test_a_real_link_through_another_municipalitys_pages_takes_no_step_shows_nothing_and_logs_no_read(
    platform: RunningPlatform, tenant: Tenant, session_id: str, strict_site: str, mail_catcher: MailCatcher
) -> None:
    """The link's step was taken first and its municipality compared after: a confirm or an erase through
    /m/<another>/… answered 404 and had confirmed the place, or cancelled it and erased the resident."""
    email = address()
    async with httpx.AsyncClient(base_url=strict_site, timeout=PATIENCE_SECONDS) as web:
        signed = await web.post(f"/m/{tenant.municipality}/courses/{session_id}", data={"name": "Echt", "email": email})
        assert signed.status_code == 200
        real = link_in(await message_about(mail_catcher, email, "Bevestig"))
        elsewhere = real.replace(f"/m/{tenant.municipality}/", "/m/gem-anders/")
        tries = {
            "confirm": await web.post(f"{elsewhere}/confirm"),
            "erase": await web.post(f"{elsewhere}/erase"),
            "export": await web.get(f"{elsewhere}/export"),
        }
        assert {what: answer.status_code for what, answer in tries.items()} == dict.fromkeys(tries, 404)
        assert all(email not in answer.text and "Echt" not in answer.text for answer in tries.values())
        # Through its own municipality's pages the link still works, and finds the registration as it was.
        assert (await web.get(real)).status_code == 200
    registration_id = uuid.UUID(hex=real.rsplit("/", 1)[1][:32])
    async with platform.services["courses"].sessions() as session:
        row = (await session.execute(sa.select(registrations).where(registrations.c.id == registration_id))).one()
        logged = (
            await session.execute(sa.select(sa.func.count()).where(data_reads.c.registration_id == registration_id))
        ).scalar_one()
    assert (row.status, row.confirmed_at, row.erased_at) == ("unconfirmed", None, None)
    assert row.sealed is not None, "the resident's name and address are still held"
    assert logged == 0, "no export was logged"
