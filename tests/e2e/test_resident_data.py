"""Residents' personal data held like participants' (issue 22), over HTTP on the real platform: those who run the
course see who signed up (the library's staff name and contact, the partner giving it names only), every read in
the access log; everyone else sees pseudonyms only; the resident's export by their link has everything; erasure by
the library's staff (or the resident's link) leaves nothing of the person in any table; key rotation keeps the data
readable."""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken

from launcher.mail_catcher import MailCatcher
from services.courses.commands import resident_data
from services.courses.domain.residents import RETAINED_FOR
from services.courses.store.residents import ResidentContact, ResidentVault, data_reads, registrations
from shared.contracts.referrals.api.participant_data import RotateEncryption
from shared.personal_data import Sealer
from shared.tenancy import Actor, Role
from tests.e2e.calendar_support import registration_of, schedule, signed_up, someone, traces_of
from tests.fixtures.platform import RunningPlatform, another_gateway
from tests.fixtures.tenants import Tenant
from tests.services.courses.support import course_body, course_tenant, meetings, partnership_known_to_courses, soon
from tests.services.volunteers.volunteer_tenant import register_partner
from tests.waiting import PATIENCE_SECONDS


@pytest.fixture(scope="module")
async def tenant(platform: RunningPlatform) -> Tenant:
    return await course_tenant(platform)


@pytest.fixture(scope="module")
async def site(platform: RunningPlatform) -> AsyncIterator[str]:
    """A gateway of this module's own, so its sign-ups do not count against the session gateway's limit."""
    generous = dataclasses.replace(platform.settings, calendar_sign_ups_per_minute=10_000)
    async with another_gateway(generous) as url:
        yield url


async def residents_seen(platform: RunningPlatform, token: str, session_id: str) -> httpx.Response:
    async with platform.client(token) as api:
        return await api.get(f"/api/v1/sessions/{session_id}/residents")


async def access_log(platform: RunningPlatform, registration_id: uuid.UUID) -> list[Any]:
    d = data_reads
    async with platform.services["courses"].sessions() as session:
        statement = sa.select(d).where(d.c.registration_id == registration_id).order_by(d.c.id)
        return list((await session.execute(statement)).all())


async def texts_containing(platform: RunningPlatform, needles: list[str]) -> list[str]:
    """Every text, varchar, json(b) and bytea column of every schema in the database, searched for each needle."""
    found: list[str] = []
    async with platform.services["courses"].sessions() as session:
        columns = (
            await session.execute(
                sa.text(
                    "SELECT c.table_schema, c.table_name, c.column_name, c.data_type FROM information_schema.columns c"
                    " JOIN information_schema.tables t USING (table_schema, table_name)"
                    " WHERE t.table_type = 'BASE TABLE'"
                    " AND c.table_schema NOT IN ('pg_catalog', 'information_schema')"
                    " AND c.data_type IN ('text', 'character varying', 'jsonb', 'json', 'bytea')"
                )
            )
        ).all()
        schemas = {c.table_schema for c in columns}
        assert {"courses", "referrals", "partners", "volunteers"} <= schemas, schemas
        for schema, table, column, data_type in columns:
            haystack = f'"{column}"' if data_type == "bytea" else f"convert_to(\"{column}\"::text, 'UTF8')"
            for needle in needles:
                hits = (
                    await session.execute(
                        sa.text(
                            f'SELECT count(*) FROM "{schema}"."{table}"'
                            f" WHERE position(convert_to(:needle, 'UTF8') in {haystack}) > 0"
                        ),
                        {"needle": needle},
                    )
                ).scalar_one()
                if hits:
                    found.append(f"{schema}.{table}.{column}: {needle}")
    return found


