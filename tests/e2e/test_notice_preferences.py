"""A person's choice of notices over HTTP (issue 20): staff and partners' people read and set their own, with
versions; everybody else, and every bad input, is refused and changes nothing. The mail outbox is for operators, and
pages newest first with the API's cursor."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from services.partners.store.notices import mail_outbox
from shared.ids import new_id
from shared.pagination import encode_cursor
from shared.tenancy import Role
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant
from tests.services.referrals.conftest import pooled_tenant

PATH = "/api/v1/notices/preferences"


@pytest.fixture
async def tenant(platform: RunningPlatform) -> Tenant:
    return await pooled_tenant(platform)


async def test_staff_see_the_defaults_then_choose_and_change_with_the_version_they_read(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    async with platform.client(tenant.staff_a) as api:
        before = (await api.get(PATH)).json()
        first = await api.put(PATH, json={"email": "lies@bieb.example", "kinds": ["referral_submitted", "review_due"]})
        again = await api.put(PATH, json={"email": "lies@bieb.example", "kinds": []})
        stale = await api.put(PATH, json={"email": "x@bieb.example", "kinds": [], "expected_version": 5})
        changed = await api.put(
            PATH,
            json={"email": "lies@bieb.example", "language": "en", "kinds": ["review_due"], "expected_version": 1},
        )
        after = (await api.get(PATH)).json()
    assert before == {
        "email": None,
        "language": "nl",
        "kinds": ["referral_submitted", "referral_overdue", "referral_declined", "review_due", "waiting_list_place"],
        "available": [
            "referral_submitted",
            "referral_overdue",
            "referral_declined",
            "review_due",
            "waiting_list_place",
        ],
        "version": 0,
        "mail_enabled": True,
    }
    assert first.status_code == 200, first.text
    assert (first.json()["kinds"], first.json()["version"]) == (["referral_submitted", "review_due"], 1)
    assert again.status_code == 409  # an existing choice is changed with the version read
    assert stale.status_code == 409 and stale.json()["current"]["version"] == 1
    assert changed.status_code == 200, changed.text
    assert after == changed.json()
    assert (after["language"], after["kinds"], after["version"]) == ("en", ["review_due"], 2)


async def test_a_partners_person_chooses_among_the_partners_kinds(platform: RunningPlatform, tenant: Tenant) -> None:
    person = platform.token(Role.PARTNER, municipality=tenant.municipality, partner=tenant.partner_a)
    async with platform.client(person) as api:
        available = (await api.get(PATH)).json()["available"]
        review = await api.put(PATH, json={"email": "tech@uwv.example", "kinds": ["review_due"]})
        chosen = await api.put(PATH, json={"email": "tech@uwv.example", "kinds": ["delivery_failed"]})
    assert available == ["referral_submitted", "referral_overdue", "referral_declined", "delivery_failed"]
    assert review.status_code == 422 and "review_due" in review.json()["detail"]
    assert chosen.status_code == 200 and chosen.json()["kinds"] == ["delivery_failed"]


async def test_one_persons_choice_is_not_anothers(platform: RunningPlatform, tenant: Tenant) -> None:
    colleague = platform.token(Role.STAFF, municipality=tenant.municipality, library=tenant.library_a)
    async with platform.client(tenant.staff_b) as api:
        assert (await api.put(PATH, json={"email": "b@bieb.example", "kinds": ["review_due"]})).status_code == 200
    async with platform.client(colleague) as api:
        theirs = (await api.get(PATH)).json()
    assert (theirs["email"], theirs["version"]) == (None, 0)


async def test_a_coordinator_chooses_among_the_municipalitys_notices(platform: RunningPlatform, tenant: Tenant) -> None:
    async with platform.client(tenant.coordinator) as api:
        available = (await api.get(PATH)).json()["available"]
        staffs = await api.put(PATH, json={"email": "c@gemeente.example", "kinds": ["referral_submitted"]})
        chosen = await api.put(PATH, json={"email": "c@gemeente.example", "kinds": ["partnership_ended"]})
    assert available == ["review_due", "partnership_ended", "partner_delivery_failed"]
    assert staffs.status_code == 422 and "referral_submitted" in staffs.json()["detail"]
    assert chosen.status_code == 200 and chosen.json()["kinds"] == ["partnership_ended"]


async def test_who_gets_no_notices_cannot_choose_any(platform: RunningPlatform, tenant: Tenant) -> None:
    async with platform.client(tenant.operator) as api:
        read = await api.get(PATH)
        chosen = await api.put(PATH, json={"email": "x@gemeente.example", "kinds": []})
    assert (read.status_code, chosen.status_code) == (403, 403)


async def test_an_api_key_is_not_a_person_and_chooses_no_notices(platform: RunningPlatform, tenant: Tenant) -> None:
    async with platform.client(tenant.partner_a_token) as api:
        issued = await api.post(
            f"/api/v1/partners/{tenant.partner_a}/api-keys", json={"name": "crm", "scopes": ["referrals:read"]}
        )
    assert issued.status_code == 201, issued.text
    key = issued.json()["key"]
    async with platform.client() as api:
        read = await api.get(PATH, headers={"X-API-Key": key})
        chosen = await api.put(PATH, headers={"X-API-Key": key}, json={"email": "x@uwv.example", "kinds": []})
    assert (read.status_code, chosen.status_code) == (403, 403)


@pytest.mark.parametrize(
    "body",
    [
        {"email": "not-an-address", "kinds": []},
        {"email": "lies@bieb.example\r\nBcc: everyone@example.org", "kinds": []},
        {"email": "lïes@bieb.example", "kinds": []},
        {"email": "lies@bieb.example", "kinds": ["everything"]},
        {"email": "lies@bieb.example", "kinds": ["delivery_failed"]},  # a partner's kind
        {"email": "lies@bieb.example", "kinds": [], "language": "de"},
        {"email": "lies@bieb.example", "kinds": [], "expected_version": 0},
        {"email": "lies@bieb.example"},
        {"email": "lies@bieb.example", "kinds": [], "subject": "someone-else"},
    ],
)
async def test_bad_input_is_refused_and_changes_nothing(
    platform: RunningPlatform, tenant: Tenant, body: dict[str, Any]
) -> None:
    staff = platform.token(Role.STAFF, municipality=tenant.municipality, library=tenant.library_a)
    async with platform.client(staff) as api:
        refused = await api.put(PATH, json=body)
        after = (await api.get(PATH)).json()
    assert refused.status_code in (400, 422), refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert after["version"] == 0


async def test_the_mail_outbox_is_for_operators_only(platform: RunningPlatform, tenant: Tenant) -> None:
    for token in (tenant.staff_a, tenant.coordinator, tenant.partner_a_token):
        async with platform.client(token) as api:
            assert (await api.get("/api/v1/notices/mail")).status_code == 403
    async with platform.client(tenant.operator) as api:
        listed = await api.get("/api/v1/notices/mail", params={"limit": 5})
        too_many = await api.get("/api/v1/notices/mail", params={"limit": 500})
    assert listed.status_code == 200 and len(listed.json()["items"]) <= 5
    assert too_many.status_code == 422


async def newest_mail(platform: RunningPlatform, count: int) -> list[str]:
    """`count` sent messages, newer than any other (a day ahead), two of them at the same instant (the id decides),
    written straight into the outbox: the relay leaves a sent message alone. Their ids, newest first."""
    tag, at = uuid.uuid4().hex[:6], datetime.now(UTC) + timedelta(days=1)
    rows = [
        {
            "id": new_id(),
            "kind": "review_due",
            "cause": f"paging-{tag}-{n}",
            "recipient": f"balie-{tag}-{n}@bieb.example",
            "subject": f"Bericht {tag} {n}",
            "body": "…",
            "language": "nl",
            "trace_context": {},
            "created_at": at + timedelta(seconds=min(n, count - 2)),  # the two newest share their time
            "attempts": 1,
            "next_attempt_at": at,
            "sent_at": at,
        }
        for n in range(count)
    ]
    async with platform.services["partners"].sessions() as session:
        await session.execute(sa.insert(mail_outbox), rows)
        await session.commit()
    ordered = sorted(rows, key=lambda row: (row["created_at"], row["id"]), reverse=True)
    return [str(row["id"]) for row in ordered]


async def test_the_mail_outbox_pages_newest_first_each_message_once(platform: RunningPlatform, tenant: Tenant) -> None:
    mine = await newest_mail(platform, 5)
    m = mail_outbox
    async with platform.services["partners"].sessions() as session:
        before = {str(i) for i in (await session.execute(sa.select(m.c.id))).scalars()}
    pages: list[list[dict[str, Any]]] = []
    cursor: str | None = None
    cursors: list[str] = []
    async with platform.client(tenant.operator) as api:
        while True:
            params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
            found = await api.get("/api/v1/notices/mail", params=params)
            assert found.status_code == 200, found.text
            pages.append(found.json()["items"])
            cursor = found.json().get("next_cursor")
            if not cursor:
                break
            cursors.append(cursor)
            assert len(pages) < 1000, "the pages do not end"
        wrong = ["not-a-cursor", "eyJ", encode_cursor("gisteren", 7), encode_cursor({"a": 1}), encode_cursor(1, 2, 3)]
        wrong.append(encode_cursor("2026-12-04T10:00:00+00:00", "geen-id"))
        bad = [await api.get("/api/v1/notices/mail", params={"cursor": cursor}) for cursor in wrong]
    listed = [item["id"] for page in pages for item in page]
    assert listed[: len(mine)] == mine  # newest first, the tie by id
    assert len(listed) == len(set(listed)) and before <= set(listed)  # every message, once
    order = [(datetime.fromisoformat(item["created_at"]), item["id"]) for page in pages for item in page]
    assert order == sorted(order, reverse=True)  # by (created_at, id), as PostgreSQL orders the uuids
    assert all(len(page) == 2 for page in pages[:-1])
    for refused in bad:  # a cursor this list did not give: a problem, never a 5xx
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
    for token in (tenant.staff_a, tenant.staff_b, tenant.coordinator, tenant.partner_a_token):
        async with platform.client(token) as api:  # no cursor opens it to another tenant
            refused = await api.get("/api/v1/notices/mail", params={"cursor": cursors[0]})
        assert refused.status_code == 403 and mine[0] not in refused.text
