"""A partner's invitations to quote, in the console (issue 20, audit): its people see what a library invited it to
quote for and give a quote (amount in euros as people type it); a partner not invited cannot, and staff get no
page."""

from __future__ import annotations

import html
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from litestar.datastructures import FormMultiDict

from gateway.console import paging
from gateway.console.messages import EN, NL
from gateway.console.quotes import cents
from shared.errors import InvalidInput
from tests.console.conftest import ConsoleClient, World
from tests.console.paging_support import every_once, walk
from tests.console.seed import YEAR, ok, subject_of
from tests.console.test_browser import people  # noqa: F401  - the browser sessions fixture
from tests.console.test_offer_paging import library_of_its_own

PAGE = 2
CARD = re.compile(r'<section aria-labelledby="h-purchase-[0-9a-f-]{36}" class="card" id="purchase-([0-9a-f-]{36})">')


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("1.250,50", 125050), ("1250.50", 125050), ("1250", 125000), ("€ 99,5", 9950), ("1 250,00", 125000), ("", None)],
)
def test_an_amount_is_read_as_people_type_it(typed: str, expected: int | None) -> None:
    assert cents(FormMultiDict({"amount": typed}), "amount") == expected


@pytest.mark.parametrize("typed", ["veel", "12,345", "-5", "1.2.3,4,5"])
def test_what_is_no_amount_is_refused(typed: str) -> None:
    with pytest.raises(InvalidInput):
        cents(FormMultiDict({"amount": typed}), "amount")


async def invitation(world: World) -> tuple[str, str]:
    """A purchase of library A to which partner B is invited to quote."""
    title = f"Training digitaal {uuid.uuid4().hex[:6]}"
    async with world.platform.client(world.tenant.staff_a) as staff:
        body = {
            "title": title,
            "purpose": "Vrijwilligers leren helpen met DigiD",
            "audience": ["volunteers"],
            "estimated_cost_cents": 90_000,
            "budget_year": YEAR,
        }
        made = await staff.post("/api/v1/purchases", json=body)
        assert made.status_code == 201, made.text
        invited = await staff.post(
            f"/api/v1/purchases/{made.json()['id']}/invitations", json={"partner_id": world.tenant.partner_b}
        )
        assert invited.status_code == 200, invited.text
    return str(made.json()["id"]), title


async def provider_view(world: World, purchase_id: str) -> dict[str, Any]:
    async with world.platform.client(world.tenant.partner_b_token) as api:
        found = await api.get(f"/api/v1/partners/{world.tenant.partner_b}/purchases/{purchase_id}")
    assert found.status_code == 200, found.text
    return dict(found.json())


async def test_an_invited_partner_gives_a_quote(console: ConsoleClient, world: World) -> None:
    purchase_id, title = await invitation(world)
    await console.sign_in(world.tenant.partner_b_token)
    page = await console.get("/console/quotes")
    assert page.status_code == 200, page.text
    assert 'href="/console/quotes"' in page.text and title in page.text and NL["standing.invited"] in page.text
    assert world.tenant.library_a in page.text  # by slug: a partner sees the names of its partnerships' libraries only
    refused = await console.post(f"/console/quotes/{purchase_id}", {"amount": "veel", "description": "Twee dagdelen"})
    assert refused.status_code == 422 and 'value="veel"' in refused.text and "Twee dagdelen" in refused.text
    assert (await provider_view(world, purchase_id))["quotes"] == []
    quoted = await console.post(
        f"/console/quotes/{purchase_id}",
        {"amount": "1.250,50", "description": "Twee dagdelen", "valid_until": "2099-12-31"},
    )
    assert quoted.status_code == 303, quoted.text
    after = await console.get(quoted.headers["location"])
    assert NL["done.quote_submitted"] in after.text and "€ 1.250,50" in after.text
    view = await provider_view(world, purchase_id)
    assert view["standing"] == "quoted" and [q["amount_cents"] for q in view["quotes"]] == [125050]
    await console.post("/console/language", {"lang": "en", "next": "/console/quotes"})
    english = await console.get("/console/quotes")
    assert EN["quotes.title"] in english.text and "€1,250.50" in english.text