async def test_the_librarys_staff_see_names_and_contact_others_pseudonyms_and_every_read_is_logged(
    platform: RunningPlatform, tenant: Tenant, mail_catcher: MailCatcher, site: str
) -> None:
    session_id = (await schedule(platform, tenant.staff_a, capacity=1))["session"]["id"]
    placed, waiting = someone("Anouk"), someone("Bilal")
    placed_link = await signed_up(site, mail_catcher, tenant.municipality, session_id, placed)
    waiting_link = await signed_up(site, mail_catcher, tenant.municipality, session_id, waiting)

    seen = await residents_seen(platform, tenant.staff_a, session_id)
    assert seen.status_code == 200, seen.text
    body = seen.json()
    assert body["detail"] == "contact"
    listed = [(r["name"], r["email"], r["phone"], r["status"]) for r in body["residents"]]
    assert listed == [
        (placed["name"], placed["email"], placed["phone"], "confirmed"),
        (waiting["name"], waiting["email"], waiting["phone"], "waitlisted"),
    ]
    for link, resident in ((placed_link, body["residents"][0]), (waiting_link, body["residents"][1])):
        assert resident["registration_id"] == str(registration_of(link))
        (read,) = await access_log(platform, registration_of(link))
        assert (read.purpose, read.actor_role, read.actor_organisation, read.library) == (
            "view",
            "staff",
            tenant.library_a,
            tenant.library_a,
        )
        assert read.participant_pseudonym == resident["participant_pseudonym"]

    # The attackers: the coordinator, the other library, a partner without a role in the course, an operator, and
    # someone of another municipality. None sees a name; none of their tries is a read in the log.
    other = await course_tenant(platform)
    coordinator = platform.token(Role.COORDINATOR, municipality=tenant.municipality)
    operator = platform.token(Role.OPERATOR)
    for token, status in (
        (coordinator, 403),
        (tenant.staff_b, 403),
        (tenant.partner_a_token, 403),
        (operator, 403),
        (other.staff_a, 404),
        (other.partner_a_token, 404),
    ):
        refused = await residents_seen(platform, token, session_id)
        assert refused.status_code == status, (token, refused.text)
        for secret in (*traces_of(placed), *traces_of(waiting)):
            assert secret not in refused.text
    # What they may see of the session's people is the enrolments: pseudonyms only.
    async with platform.client(coordinator) as api:
        enrolments = await api.get(f"/api/v1/sessions/{session_id}/enrolments")
    assert enrolments.status_code == 200 and len(enrolments.json()["items"]) == 2
    assert {e["participant_pseudonym"] for e in enrolments.json()["items"]} == {
        r["participant_pseudonym"] for r in body["residents"]
    }
    for secret in (*traces_of(placed), *traces_of(waiting)):
        assert secret not in enrolments.text
    assert len(await access_log(platform, registration_of(placed_link))) == 1


async def test_the_partner_giving_a_course_the_library_hosts_sees_names_only(
    platform: RunningPlatform, tenant: Tenant, mail_catcher: MailCatcher, site: str
) -> None:
    tag = uuid.uuid4().hex[:6]
    provider = await register_partner(platform, tenant, f"Digisterker {tag}", "course_provider")
    await partnership_known_to_courses(platform, tenant, provider, tenant.library_a)
    giving = platform.token(Role.PARTNER, municipality=tenant.municipality, partner=provider)
    async with platform.client(giving) as api:
        made = await api.post("/api/v1/courses", json=course_body(library=tenant.library_a))
        assert made.status_code == 201, made.text
        course_id = made.json()["id"]
        body = {"meetings": meetings(soon(20), 2), "capacity": 4, "place": "Zaal 2"}
        scheduled = await api.post(f"/api/v1/courses/{course_id}/sessions", json=body)
        assert scheduled.status_code == 201, scheduled.text
        assert (await api.post(f"/api/v1/courses/{course_id}/publish")).status_code == 200
    session_id = scheduled.json()["id"]
    who = someone("Chris")
    link = await signed_up(site, mail_catcher, tenant.municipality, session_id, who)

    by_partner = await residents_seen(platform, giving, session_id)
    assert by_partner.status_code == 200, by_partner.text
    assert by_partner.json()["detail"] == "name"
    (resident,) = by_partner.json()["residents"]
    assert (resident["name"], resident["email"], resident["phone"]) == (who["name"], None, None)
    assert who["email"] not in by_partner.text and who["phone"] not in by_partner.text
    # The hosting library reaches them; another partner (even the tenant's) and the other library do not.
    by_library = await residents_seen(platform, tenant.staff_a, session_id)
    assert by_library.status_code == 200 and by_library.json()["residents"][0]["email"] == who["email"]
    for token in (tenant.partner_a_token, tenant.staff_b):
        refused = await residents_seen(platform, token, session_id)
        assert refused.status_code == 403 and who["name"] not in refused.text
    reads = await access_log(platform, registration_of(link))
    assert [(r.actor_role, r.actor_organisation) for r in reads] == [("partner", provider), ("staff", tenant.library_a)]
    # The partner cannot erase (that request goes through the library).
    async with platform.client(giving) as api:
        refused = await api.post(f"/api/v1/resident-registrations/{registration_of(link)}/erase")
    assert refused.status_code == 403


