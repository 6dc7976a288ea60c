"""The console shows a referral's consent (to whom, what, until when, its state) and what a party may not see and
why; either side records a revocation from the referral's page, in Dutch and in English."""

from __future__ import annotations

import re
import uuid

from gateway.console.messages import EN, NL
from tests.console.conftest import ConsoleClient, World
from tests.console.seed import referral
from tests.services.referrals.conftest import pooled_tenant
from tests.waiting import eventually


def consent_state(text: str) -> str:
    found = re.search(r'id="referral-consent" data-consent="([a-z_]+)"', text)
    assert found is not None, "the page shows no consent"
    return found.group(1)


def withheld_because(text: str) -> str | None:
    found = re.search(r'id="withheld" data-because="([a-z_]+)"', text)
    return found.group(1) if found else None


async def test_the_library_records_a_revocation_and_both_sides_see_it_and_the_person_no_more(
    console: ConsoleClient, world: World
) -> None:
    async with world.platform.client(world.tenant.partner_a_token) as api:
        made = await api.post(
            "/api/v1/referrals", json=referral(world.tenant.library_a, world.tenant.partner_a, "Sanne Visser")
        )
    referral_id = made.json()["id"]
    await console.sign_in(world.tenant.staff_a)
    page = await console.get(f"/console/referrals/{referral_id}")
    assert consent_state(page.text) == "given"
    assert NL["shared.contact_details"] in page.text and NL["consent_state.given"] in page.text
    assert f"/console/referrals/{referral_id}/revoke-consent" in page.text

    done = await console.post(
        f"/console/referrals/{referral_id}/revoke-consent",
        {"expected_version": "1", "told_at": "2026-11-20T10:30", "told_via": "in_person"},
    )
    assert done.status_code == 303, done.text
    page = await console.get(done.headers["location"])
    assert NL["done.revoke-consent"] in page.text
    assert consent_state(page.text) == "revoked" and 'id="consent-revocation"' in page.text
    assert NL["told_via.in_person"] in page.text
    assert withheld_because(page.text) == "consent_revoked" and "Sanne Visser" not in page.text
    assert "/revoke-consent" not in page.text  # recorded once

    await console.sign_in(world.tenant.partner_a_token)
    console.http.cookies.set("pn_lang", "en")
    theirs = await console.get(f"/console/referrals/{referral_id}")
    assert withheld_because(theirs.text) == "consent_revoked"
    assert EN["withheld.consent_revoked"] in theirs.text and "Sanne Visser" not in theirs.text
    assert EN["consent_state.revoked"] in theirs.text


async def test_a_revocation_told_in_the_future_is_explained_on_the_page(console: ConsoleClient, world: World) -> None:
    async with world.platform.client(world.tenant.partner_a_token) as api:
        made = await api.post(
            "/api/v1/referrals", json=referral(world.tenant.library_a, world.tenant.partner_a, "Bram de Wit")
        )
    referral_id = made.json()["id"]
    await console.sign_in(world.tenant.partner_a_token)
    await console.get(f"/console/referrals/{referral_id}")
    refused = await console.post(
        f"/console/referrals/{referral_id}/revoke-consent",
        {"expected_version": "1", "told_at": "2099-01-01T10:00", "told_via": "phone"},
    )
    assert refused.status_code == 422
    assert consent_state(refused.text) == "given"


async def test_staff_log_a_walk_in_from_the_form_and_see_it_as_such(console: ConsoleClient, world: World) -> None:
    await console.sign_in(world.tenant.staff_a)
    form = await console.get("/console/referrals/new")
    assert 'value="walk_in"' in form.text and NL["arrival.walk_in"] in form.text
    sent = await console.post(
        "/console/referrals",
        {
            "receiving_partner_id": "walk_in",
            "participant_name": "Mila Jansen",
            "needs": ["digital"],
            "reason": "Wil leren videobellen met haar kleinkinderen",
            "preferred_channel": "in_person",
            "contact_person_name": "Mieke van de bibliotheek",
            "consent_given_at": "2026-11-20T10:30",
            "consent_shares": ["contact_details", "reason"],
            "consent_purpose": "hulp bij digitale vaardigheden",
            "consent_valid_until": "2099-01-01",
        },
    )
    assert sent.status_code == 303, sent.text
    referral_id = sent.headers["location"].split("/")[-1].split("?")[0]
    page = await console.get(sent.headers["location"])
    assert 'data-arrival="walk_in"' in page.text and "Mila Jansen" in page.text
    inbox = await console.get("/console/inbox")
    assert f"row-{referral_id}" in inbox.text and NL["arrival.walk_in"] in inbox.text
    await console.sign_in(world.tenant.partner_a_token)
    assert (await console.get(f"/console/referrals/{referral_id}")).status_code == 404


