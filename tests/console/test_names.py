"""Names where people expect names: the console's lists and pages show a library's and a partner's registered
name, not its slug or id (the test tenant names library `x` "Bibliotheek x")."""

from __future__ import annotations

import re

from gateway.console.messages import NL
from tests.console.conftest import ConsoleClient, World
from tests.console.seed import seed_partnership
from tests.fixtures.tenants import register_tenant
from tests.waiting import eventually


def library_name(slug: str) -> str:
    return f"Bibliotheek {slug}"


async def test_a_partners_inbox_and_referral_page_name_the_library(console: ConsoleClient, world: World) -> None:
    library = world.tenant.library_a
    await console.sign_in(world.tenant.partner_a_token)
    inbox = await console.get("/console/inbox")
    assert inbox.status_code == 200
    assert f"<td>{library_name(library)}</td>" in inbox.text
    assert f"<td>{library}</td>" not in inbox.text
    row = re.search(r'href="/console/referrals/([0-9a-f-]{36})"', inbox.text)
    assert row is not None
    page = await console.get(f"/console/referrals/{row.group(1)}")
    assert library_name(library) in page.text
    assert f"<dd>{library}</dd>" not in page.text


async def test_staff_see_the_partner_and_their_library_by_name(console: ConsoleClient, world: World) -> None:
    async with world.platform.client(world.tenant.staff_a) as api:
        partner = (await api.get(f"/api/v1/partners/{world.tenant.partner_a}")).json()
    library = world.tenant.library_a
    await console.sign_in(world.tenant.staff_a)
    inbox = await console.get("/console/inbox")
    assert f"<td>{partner['name']}</td>" in inbox.text
    assert f"<td>{library_name(library)}</td>" in inbox.text
    volunteers = await console.get("/console/volunteers")
    assert f"<td>{library_name(library)}</td>" in volunteers.text and f"<td>{library}</td>" not in volunteers.text
    purchases = await console.get("/console/purchases")
    assert f"<td>{library_name(library)}</td>" in purchases.text
    assert f'<th scope="row">{library_name(library)}</th>' in purchases.text
    overview = await console.get("/console/overview")
    lead = re.search(r'<p class="lead">(.*?)</p>', overview.text, re.S)
    assert lead is not None and library_name(library) in lead.group(1)


async def test_the_network_names_the_libraries(console: ConsoleClient, world: World) -> None:
    library = world.tenant.library_a
    await console.sign_in(world.coordinator)
    page = await console.get("/console/network")
    assert page.status_code == 200
    assert f"<td>{library_name(library)}</td>" in page.text and f"<td>{library}</td>" not in page.text
    assert f"<li>{library_name(library)}: " in page.text


async def test_a_partnership_carries_its_librarys_name_in_the_api(world: World) -> None:
    async with world.platform.client(world.tenant.partner_a_token) as api:
        found = await api.get("/api/v1/partnerships")
    assert found.status_code == 200
    assert {p["library_name"] for p in found.json()["items"]} == {library_name(world.tenant.library_a)}


async def test_the_new_referral_form_chooses_from_the_active_partnerships(console: ConsoleClient, world: World) -> None:
    # A municipality without referral agreements: only partnerships reach a library (tests/console/test_agreements.py
    # shows what an agreement adds).
    tenant = await register_tenant(world.platform, agreements=False)
    async with world.platform.client(tenant.staff_a) as staff:
        await seed_partnership(staff, tenant.library_a, tenant.partner_a)

    async def offered() -> str | None:
        await console.sign_in(tenant.partner_a_token)
        form = await console.get("/console/referrals/new")
        return form.text if f'value="{tenant.library_a}"' in form.text else None

    text = await eventually(offered, what="the partnership to reach the referral form")
    assert f'<option value="{tenant.library_a}">{library_name(tenant.library_a)}</option>' in text
    assert f'value="{tenant.library_b}"' not in text  # no partnership with library B
    assert 'name="library" type="text"' not in text  # chosen, never typed
    await console.sign_in(tenant.staff_a)
    form = await console.get("/console/referrals/new")
    assert f'value="{tenant.partner_a}"' in form.text and f'value="{tenant.partner_b}"' not in form.text
    await console.sign_in(tenant.partner_b_token)  # no active partnership: nothing to choose, and told why
    form = await console.get("/console/referrals/new")
    assert NL["submit.no_counterparts_partner"] in form.text
    assert f'value="{tenant.library_a}"' not in form.text