async def test_export_has_everything_and_erasure_leaves_nothing_of_the_person_in_the_database(
    platform: RunningPlatform, tenant: Tenant, mail_catcher: MailCatcher, site: str
) -> None:
    scheduled = await schedule(platform, tenant.staff_a, capacity=1)
    session_id = scheduled["session"]["id"]
    asked, by_link, next_in_line = someone("Daan"), someone("Esra"), someone("Femke")
    link = await signed_up(site, mail_catcher, tenant.municipality, session_id, asked)
    own_link = await signed_up(site, mail_catcher, tenant.municipality, session_id, by_link)
    await signed_up(site, mail_catcher, tenant.municipality, session_id, next_in_line)
    assert (await residents_seen(platform, tenant.staff_a, session_id)).status_code == 200

    # The resident's export, by their link: what they gave, where they stand, how long it is kept, who read it.
    async with httpx.AsyncClient(base_url=site, timeout=PATIENCE_SECONDS) as web:
        page = await web.get(link)
        assert f"{link}/export" in page.text and "Download je gegevens" in page.text
        exported = await web.get(f"{link}/export")
        assert exported.status_code == 200, exported.text
        assert exported.headers["content-disposition"].startswith("attachment")
        assert exported.headers["cache-control"] == "no-store"
        wrong = await web.get(f"{link[:-4]}AAAA/export")
        assert wrong.status_code == 404 and asked["name"] not in wrong.text
    data = json.loads(exported.text)
    assert (data["name"], data["email"], data["phone"]) == (asked["name"], asked["email"], asked["phone"])
    assert data["registration"]["state"] == "place" and data["registration"]["session_id"] == session_id
    assert data["participant_pseudonym"].startswith("P-") and data["confirmed_at"] and data["registered_at"]
    ends_at = datetime.fromisoformat(scheduled["session"]["ends_at"])
    assert datetime.fromisoformat(data["kept_until"]) == ends_at + RETAINED_FOR
    assert [(r["purpose"], r["actor_role"]) for r in data["access_log"]] == [("view", "staff"), ("export", "resident")]
    assert data["access_log"][0]["actor_organisation"] == tenant.library_a

    # Erasure by staff: not by the other library, the coordinator or a partner; then by the library that runs it.
    registration_id = registration_of(link)
    erase = f"/api/v1/resident-registrations/{registration_id}/erase"
    for token, status in (
        (tenant.staff_b, 403),
        (platform.token(Role.COORDINATOR, municipality=tenant.municipality), 403),
        (tenant.partner_a_token, 403),
    ):
        async with platform.client(token) as api:
            assert (await api.post(erase)).status_code == status
    async with platform.client(tenant.staff_a) as api:
        erased = await api.post(erase)
        assert erased.status_code == 200, erased.text
        assert erased.json()["registration_id"] == str(registration_id)
        assert (await api.post(erase)).status_code == 200  # twice changes nothing more
        places = (await api.get(f"/api/v1/sessions/{session_id}")).json()
    assert (places["confirmed"], places["waitlisted"]) == (1, 1)  # the place went to the next in line
    # The other erases through their own link.
    async with httpx.AsyncClient(base_url=site, timeout=PATIENCE_SECONDS) as web:
        assert (await web.post(f"{own_link}/erase")).status_code == 200
        after = json.loads((await web.get(f"{link}/export")).text)
    assert (after["name"], after["email"], after["phone"], after["kept_until"]) == (None, None, None, None)
    assert after["registration"]["erased"] is True and after["erased_at"]
    assert [r["purpose"] for r in after["access_log"]] == ["view", "export", "erase"]

    assert await texts_containing(platform, [*traces_of(asked), *traces_of(by_link)]) == []
    # The search finds what is there: the enrolment's made-up pseudonym stays (it names nobody) for the figures.
    assert await texts_containing(platform, [data["participant_pseudonym"]]) != []
    vault = ResidentVault.from_keys(platform.settings.encryption_key, platform.settings.blind_index_key)
    r = registrations
    async with platform.services["courses"].sessions() as session:
        for gone, gone_link in ((asked, link), (by_link, own_link)):
            row = (await session.execute(sa.select(r).where(r.c.id == registration_of(gone_link)))).one()
            assert (row.sealed, row.email_digest, row.status) == (None, None, "cancelled") and row.erased_at
            digest = vault.addresses.email(gone["email"])
            assert (await session.execute(sa.select(sa.func.count()).where(r.c.email_digest == digest))).scalar() == 0
            mail = sa.text("SELECT count(*) FROM courses.resident_mail WHERE registration_id = :id")
            assert (await session.execute(mail, {"id": registration_of(gone_link)})).scalar() == 0
    remaining = (await residents_seen(platform, tenant.staff_a, session_id)).json()["residents"]
    assert [r["name"] for r in remaining] == [next_in_line["name"]]