async def test_the_receiving_library_is_told_why_it_sees_no_person_before_accepting(
    console: ConsoleClient, world: World
) -> None:
    async with world.platform.client(world.tenant.partner_a_token) as api:
        made = await api.post(
            "/api/v1/referrals", json=referral(world.tenant.library_a, world.tenant.partner_a, "Kees Brouwer")
        )
    await console.sign_in(world.tenant.staff_a)
    page = await console.get(f"/console/referrals/{made.json()['id']}")
    assert withheld_because(page.text) == "not_accepted" and "Kees Brouwer" not in page.text
    assert NL["withheld.not_accepted"] in page.text


async def test_a_suspended_partner_is_told_it_sees_pseudonyms_only(console: ConsoleClient, world: World) -> None:
    tenant = await pooled_tenant(world.platform)
    async with world.platform.client(tenant.partner_a_token) as api:
        made = await api.post("/api/v1/referrals", json=referral(tenant.library_a, tenant.partner_a, "Anouk Peters"))
    referral_id = made.json()["id"]
    async with world.platform.client(tenant.coordinator) as api:
        assert (await api.post(f"/api/v1/partners/{tenant.partner_a}/suspend", json={})).status_code == 200
    await console.sign_in(tenant.partner_a_token)

    async def told() -> str | None:
        page = await console.get(f"/console/referrals/{referral_id}")
        return page.text if withheld_because(page.text) == "partner_inactive" else None

    page = await eventually(told, what="the suspension to reach the referrals service")
    assert NL["withheld.partner_inactive"] in page and "Anouk Peters" not in page


async def test_a_coordinator_reads_a_referral_without_its_reason_or_other_free_text(
    console: ConsoleClient, world: World
) -> None:
    body = referral(world.tenant.library_a, world.tenant.partner_a, "Joost Smit")
    body["reason"] = "Joost heeft schulden en een zieke moeder"
    async with world.platform.client(world.tenant.partner_a_token) as api:
        made = await api.post("/api/v1/referrals", json=body)
    assert made.status_code == 201, made.text
    await console.sign_in(world.coordinator)
    page = await console.get(f"/console/referrals/{made.json()['id']}")
    assert page.status_code == 200 and made.json()["participant_pseudonym"] in page.text
    assert withheld_because(page.text) == "not_a_party" and NL["withheld.not_a_party"] in page.text
    assert "schulden" not in page.text and "Joost" not in page.text
    assert body["consent"]["purpose"] not in page.text


async def test_a_consent_past_its_last_day_shows_as_expired_to_both_sides(console: ConsoleClient, world: World) -> None:
    from datetime import timedelta

    from services.referrals.commands import consent
    from tests.services.referrals.conftest import now, work_at

    today = now()
    body = referral(world.tenant.library_a, world.tenant.partner_a, "Mila de Boer")
    body["consent"]["valid_until"] = (today + timedelta(days=1)).date().isoformat()
    async with world.platform.client(world.tenant.partner_a_token) as api:
        made = await api.post("/api/v1/referrals", json=body)
    assert made.status_code == 201, made.text
    referral_id = made.json()["id"]
    await console.sign_in(world.tenant.partner_a_token)
    page = await console.get(f"/console/referrals/{referral_id}")
    assert consent_state(page.text) == "given" and "Mila de Boer" in page.text

    work, clock = work_at(world.platform, today)
    clock.advance(timedelta(days=3))  # the deadlines job, on a clock past the consent's last day
    assert await consent.expire_lapsed_consents(work, library=world.tenant.library_a) >= 1
    for token in (world.tenant.partner_a_token, world.tenant.staff_a):
        await console.sign_in(token)
        page = await console.get(f"/console/referrals/{referral_id}")
        assert consent_state(page.text) == "expired" and NL["consent_state.expired"] in page.text
        assert withheld_because(page.text) == "consent_expired" and NL["withheld.consent_expired"] in page.text
        assert "Mila de Boer" not in page.text


async def test_the_referral_form_ticks_no_consent_in_advance_and_a_consent_that_shares_nothing_is_refused(
    console: ConsoleClient, world: World
) -> None:
    """All three were ticked in advance, so a hurried submit recorded a consent to share everything that nobody had
    asked for."""
    await console.sign_in(world.tenant.staff_a)
    form = await console.get("/console/referrals/new")
    boxes = re.findall(r'<input type="checkbox" id="f-consent_shares-[a-z_]+"[^>]*>', form.text)
    assert len(boxes) == 3 and not any(" checked" in box for box in boxes), boxes
    name = f"Sanne {uuid.uuid4().hex[:8]}"
    sent = await console.post(
        "/console/referrals",
        {
            "receiving_partner_id": "walk_in",
            "participant_name": name,
            "needs": ["digital"],
            "reason": "Wil leren videobellen",
            "preferred_channel": "in_person",
            "contact_person_name": "Mieke van de bibliotheek",
            "consent_given_at": "2026-11-20T10:30",
            "consent_purpose": "hulp bij digitale vaardigheden",
            "consent_valid_until": "2099-01-01",
        },
    )
    assert sent.status_code == 422, sent.text
    assert NL["consent.shares"] in sent.text and name in sent.text  # the field named; what was typed kept
    assert name not in (await console.get("/console/inbox")).text
