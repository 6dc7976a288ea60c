"""The participant's rights on their own page (`/p/<code>`): it shows what is held about them, which parties
receive it and until when, and lets them ask for an export, an erasure or a revocation; an export or erasure
reaches every library of the municipality that holds them (found through the blind index), each library's staff
see and handle their own part, and nobody else sees the requests."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import pytest

from gateway import participant_document
from shared.clock import LOCAL_TIME
from shared.tenancy import Role
from tests.e2e.participant_support import (
    EASY_ENOUGH,
    flesch_douma,
    issue_code,
    library_name_known,
    participant,
    planned_referral,
    visible_text,
)
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant
from tests.referral_bodies import referral_body
from tests.services.referrals.conftest import pooled_tenant
from tests.waiting import eventually

REQUESTS = "/api/v1/referrals/change-requests"


def today() -> str:
    """Today as the participant's page writes a date (Dutch, the Netherlands' calendar day)."""
    return participant_document.long_date(datetime.now(LOCAL_TIME).date())


@pytest.fixture
async def tenant(platform: RunningPlatform) -> Tenant:
    return await pooled_tenant(platform)


class Person:
    def __init__(self, name: str, referral: dict[str, Any], code: str, at_b: str) -> None:
        self.name, self.referral, self.code, self.at_b = name, referral, code, at_b


@pytest.fixture
async def person(platform: RunningPlatform, tenant: Tenant) -> Person:
    """Someone with a planned intake at library A (and a code for their page) and a referral at library B."""
    name = f"Ilse Mulder-{uuid.uuid4().hex[:6]}"
    referral = await planned_referral(platform, tenant, name=name)
    async with platform.client(tenant.partner_a_token) as partner:
        body = referral_body(tenant.library_b, tenant.partner_a, participant={"name": name, "birth_date": "1984-03-02"})
        at_b = await partner.post("/api/v1/referrals", json=body)
    assert at_b.status_code == 201, at_b.text
    await library_name_known(platform, tenant.library_a)
    issued = await issue_code(platform, tenant, referral["id"])
    return Person(name, referral, issued["code"], at_b.json()["id"])


async def open_requests(platform: RunningPlatform, token: str) -> list[tuple[str, str]]:
    async with platform.client(token) as staff:
        response = await staff.get(REQUESTS, params={"status": "open"})
    assert response.status_code == 200, response.text
    return [(r["referral_id"], r["kind"]) for r in response.json()["items"]]


async def test_the_page_shows_what_is_held_who_receives_it_and_until_when(
    platform: RunningPlatform, tenant: Tenant, person: Person
) -> None:
    async with platform.client(tenant.staff_a) as staff:  # one read of the person, for the page to count
        assert (await staff.get(f"/api/v1/referrals/{person.referral['id']}")).status_code == 200
    async with participant(platform) as browser:
        page = await browser.get(f"/p/{person.code}")
    assert page.status_code == 200, page.text
    blocks = visible_text(page.text)
    assert {"Uw naam", "Uw geboortedatum", "Uw telefoonnummer", "Uw afspraak"} <= set(blocks)
    assert "Uw e-mailadres" not in blocks  # none was given
    until = "Mag uw gegevens zien tot 10 januari 2099."
    assert f"Bibliotheek {tenant.library_a}: bewaart uw gegevens. {until}" in blocks
    assert any(b.startswith("UWV") and b.endswith(f": stuurde u door. {until}") for b in blocks)
    assert "U gaf toestemming tot 10 januari 2099." in blocks
    assert "Wij wissen uw gegevens 365 dagen nadat uw aanvraag klaar is." in blocks
    assert "Uw gegevens zijn 1 keer bekeken." in blocks
    for kind in ("export", "erasure", "revocation"):
        assert f'value="{kind}"' in page.text
    for personal in (person.name, "0612345678", "1984", person.referral["participant_pseudonym"]):
        assert personal not in page.text
    assert flesch_douma(blocks) >= EASY_ENOUGH, blocks


async def test_an_export_asked_on_the_page_reaches_each_library_that_holds_the_person_once(
    platform: RunningPlatform, tenant: Tenant, person: Person
) -> None:
    async with participant(platform) as browser:
        asked = await browser.post("/p/change", data={"code": person.code, "kind": "export"})
        again = await browser.post("/p/change", data={"code": person.code, "kind": "export"})
        page = (await browser.get(f"/p/{person.code}")).text
    assert asked.status_code == 200 and "U wilt uw gegevens zien." in asked.text and "genoteerd" in asked.text
    assert flesch_douma(visible_text(asked.text)) >= EASY_ENOUGH
    assert again.status_code == 200 and "Dat wisten we al" in again.text
    assert "U vroeg al: U wilt uw gegevens zien. Wij bellen u." in visible_text(page)
    assert 'value="export"' not in page and 'value="erasure"' in page

    # Each library's staff see their own part, once; the library B request is on B's referral of the person.
    assert await open_requests(platform, tenant.staff_a) == [(person.referral["id"], "export")]
    assert await open_requests(platform, tenant.staff_b) == [(person.at_b, "export")]
    async with platform.client(tenant.staff_b) as staff_b:
        (request,) = (await staff_b.get(REQUESTS, params={"status": "open"})).json()["items"]
        history = (await staff_b.get(f"/api/v1/referrals/{person.at_b}")).json()["history"]
        handled = await staff_b.post(f"{REQUESTS}/{request['id']}/handle")
    assert [h["details"] for h in history if h["step"] == "participant_asked_right"] == [{"kind": "export"}]
    assert handled.status_code == 200 and handled.json()["status"] == "handled"
    async with platform.client(tenant.staff_a) as staff_a:  # another library's request: as if it did not exist
        assert (await staff_a.post(f"{REQUESTS}/{request['id']}/handle")).status_code == 404
    assert await open_requests(platform, tenant.staff_b) == []
    assert await open_requests(platform, tenant.staff_a) == [(person.referral["id"], "export")]


async def test_a_revocation_asked_on_the_page_goes_to_the_referrals_own_library_only(
    platform: RunningPlatform, tenant: Tenant, person: Person
) -> None:
    async with participant(platform) as browser:
        asked = await browser.post("/p/change", data={"code": person.code, "kind": "revocation"})
        erasure = await browser.post("/p/change", data={"code": person.code, "kind": "erasure"})
    assert asked.status_code == 200 and "U wilt niet meer dat wij uw gegevens delen." in asked.text
    assert erasure.status_code == 200
    assert sorted(await open_requests(platform, tenant.staff_a)) == [
        (person.referral["id"], "erasure"),
        (person.referral["id"], "revocation"),
    ]
    assert await open_requests(platform, tenant.staff_b) == [(person.at_b, "erasure")]


async def test_nobody_but_the_librarys_staff_sees_or_handles_the_requests(
    platform: RunningPlatform, tenant: Tenant, elsewhere: Tenant, person: Person
) -> None:
    async with participant(platform) as browser:
        assert (await browser.post("/p/change", data={"code": person.code, "kind": "erasure"})).status_code == 200
    async with platform.client(tenant.staff_a) as staff:
        (request,) = (await staff.get(REQUESTS)).json()["items"]
    coordinator = platform.token(Role.COORDINATOR, municipality=tenant.municipality)
    for token in (tenant.partner_a_token, coordinator, tenant.operator, elsewhere.staff_a):
        async with platform.client(token) as api:
            listed = await api.get(REQUESTS)
            handled = await api.post(f"{REQUESTS}/{request['id']}/handle")
        assert listed.status_code in (200, 403) and person.referral["id"] not in listed.text
        assert handled.status_code in (403, 404)
    async with participant(platform) as browser:  # a forged kind changes nothing
        forged = await browser.post("/p/change", data={"code": person.code, "kind": "is_admin"})
    assert forged.status_code == 400
    assert await open_requests(platform, tenant.staff_a) == [(person.referral["id"], "erasure")]


async def test_the_page_says_when_a_party_no_longer_sees_the_person(
    platform: RunningPlatform, tenant: Tenant, person: Person
) -> None:
    async with platform.client(tenant.operator) as operator:
        suspended = await operator.post(f"/api/v1/partners/{tenant.partner_a}/suspend", json={"reason": "audit"})
    assert suspended.status_code == 200, suspended.text

    async def says_so() -> list[str] | None:
        async with participant(platform) as browser:
            blocks = visible_text((await browser.get(f"/p/{person.code}")).text)
        partner = [b for b in blocks if b.startswith("UWV")]
        return blocks if partner and partner[0].endswith(f"Ziet uw gegevens niet meer sinds {today()}.") else None

    blocks = await eventually(says_so, what="the suspension to reach the page")
    library = f"Bibliotheek {tenant.library_a}: bewaart uw gegevens. Mag uw gegevens zien tot 10 januari 2099."
    assert library in blocks


async def all_requests(platform: RunningPlatform, token: str) -> list[dict[str, Any]]:
    async with platform.client(token) as staff:
        response = await staff.get(REQUESTS)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def test_erasing_the_person_closes_their_open_requests_in_the_librarys_list(
    platform: RunningPlatform, tenant: Tenant, person: Person
) -> None:
    async with participant(platform) as browser:
        for kind in ("reschedule", "export", "erasure"):
            asked = await browser.post("/p/change", data={"code": person.code, "kind": kind})
            assert asked.status_code == 200, asked.text
    assert len(await open_requests(platform, tenant.staff_a)) == 3
    assert sorted(await open_requests(platform, tenant.staff_b)) == [(person.at_b, "erasure"), (person.at_b, "export")]

    async with platform.client(tenant.staff_a) as staff:
        erased = await staff.post("/api/v1/referrals/person/erase", json={"referral_id": person.referral["id"]})
    assert erased.status_code == 200, erased.text
    assert await open_requests(platform, tenant.staff_a) == []
    listed = await all_requests(platform, tenant.staff_a)
    assert sorted(r["kind"] for r in listed) == ["erasure", "export", "reschedule"]
    for request in listed:
        assert (request["status"], request["handled_by_erasure"], request["version"]) == ("handled", True, 2)
        assert request["handled_at"] <= erased.json()["erased_at"] and request["handled_by"]
    async with platform.client(tenant.staff_a) as staff:  # nothing left to handle by hand
        again = await staff.post(f"{REQUESTS}/{listed[0]['id']}/handle")
    assert again.status_code == 409
    # Library B holds the person too: its part waits for its own staff, and its own erasure closes it.
    assert len(await open_requests(platform, tenant.staff_b)) == 2
    async with platform.client(tenant.staff_b) as staff:
        assert (
            await staff.post("/api/v1/referrals/person/erase", json={"referral_id": person.at_b})
        ).status_code == 200
    assert await open_requests(platform, tenant.staff_b) == []
    assert all(r["handled_by_erasure"] for r in await all_requests(platform, tenant.staff_b))


async def test_requests_handled_by_staff_are_not_marked_as_closed_by_an_erasure(
    platform: RunningPlatform, tenant: Tenant, person: Person
) -> None:
    async with participant(platform) as browser:
        assert (await browser.post("/p/change", data={"code": person.code, "kind": "export"})).status_code == 200
    async with platform.client(tenant.staff_a) as staff:
        (request,) = (await staff.get(REQUESTS)).json()["items"]
        handled = await staff.post(f"{REQUESTS}/{request['id']}/handle")
        assert handled.status_code == 200 and handled.json()["handled_by_erasure"] is False
        assert (
            await staff.post("/api/v1/referrals/person/erase", json={"referral_id": person.referral["id"]})
        ).status_code == 200
        (after,) = (await staff.get(REQUESTS)).json()["items"]
    assert (after["handled_by_erasure"], after["version"], after["handled_at"]) == (
        False,
        2,
        handled.json()["handled_at"],
    )


async def test_the_page_says_since_when_a_partner_whose_agreement_ended_no_longer_sees_the_person(
    platform: RunningPlatform, tenant: Tenant, person: Person
) -> None:
    referrer = f"UWV {tenant.partner_a}"
    async with platform.client(tenant.coordinator) as coordinator:
        listed = await coordinator.get("/api/v1/referrals/agreements", params={"partner_id": tenant.partner_a})
        (agreement,) = listed.json()["items"]
        ended = await coordinator.post(f"/api/v1/referrals/agreements/{agreement['id']}/end")
    assert ended.status_code == 200, ended.text
    async with participant(platform) as browser:
        blocks = visible_text((await browser.get(f"/p/{person.code}")).text)
    (line,) = [b for b in blocks if b.startswith("UWV")]
    assert line.endswith(f": stuurde u door. Ziet uw gegevens niet meer sinds {today()}."), (line, referrer)
    library = f"Bibliotheek {tenant.library_a}: bewaart uw gegevens. Mag uw gegevens zien tot 10 januari 2099."
    assert library in blocks
    async with platform.client(tenant.partner_a_token) as api:  # as the page says: pseudonyms only
        seen = (await api.get(f"/api/v1/referrals/{person.referral['id']}")).json()
    assert (seen["participant"], seen["withheld_because"]) == (None, "partnership_ended")


async def test_after_a_revocation_the_page_says_so_and_offers_no_revocation(
    platform: RunningPlatform, tenant: Tenant, person: Person
) -> None:
    async with platform.client(tenant.staff_a) as staff:
        revoked = await staff.post(
            f"/api/v1/referrals/{person.referral['id']}/revoke-consent",
            json={"told_at": "2026-02-01T10:00:00+01:00", "told_via": "in_person"},
        )
    assert revoked.status_code == 200, revoked.text
    async with participant(platform) as browser:
        page = await browser.get(f"/p/{person.code}")
    assert page.status_code == 200, page.text  # withdrawn by the revocation: still their page
    blocks = visible_text(page.text)
    assert "U trok uw toestemming in. Niemand ziet uw gegevens nog." in blocks
    assert 'value="revocation"' not in page.text and 'value="erasure"' in page.text
    assert all(not b.endswith("Mag uw gegevens zien.") and "Mag uw gegevens zien tot" not in b for b in blocks)


async def test_the_persons_export_holds_what_they_asked_the_library_and_whether_it_was_handled(
    platform: RunningPlatform, tenant: Tenant, person: Person
) -> None:
    async with participant(platform) as browser:
        for kind in ("reschedule", "export"):
            assert (await browser.post("/p/change", data={"code": person.code, "kind": kind})).status_code == 200
    async with platform.client(tenant.staff_a) as staff:
        first = await staff.post("/api/v1/referrals/person/export", json={"referral_id": person.referral["id"]})
        (reschedule,) = [r for r in (await staff.get(REQUESTS)).json()["items"] if r["kind"] == "reschedule"]
        assert (await staff.post(f"{REQUESTS}/{reschedule['id']}/handle")).status_code == 200
        second = await staff.post("/api/v1/referrals/person/export", json={"referral_id": person.referral["id"]})
    assert first.status_code == 200, first.text
    asked = [(r["referral_id"], r["kind"], r["status"]) for r in first.json()["requests"]]
    assert asked == [(person.referral["id"], "reschedule", "open"), (person.referral["id"], "export", "open")]
    assert [(r["kind"], r["status"]) for r in second.json()["requests"]] == [
        ("reschedule", "handled"),
        ("export", "open"),
    ]
    assert all(r["participant_pseudonym"] == person.referral["participant_pseudonym"] for r in first.json()["requests"])
    async with platform.client(tenant.staff_b) as staff_b:  # library B's export holds only B's part
        theirs = await staff_b.post("/api/v1/referrals/person/export", json={"referral_id": person.at_b})
    assert [(r["referral_id"], r["kind"]) for r in theirs.json()["requests"]] == [(person.at_b, "export")]
