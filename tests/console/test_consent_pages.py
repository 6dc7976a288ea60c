"""The console shows a referral's consent (to whom, what, until when, its state) and what a party may not see and
why; either side records a revocation from the referral's page, in Dutch and in English."""

from __future__ import annotations

import re

from gateway.console.messages import EN, NL
from tests.console.conftest import ConsoleClient, World
from tests.console.seed import referral


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
