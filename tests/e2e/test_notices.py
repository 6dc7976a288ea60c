"""Notices by e-mail end to end (issue 20): an HTTP action, its event, the partners service's consumer, the mail
outbox, the relay and a real SMTP server (the session's mail catcher, `partnernet up`'s own), to the message
received. Every message is read back from the catcher and searched for the participant's personal data."""

from __future__ import annotations

import mailbox
import uuid
from datetime import datetime, timedelta
from email.message import Message
from typing import Any

import pytest

from launcher.embedded import free_port
from launcher.mail_catcher import MailCatcher
from services.partners.commands.partnerships import remind_reviews
from services.referrals.commands import deadlines
from shared.clock import local_today
from shared.tenancy import Role
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant, known_to_referrals
from tests.referral_bodies import referral_body
from tests.services.referrals.conftest import pooled_tenant, work_at
from tests.waiting import eventually

PARTICIPANT = {
    "name": "Fatima El Amrani",
    "birth_date": "1984-03-02",
    "phone": "0612345678",
    "email": "fatima.elamrani@voorbeeld.example",
}
# Every form in which the participant's data could slip into a message.
PERSONAL = ["Fatima", "Amrani", "1984-03-02", "02-03-1984", "2 maart 1984", "0612345678", "06-12345678", "elamrani"]


@pytest.fixture
async def tenant(platform: RunningPlatform) -> Tenant:
    return await pooled_tenant(platform)


def address(who: str) -> str:
    return f"{who}-{uuid.uuid4().hex[:10]}@bieb.example"


def received(catcher: MailCatcher, recipient: str) -> list[Message]:
    return [message for message in mailbox.Maildir(catcher.directory, create=False) if message["To"] == recipient]


async def one_message(catcher: MailCatcher, recipient: str, *, what: str) -> Message:
    async def arrived() -> list[Message]:
        return received(catcher, recipient)

    (message,) = await eventually(arrived, what=what)
    return message


