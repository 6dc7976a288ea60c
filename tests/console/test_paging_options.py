"""A form's option list offers every option (issue 20), read over all the API's pages with its cursor (paging.every,
the page size made small here): the new referral's counterparts, the new partnership's partners, the purchase's
partner to invite; and a partner's names of libraries reach past the first page of its partnerships."""

from __future__ import annotations

import re
import uuid

import pytest

from gateway.console import paging
from shared.clock import local_today
from shared.tenancy import Role
from tests.console.conftest import ConsoleClient, World
from tests.console.paging_support import every_once, section, walk
from tests.console.seed import YEAR, ok, referral, subject_of
from tests.fixtures.tenants import known_to_referrals, register_tenant
from tests.services.courses.support import courses_know
from tests.waiting import eventually

UUID = "[0-9a-f-]{36}"


def options(page: str, select_id: str) -> set[str]:
    found = re.search(rf'<select id="{select_id}".*?</select>', page, re.S)
    assert found is not None, f"no select {select_id}"
    return set(re.findall(r'<option value="([^"]+)"', found.group(0)))


async def test_every_option_past_the_first_page_is_offered(
    console: ConsoleClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = await register_tenant(world.platform, agreements=False)  # counterparts through partnerships only
    await courses_know(world.platform, tenant)
    tag = uuid.uuid4().hex[:6]
    partners: list[str] = []
    async with world.platform.client(tenant.operator) as operator, world.platform.client(tenant.staff_a) as staff:
        for n in range(3):
            named = {"name": f"Partner {tag} {n}", "kind": "referrer", "municipality": tenant.municipality}
            partners.append((await ok(await operator.post("/api/v1/partners", json=named)))["id"])
        for library, partner in [(tenant.library_a, p) for p in partners] + [(tenant.library_b, partners[0])]:
            token = world.platform.token(Role.STAFF, municipality=tenant.municipality, library=library)
            async with world.platform.client(token) as api:
                body = {
                    "library": library,
                    "partner_id": partner,
                    "roles": ["referrer"],
                    "library_contributions": ["location"],
                    "partner_contributions": ["recruitment"],
                    "starts_on": local_today().isoformat(),
                }
                made = await ok(await api.post("/api/v1/partnerships", json=body))
                await ok(await api.post(f"/api/v1/partnerships/{made['id']}/activate"))
        async with world.platform.client(tenant.coordinator) as coordinator:  # a budget for the purchase
            holder = {"subject": subject_of(tenant.staff_a)}
            await ok(await coordinator.post(f"/api/v1/budget-holders/{tenant.library_a}", json=holder))
        await ok(await staff.put(f"/api/v1/budgets/{tenant.library_a}/{YEAR}", json={"amount_cents": 500_000}))
        wanted = {"title": f"Cursus {tag}", "purpose": "Tablets", "audience": ["seniors"], "estimated_cost_cents": 600}
        purchase = await ok(await staff.post("/api/v1/purchases", json=wanted | {"budget_year": YEAR}))
    monkeypatch.setattr(paging, "PAGE", 1)
    await console.sign_in(tenant.staff_a)

    form = await console.get("/console/referrals/new")
    assert set(partners) <= options(form.text, "f-receiving_partner_id")
    assert not {tenant.partner_a, tenant.partner_b} & options(form.text, "f-receiving_partner_id")
    form = await console.get("/console/network/partnerships/new")
    assert set(partners) | {tenant.partner_a, tenant.partner_b} <= options(form.text, "f-partner_id")
    form = await console.get(f"/console/purchases/{purchase['id']}")
    assert set(partners) | {tenant.partner_a, tenant.partner_b} <= options(form.text, "f-invite-partner_id")
    assert 'id="cut-' not in form.text

    # A partner with partnerships in two libraries names both, the second past the first page of partnerships.
    await known_to_referrals(world.platform, [tenant.library_a, tenant.library_b], [partners[0]])
    token = world.platform.token(Role.PARTNER, municipality=tenant.municipality, partner=partners[0])
    async with world.platform.client(token) as referrer:
        for library in (tenant.library_a, tenant.library_b):

            async def submitted(library: str = library) -> bool:
                made = await referrer.post("/api/v1/referrals", json=referral(library, partners[0], f"Deelnemer {tag}"))
                return made.status_code == 201

            await eventually(submitted, what=f"a referral to {library}")
    await console.sign_in(token)
    # The inbox pages a referral at a time here too (paging.PAGE): the names on each of its pages.
    pages, _ = await walk(console, "/console/inbox", "next-outgoing", lambda page: [section(page, "h-outgoing")])
    inbox = "".join(every_once(pages))
    assert len(pages) == 2
    for library in (tenant.library_a, tenant.library_b):
        assert f"<td>Bibliotheek {library}</td>" in inbox and f"<td>{library}</td>" not in inbox

    monkeypatch.setattr(paging, "OPTIONS_BOUND", 2)  # more partners than the bound: the form says so
    await console.sign_in(tenant.staff_a)
    form = await console.get("/console/network/partnerships/new")
    assert len(options(form.text, "f-partner_id") - {""}) == 2 and 'id="cut-partner_id"' in form.text