async def test_a_partner_not_invited_cannot_quote_and_staff_get_no_page(console: ConsoleClient, world: World) -> None:
    purchase_id, title = await invitation(world)
    await console.sign_in(world.tenant.partner_a_token)
    page = await console.get("/console/quotes")
    assert page.status_code == 200 and title not in page.text
    refused = await console.post(f"/console/quotes/{purchase_id}", {"amount": "1,00"})
    assert refused.status_code in (403, 404), refused.status_code
    await console.sign_in(world.tenant.staff_a)
    assert (await console.get("/console/quotes")).status_code == 403
    await console.get("/console/inbox")
    assert (await console.post(f"/console/quotes/{purchase_id}", {"amount": "1,00"})).status_code == 403
    assert (await provider_view(world, purchase_id))["quotes"] == []


async def test_in_chromium_a_partner_quotes_with_the_keyboard_free_of_axe_violations(
    people: Any,  # noqa: F811  - the fixture imported above
    world: World,
    artifacts: Path,
) -> None:
    purchase_id, title = await invitation(world)
    partner = await people(world.tenant.partner_b_token, bypass_csp=True)
    await partner.goto("/console/inbox")
    await partner.page.get_by_role("link", name=NL["nav.quotes"], exact=True).click()
    await partner.page.get_by_role("heading", name=title).wait_for()
    assert await partner.axe() == []
    section = partner.page.locator(f"#purchase-{purchase_id}")
    await section.get_by_label(NL["quotes.amount"]).fill("750")
    await section.get_by_role("button", name=NL["quotes.submit"]).focus()
    await partner.page.keyboard.press("Enter")
    await partner.page.get_by_text(NL["done.quote_submitted"]).wait_for()
    await partner.page.screenshot(path=str(artifacts / "partner-quotes.png"), full_page=True)
    assert await partner.axe() == []
    assert [q["amount_cents"] for q in (await provider_view(world, purchase_id))["quotes"]] == [75000]


async def test_a_partner_pages_through_every_invitation(
    console: ConsoleClient,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
    people: Any,  # noqa: F811  - the fixture imported above
) -> None:
    """More invitations than a page holds (paging.PAGE made small): each once over the pages by the API's cursor,
    newest first; a cursor not of ours shows the first page; a later page passes axe in Chromium (issue 20)."""
    monkeypatch.setattr(paging, "PAGE", PAGE)
    mine = await library_of_its_own(world)
    tenant = mine.tenant
    body = {"purpose": "Tablets", "audience": ["seniors"], "estimated_cost_cents": 100, "budget_year": YEAR}
    async with world.platform.client(mine.coordinator) as coordinator:
        holder = {"subject": subject_of(tenant.staff_a)}
        await ok(await coordinator.post(f"/api/v1/budget-holders/{tenant.library_a}", json=holder))
    async with world.platform.client(tenant.staff_a) as staff:
        await ok(await staff.put(f"/api/v1/budgets/{tenant.library_a}/{YEAR}", json={"amount_cents": 10_000}))
        invited = []
        for n in range(2 * PAGE + 1):
            made = await ok(await staff.post("/api/v1/purchases", json=body | {"title": f"Inkoop {n}"}))
            invite = {"partner_id": tenant.partner_b}
            await ok(await staff.post(f"/api/v1/purchases/{made['id']}/invitations", json=invite))
            invited.append(str(made["id"]))
    await console.sign_in(tenant.partner_b_token)

    def shown(page: str) -> list[str]:
        return CARD.findall(page)

    pages, visited = await walk(console, "/console/quotes", "next-purchases", shown)
    assert [len(page) for page in pages] == [2, 2, 1] and set(every_once(pages)) == set(invited)
    typo = await console.get("/console/quotes?cursor=not-a-cursor")  # not ours: the first page
    assert typo.status_code == 200 and shown(typo.text) == pages[0]
    later = (await console.get(visited[1])).text  # a mistake in a later page's form: that page again, with it
    here = re.search(r'name="cursor" value="([^"]+)"', later)
    assert here is not None  # the form says which page it is on
    typed = {"amount": "veel", "cursor": html.unescape(here.group(1))}
    refused = await console.post(f"/console/quotes/{pages[1][0]}", typed)
    assert refused.status_code == 422 and shown(refused.text) == pages[1] and 'value="veel"' in refused.text

    partner = await people(tenant.partner_b_token, bypass_csp=True)
    await partner.goto(visited[1])
    await partner.page.get_by_role("link", name=NL["inbox.first_page"]).wait_for()
    assert await partner.page.get_by_role("navigation", name=NL["quotes.pages"]).count() == 1
    assert await partner.axe() == []