def text_of(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode(message.get_content_charset() or "utf-8")


def assert_no_personal_data(message: Message) -> None:
    whole = message.as_string() + text_of(message)
    for value in PERSONAL:
        assert value.lower() not in whole.lower(), f"{value!r} in a notice: {whole}"


async def choose(
    platform: RunningPlatform, token: str, email: str, kinds: list[str], language: str = "nl"
) -> dict[str, Any]:
    async with platform.client(token) as api:
        current = (await api.get("/api/v1/notices/preferences")).json()
        body: dict[str, Any] = {"email": email, "language": language, "kinds": kinds}
        if current["version"]:
            body["expected_version"] = current["version"]
        response = await api.put("/api/v1/notices/preferences", json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def submitted(platform: RunningPlatform, tenant: Tenant) -> dict[str, Any]:
    body = referral_body(tenant.library_a, tenant.partner_a, participant=PARTICIPANT)
    async with platform.client(tenant.partner_a_token) as api:
        response = await api.post("/api/v1/referrals", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_a_new_referral_reaches_the_receiving_staff_by_email_with_a_link_and_no_personal_data(
    platform: RunningPlatform, tenant: Tenant, mail_catcher: MailCatcher
) -> None:
    staff = platform.token(Role.STAFF, municipality=tenant.municipality, library=tenant.library_a)
    quiet = platform.token(Role.STAFF, municipality=tenant.municipality, library=tenant.library_a)
    other_library = platform.token(Role.STAFF, municipality=tenant.municipality, library=tenant.library_b)
    wants, declines, elsewhere = address("staff"), address("quiet"), address("other")
    await choose(platform, staff, wants, ["referral_submitted", "referral_overdue"])
    await choose(platform, quiet, declines, ["referral_overdue"])  # chose not to hear of new referrals
    await choose(platform, other_library, elsewhere, ["referral_submitted"])

    referral = await submitted(platform, tenant)

    message = await one_message(mail_catcher, wants, what="the new referral's notice")
    reference = referral["id"][-8:]
    assert message["Subject"] == f"Nieuwe doorverwijzing {reference}"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Content-Language"] == "nl"
    body = text_of(message)
    assert f"{platform.settings.console_base_url}/console/referrals/{referral['id']}" in body
    assert "Antwoorden vóór" in body  # the answer-by date, a fact of the referral, not of the person
    assert_no_personal_data(message)
    # Nobody else: not who chose otherwise, not another library's staff; and only once.
    await eventually(lambda: _sent(platform, wants, referral_id=referral["id"]), what="the outbox row marked sent")
    assert received(mail_catcher, declines) == []
    assert received(mail_catcher, elsewhere) == []
    assert len(received(mail_catcher, wants)) == 1


async def _sent(platform: RunningPlatform, recipient: str, *, referral_id: str = "") -> bool:
    operator = platform.token(Role.OPERATOR)
    async with platform.client(operator) as api:
        items = (await api.get("/api/v1/notices/mail", params={"limit": 200})).json()["items"]
    return any(item["recipient"] == recipient and item["status"] == "sent" for item in items)


async def test_a_declined_referral_reaches_the_referring_partner_in_the_language_its_person_chose(
    platform: RunningPlatform, tenant: Tenant, mail_catcher: MailCatcher
) -> None:
    person = platform.token(Role.PARTNER, municipality=tenant.municipality, partner=tenant.partner_a)
    email = address("consulent")
    await choose(platform, person, email, ["referral_declined"], language="en")
    referral = await submitted(platform, tenant)
    async with platform.client(tenant.staff_a) as api:
        declined = await api.post(f"/api/v1/referrals/{referral['id']}/decline", json={"reason": "no_capacity"})
    assert declined.status_code == 200, declined.text

    message = await one_message(mail_catcher, email, what="the decline's notice")
    assert message["Subject"] == f"Referral {referral['id'][-8:]} was declined"
    assert "Reason: no place" in text_of(message)
    assert_no_personal_data(message)


async def test_a_partners_contacts_get_its_notices_by_default_until_a_person_chooses_for_their_address(
    platform: RunningPlatform, tenant: Tenant, mail_catcher: MailCatcher
) -> None:
    general, referrals_desk, finance = address("info"), address("referrals"), address("finance")
    async with platform.client(tenant.operator) as api:
        partner = (await api.get(f"/api/v1/partners/{tenant.partner_a}")).json()
        contacts = [
            {"name": "Balie doorverwijzingen", "roles": ["referrals"], "email": referrals_desk},
            {"name": "Administratie", "roles": ["finance"], "email": finance},
        ]
        changed = await api.patch(
            f"/api/v1/partners/{tenant.partner_a}",
            json={"email": general, "contacts": contacts, "expected_version": partner["version"]},
        )
    assert changed.status_code == 200, changed.text
    # The person behind the general address wants no decline notices: their choice stands for that address.
    person = platform.token(Role.PARTNER, municipality=tenant.municipality, partner=tenant.partner_a)
    await choose(platform, person, general.upper(), ["delivery_failed"])

    referral = await submitted(platform, tenant)
    async with platform.client(tenant.staff_a) as api:
        declined = await api.post(f"/api/v1/referrals/{referral['id']}/decline", json={"reason": "not_eligible"})
    assert declined.status_code == 200, declined.text

    message = await one_message(mail_catcher, referrals_desk, what="the referrals contact's notice")
    assert message["Subject"] == f"Doorverwijzing {referral['id'][-8:]} is afgewezen"
    assert_no_personal_data(message)
    await eventually(lambda: _sent(platform, referrals_desk), what="the contact's message marked sent")
    assert received(mail_catcher, finance) == []  # not named for referrals
    assert received(mail_catcher, general) == []


async def test_an_overdue_referral_reminds_the_receiving_staff(
    platform: RunningPlatform, tenant: Tenant, mail_catcher: MailCatcher
) -> None:
    email = address("overdue")
    await choose(platform, tenant.staff_a, email, ["referral_overdue"])
    referral = await submitted(platform, tenant)
    work, _ = work_at(platform, datetime.fromisoformat(referral["respond_by"]) + timedelta(seconds=1))
    assert await deadlines.mark_overdue(work, library=tenant.library_a) == 1

    message = await one_message(mail_catcher, email, what="the overdue notice")
    assert message["Subject"] == f"Doorverwijzing {referral['id'][-8:]} wacht op antwoord"
    assert f"/console/referrals/{referral['id']}" in text_of(message)
    assert_no_personal_data(message)


async def test_a_review_that_falls_due_is_told_to_the_librarys_staff_once(
    platform: RunningPlatform, tenant: Tenant, mail_catcher: MailCatcher
) -> None:
    email = address("review")
    await choose(platform, tenant.staff_a, email, ["review_due"], language="en")
    today = local_today()
    body = {
        "library": tenant.library_a,
        "partner_id": tenant.partner_a,
        "roles": ["referrer"],
        "starts_on": today.isoformat(),
        "review_on": (today + timedelta(days=5)).isoformat(),
    }
    async with platform.client(tenant.staff_a) as api:
        created = await api.post("/api/v1/partnerships", json=body)
        assert created.status_code == 201, created.text
        partnership = created.json()
        assert (await api.post(f"/api/v1/partnerships/{partnership['id']}/activate")).status_code == 200
    work = platform.services["partners"].unit_of_work
    await remind_reviews(work, today=today + timedelta(days=5))
    await remind_reviews(work, today=today + timedelta(days=6))  # the job runs again: still one message

    message = await one_message(mail_catcher, email, what="the review notice")
    assert message["Subject"] == f"Partnership {partnership['id'][-8:]}: time for its review"
    assert f"/console/network/partnerships/{partnership['id']}/edit" in text_of(message)
    await eventually(lambda: _sent(platform, email), what="the review notice marked sent")
    assert len(received(mail_catcher, email)) == 1


async def test_a_webhook_delivery_that_failed_for_good_is_told_to_the_partners_technical_contact(
    platform: RunningPlatform, tenant: Tenant, mail_catcher: MailCatcher
) -> None:
    email = address("tech")
    person = platform.token(Role.PARTNER, municipality=tenant.municipality, partner=tenant.partner_a)
    await choose(platform, person, email, ["delivery_failed"])
    nobody_listens = f"http://127.0.0.1:{free_port()}/hook"
    async with platform.client(tenant.partner_a_token) as api:
        registered = await api.post(
            f"/api/v1/partners/{tenant.partner_a}/webhooks",
            json={"url": nobody_listens, "event_types": ["referral.submitted"]},
        )
    assert registered.status_code == 201, registered.text
    webhook = registered.json()["webhook"]
    await submitted(platform, tenant)

    message = await one_message(mail_catcher, email, what="the failed delivery's notice")
    assert message["Subject"].startswith("Webhook-aflevering ") and message["Subject"].endswith(" is mislukt")
    body = text_of(message)
    assert f"na {platform.settings.webhook_max_attempts} pogingen" in body
    assert f"/console/subscriptions/{webhook['id']}" in body
    assert_no_personal_data(message)


async def test_a_partners_general_address_gets_its_notices_while_nobody_chose_for_it(
    platform: RunningPlatform, tenant: Tenant, mail_catcher: MailCatcher
) -> None:
    general = address("algemeen")
    async with platform.client(tenant.operator) as api:
        partner = (await api.get(f"/api/v1/partners/{tenant.partner_a}")).json()
        changed = await api.patch(
            f"/api/v1/partners/{tenant.partner_a}", json={"email": general, "expected_version": partner["version"]}
        )
    assert changed.status_code == 200, changed.text
    referral = await submitted(platform, tenant)
    async with platform.client(tenant.staff_a) as api:
        declined = await api.post(f"/api/v1/referrals/{referral['id']}/decline", json={"reason": "no_capacity"})
    assert declined.status_code == 200, declined.text

    message = await one_message(mail_catcher, general, what="the general address's notice")
    assert message["Subject"] == f"Doorverwijzing {referral['id'][-8:]} is afgewezen"
    assert_no_personal_data(message)


async def test_a_librarys_general_address_gets_its_notices_while_none_of_its_staff_chose_for_it(
    platform: RunningPlatform, tenant: Tenant, mail_catcher: MailCatcher
) -> None:
    general, probe = address("bibliotheek"), address("probe")
    library = f"bieb-{uuid.uuid4().hex[:8]}"
    body = {"slug": library, "municipality": tenant.municipality, "name": "Bibliotheek Oost", "email": general}
    async with platform.client(tenant.operator) as api:
        bad = await api.post("/api/v1/libraries", json={**body, "email": "de balie"})
        assert bad.status_code == 422, bad.text
        made = await api.post("/api/v1/libraries", json=body)
    assert made.status_code == 201 and made.json()["email"] == general, made.text
    await known_to_referrals(platform, [library], [])

    async def submitted_to_library() -> dict[str, Any]:
        async with platform.client(tenant.partner_a_token) as api:
            response = await api.post(
                "/api/v1/referrals", json=referral_body(library, tenant.partner_a, participant=PARTICIPANT)
            )
        assert response.status_code == 201, response.text
        return dict(response.json())

    first = await submitted_to_library()  # nobody of the library chose anything yet
    message = await one_message(mail_catcher, general, what="the library's general address's notice")
    assert message["Subject"] == f"Nieuwe doorverwijzing {first['id'][-8:]}"
    assert_no_personal_data(message)

    # A member of its staff chooses for that address, without new referrals: their choice stands for it.
    person = platform.token(Role.STAFF, municipality=tenant.municipality, library=library)
    await choose(platform, person, general.upper(), ["referral_overdue"])
    colleague = platform.token(Role.STAFF, municipality=tenant.municipality, library=library)
    await choose(platform, colleague, probe, ["referral_submitted"])
    second = await submitted_to_library()
    told = await one_message(mail_catcher, probe, what="the colleague's notice of the second referral")
    assert told["Subject"] == f"Nieuwe doorverwijzing {second['id'][-8:]}"
    # Its row would have been written with the colleague's, in one transaction: the outbox has none for it.
    async with platform.client(platform.token(Role.OPERATOR)) as api:
        items = (await api.get("/api/v1/notices/mail", params={"limit": 200})).json()["items"]
    assert [item["recipient"] for item in items].count(general) == 1  # the first only
    assert len(received(mail_catcher, general)) == 1


async def test_coordinators_are_told_of_reviews_ended_partnerships_and_failed_deliveries_of_their_municipality(
    platform: RunningPlatform, tenant: Tenant, mail_catcher: MailCatcher
) -> None:
    email, elsewhere = address("coordinator"), address("other-coordinator")
    chosen = await choose(
        platform, tenant.coordinator, email, ["review_due", "partnership_ended", "partner_delivery_failed"], "en"
    )
    assert chosen["available"] == ["review_due", "partnership_ended", "partner_delivery_failed"]
    other = await pooled_tenant(platform)  # another municipality's coordinator hears nothing of this one
    await choose(platform, other.coordinator, elsewhere, ["review_due", "partnership_ended", "partner_delivery_failed"])
    today = local_today()
    body = {
        "library": tenant.library_a,
        "partner_id": tenant.partner_a,
        "roles": ["referrer"],
        "starts_on": today.isoformat(),
        "review_on": (today + timedelta(days=5)).isoformat(),
    }
    async with platform.client(tenant.staff_a) as api:
        created = await api.post("/api/v1/partnerships", json=body)
        assert created.status_code == 201, created.text
        partnership = created.json()
        assert (await api.post(f"/api/v1/partnerships/{partnership['id']}/activate")).status_code == 200
    await remind_reviews(platform.services["partners"].unit_of_work, today=today + timedelta(days=5))
    reference = partnership["id"][-8:]
    partner_page = f"/console/network/partners/{tenant.partner_a}"

    async def about(subject: str) -> list[Message]:
        return [m for m in received(mail_catcher, email) if m["Subject"] == subject]

    (review,) = await eventually(lambda: about(f"Partnership {reference}: time for its review"), what="the review")
    assert partner_page in text_of(review) and "Review date: " in text_of(review)

    async with platform.client(tenant.staff_a) as api:
        ended = await api.post(f"/api/v1/partnerships/{partnership['id']}/end", json={"reason": "project afgerond"})
    assert ended.status_code == 200, ended.text
    (end,) = await eventually(lambda: about(f"Partnership {reference} has ended"), what="the partnership's end")
    assert partner_page in text_of(end)

    nobody_listens = f"http://127.0.0.1:{free_port()}/hook"
    async with platform.client(tenant.partner_a_token) as api:
        registered = await api.post(
            f"/api/v1/partners/{tenant.partner_a}/webhooks",
            json={"url": nobody_listens, "event_types": ["referral.submitted"]},
        )
    assert registered.status_code == 201, registered.text
    await submitted(platform, tenant)  # with the participant's personal data, which no message may carry

    async def delivery() -> list[Message]:
        return [m for m in received(mail_catcher, email) if m["Subject"].startswith("A partner is not receiving")]

    (failed,) = await eventually(delivery, what="the failed delivery, told to the coordinator")
    assert f"after {platform.settings.webhook_max_attempts} tries" in text_of(failed)
    assert partner_page in text_of(failed)
    for message in (review, end, failed):
        assert_no_personal_data(message)
    assert received(mail_catcher, elsewhere) == []