async def test_rotation_reseals_residents_data_with_the_new_key_and_it_stays_readable(
    platform: RunningPlatform, tenant: Tenant, mail_catcher: MailCatcher, site: str
) -> None:
    session_id = (await schedule(platform, tenant.staff_a, capacity=2))["session"]["id"]
    who = someone("Gijs")
    link = await signed_up(site, mail_catcher, tenant.municipality, session_id, who)
    async with platform.client(tenant.staff_a) as api:
        assert (await api.post("/api/v1/resident-registrations/encryption/rotate")).status_code == 403
    async with platform.client(platform.token(Role.OPERATOR)) as api:
        rotated = await api.post("/api/v1/resident-registrations/encryption/rotate")
    assert rotated.status_code == 200 and rotated.json()["resealed"] >= 1

    old_key, new_key = platform.settings.encryption_key, Fernet.generate_key().decode()
    runtime, blind = platform.services["courses"], platform.settings.blind_index_key
    operator = Actor(subject="op", role=Role.OPERATOR)
    both = ResidentVault.from_keys(f"{new_key},{old_key}", blind)
    result = await resident_data.rotate_encryption(runtime.unit_of_work, both, operator, RotateEncryption())
    assert result.resealed >= 1
    r = registrations
    async with runtime.sessions() as session:
        row = (await session.execute(sa.select(r).where(r.c.id == registration_of(link)))).one()
    assert Sealer(new_key).unseal(row.sealed, ResidentContact).email == who["email"]
    with pytest.raises(InvalidToken):
        Sealer(old_key).unseal(row.sealed, ResidentContact)
    # Back to the platform's key for the tests after this one; the staff read it as before.
    back = ResidentVault.from_keys(f"{old_key},{new_key}", blind)
    await resident_data.rotate_encryption(runtime.unit_of_work, back, operator, RotateEncryption())
    seen = (await residents_seen(platform, tenant.staff_a, session_id)).json()["residents"]
    assert [(p["name"], p["email"]) for p in seen] == [(who["name"], who["email"])]
