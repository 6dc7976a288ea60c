"""The municipality's referral agreements as a console page (issue 14): the coordinator records one with a partner,
sees it in force and ends it; the new-referral form then offers (and no longer offers) what the agreement reaches,
for the library's staff and for the partner; the libraries' staff read the agreements; a partner, another
municipality's coordinator, a stale or unknown agreement and bad input are refused and change nothing."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from gateway.console.messages import EN, NL
from tests.console.conftest import ConsoleClient, World
from tests.console.test_browser import people  # noqa: F401  - the browser sessions fixture
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant, register_tenant


@pytest.fixture
async def unpartnered(platform: RunningPlatform) -> Tenant:
    """A municipality whose partners have no partnership and no agreement yet."""
    return await register_tenant(platform, agreements=False)


def options(html: str, select: str) -> dict[str, str]:
    found = re.search(rf'<select id="f-{select}".*?</select>', html, re.S)
    assert found is not None, f"no select {select} on the page"
    return {value: name for value, name in re.findall(r'<option value="([^"]+)"[^>]*>([^<]*)</option>', found.group(0))}


def offered(html: str) -> dict[str, str]:
    """Whom the new-referral form offers to refer to (libraries for a partner, partners for staff)."""
    for select in ("library", "receiving_partner_id"):
        if f'id="f-{select}"' in html:
            found = re.search(rf'<select id="f-{select}".*?</select>', html, re.S)
            assert found is not None
            choices = re.findall(r'<option value="([^"]+)"[^>]*>([^<]*)</option>', found.group(0).split("<optgroup")[0])
            return dict(choices)
    raise AssertionError("no new-referral form")


def row_of(html: str, agreement_id: str) -> str:
    found = re.search(rf'<tr id="agreement-{agreement_id}" data-status="([a-z_]+)".*?</tr>', html, re.S)
    assert found is not None, f"agreement {agreement_id} not on the page"
    return found.group(0)


async def agreements(platform: RunningPlatform, token: str) -> list[dict[str, Any]]:
    async with platform.client(token) as api:
        response = await api.get("/api/v1/referrals/agreements")
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def test_the_coordinator_records_and_ends_an_agreement_and_the_referral_forms_follow(
    console: ConsoleClient, platform: RunningPlatform, unpartnered: Tenant
) -> None:
    tenant = unpartnered
    await console.sign_in(tenant.staff_a)
    assert tenant.partner_a not in offered((await console.get("/console/referrals/new")).text)
    await console.sign_in(tenant.partner_a_token)
    assert offered((await console.get("/console/referrals/new")).text) == {}

    await console.sign_in(tenant.coordinator)
    page = await console.get("/console/agreements")
    assert page.status_code == 200 and NL["agreements.title"] in page.text and NL["nav.agreements"] in page.text
    assert NL["agreements.none_in_force"] in page.text
    assert set(options(page.text, "partner_id")) == {tenant.partner_a, tenant.partner_b}
    recorded = await console.post("/console/agreements", {"partner_id": tenant.partner_a, "note": "convenant 2026"})
    assert recorded.status_code == 303, recorded.text
    page = await console.get(recorded.headers["location"])
    assert NL["done.agreement_recorded"] in page.text
    (agreement,) = await agreements(platform, tenant.coordinator)
    assert (agreement["partner_id"], agreement["note"], agreement["status"]) == (
        tenant.partner_a,
        "convenant 2026",
        "in_force",
    )
    row = row_of(page.text, agreement["id"])
    assert 'data-status="in_force"' in row and "UWV" in row and "convenant 2026" in row
    assert tenant.partner_a not in options(page.text, "partner_id")  # one in force per partner

    # The forms offer what the agreement reaches: that partner to each library's staff, every library to it.
    await console.sign_in(tenant.staff_b)
    choices = offered((await console.get("/console/referrals/new")).text)
    assert tenant.partner_a in choices and tenant.partner_b not in choices
    await console.sign_in(tenant.partner_a_token)
    choices = offered((await console.get("/console/referrals/new")).text)
    assert {tenant.library_a, tenant.library_b} <= set(choices)
    async with platform.client(tenant.partner_a_token) as api:
        reachable = (await api.get("/api/v1/referrals/counterparts")).json()["items"]
    assert sorted((c["library"], c["through"]) for c in reachable) == [
        (tenant.library_a, ["agreement"]),
        (tenant.library_b, ["agreement"]),
    ]

    await console.sign_in(tenant.coordinator)
    await console.get("/console/agreements")
    ended = await console.post(f"/console/agreements/{agreement['id']}/end")
    assert ended.status_code == 303, ended.text
    page = await console.get(ended.headers["location"])
    assert NL["done.agreement_ended"] in page.text and 'data-status="ended"' in row_of(page.text, agreement["id"])
    assert (await agreements(platform, tenant.coordinator))[0]["status"] == "ended"
    again = await console.post(f"/console/agreements/{agreement['id']}/end")
    assert again.status_code == 409 and "agreement has ended already" in again.text
    await console.sign_in(tenant.partner_a_token)
    assert offered((await console.get("/console/referrals/new")).text) == {}
    await console.sign_in(tenant.staff_a)
    assert tenant.partner_a not in offered((await console.get("/console/referrals/new")).text)


async def test_staff_read_the_agreements_and_nobody_else_records_or_ends_one(
    console: ConsoleClient, platform: RunningPlatform, unpartnered: Tenant, elsewhere: Tenant
) -> None:
    tenant = unpartnered
    async with platform.client(tenant.coordinator) as api:
        made = await api.post("/api/v1/referrals/agreements", json={"partner_id": tenant.partner_b})
    assert made.status_code == 201, made.text
    agreement = made.json()

    await console.sign_in(tenant.staff_a)
    console.http.cookies.set("pn_lang", "en")
    page = await console.get("/console/agreements")
    assert page.status_code == 200 and EN["agreements.show_in_force"] in page.text
    assert 'href="/console/agreements"' in page.text and EN["nav.agreements"] in page.text  # in the staff's menu
    assert 'data-status="in_force"' in row_of(page.text, agreement["id"])
    assert 'id="record-agreement"' not in page.text and "/end" not in page.text  # read only
    refused = await console.post("/console/agreements", {"partner_id": tenant.partner_a})
    assert refused.status_code == 403
    assert (await console.post(f"/console/agreements/{agreement['id']}/end")).status_code == 403

    await console.sign_in(tenant.partner_a_token)
    assert (await console.get("/console/agreements")).status_code == 403

    await console.sign_in(elsewhere.coordinator)
    await console.get("/console/agreements")
    assert row_of_absent((await console.get("/console/agreements?status=all")).text, agreement["id"])
    assert (await console.post(f"/console/agreements/{agreement['id']}/end")).status_code == 404
    assert (await console.post("/console/agreements", {"partner_id": tenant.partner_a})).status_code == 404

    await console.sign_in(tenant.coordinator)
    await console.get("/console/agreements")
    bad = await console.post("/console/agreements", {"partner_id": "not-a-partner"})
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.text
    twice = await console.post("/console/agreements", {"partner_id": tenant.partner_b})
    assert twice.status_code == 409
    unknown = await console.get("/console/agreements?status=whatever")
    assert unknown.status_code == 422
    assert [a["status"] for a in await agreements(platform, tenant.coordinator)] == ["in_force"]
    assert (await agreements(platform, elsewhere.coordinator)) == [] or all(
        a["partner_id"] != tenant.partner_a for a in await agreements(platform, elsewhere.coordinator)
    )


def row_of_absent(html: str, agreement_id: str) -> bool:
    return f'id="agreement-{agreement_id}"' not in html


async def test_in_chromium_the_coordinator_records_and_ends_an_agreement_free_of_axe_violations(
    people: Any,  # noqa: F811  - the fixture imported above
    world: World,
    artifacts: Path,
) -> None:
    coordinator = await people(world.coordinator, bypass_csp=True)
    await coordinator.goto("/console/overview")
    await coordinator.page.get_by_role("link", name=NL["nav.agreements"], exact=True).click()
    await coordinator.page.get_by_role("heading", name=NL["agreements.title"], level=1).wait_for()
    await coordinator.page.screenshot(path=str(artifacts / "coordinator-agreements.png"), full_page=True)
    assert await coordinator.axe() == []
    # The world's partners both have an agreement in force: end one with the keyboard, then record it again.
    row = coordinator.page.locator("#agreements tbody tr[data-status=in_force]").first
    await row.get_by_role("button").focus()
    await coordinator.page.keyboard.press("Enter")
    await coordinator.page.get_by_text(NL["done.agreement_ended"]).wait_for()
    assert await coordinator.axe() == []
    await coordinator.page.get_by_label(NL["agreements.partner"]).select_option(index=1)
    await coordinator.page.get_by_label(NL["agreements.note"]).fill("opnieuw afgesproken")
    await coordinator.page.get_by_role("button", name=NL["agreements.record_button"], exact=True).focus()
    await coordinator.page.keyboard.press("Enter")
    await coordinator.page.get_by_text(NL["done.agreement_recorded"]).wait_for()
    assert await coordinator.page.locator("#agreements tbody tr[data-status=in_force]").count() == 2
    assert await coordinator.axe() == []
