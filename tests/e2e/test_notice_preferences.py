"""A person's choice of notices over HTTP (issue 20): staff and partners' people read and set their own, with
versions; everybody else, and every bad input, is refused and changes nothing. The mail outbox is for operators."""

from __future__ import annotations

from typing import Any

import pytest

from shared.tenancy import Role
from tests.conftest import RunningPlatform, Tenant
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
