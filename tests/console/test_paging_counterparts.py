"""Whom a library's staff or a partner may refer to pages through every counterpart (issue 20): the API
(`GET /api/v1/referrals/counterparts?cursor=`) by name, case aside, each once, only the caller's own (another
library's staff and another municipality's never see them, whatever cursor they send), a cursor not of ours a 422;
the new referral's form offers every one over all pages (paging.every, the page size made small here)."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from gateway.console import paging
from shared.clock import local_today
from shared.pagination import encode_cursor
from tests.console.conftest import ConsoleClient, World
from tests.console.seed import ok
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import known_to_referrals, record_agreements, register_tenant
from tests.waiting import eventually


async def counterparts(platform: RunningPlatform, token: str, limit: int, cursor: str | None = None) -> list[Any]:
    """Every page from `cursor` on, `limit` at a time: each page's items."""
    pages: list[Any] = []
    async with platform.client(token) as api:
        while True:
            params: dict[str, Any] = {"limit": limit} | ({"cursor": cursor} if cursor else {})
            found = await api.get("/api/v1/referrals/counterparts", params=params)
            assert found.status_code == 200, found.text
            pages.append(found.json()["items"])
            cursor = found.json().get("next_cursor")
            if not cursor:
                return pages
            assert len(pages) < 50, "the pages do not end"


def offered(page: str) -> set[str]:
    found = re.search(r'<select id="f-receiving_partner_id".*?</select>', page, re.S)
    assert found is not None, "no select of partners"
    return set(re.findall(r'<option value="([0-9a-f-]{36})"', found.group(0)))


async def test_counterparts_page_by_name_each_once_and_only_the_callers_own(
    console: ConsoleClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    platform = world.platform
    tenant = await register_tenant(platform)  # the municipality's agreement with its two partners
    tag = uuid.uuid4().hex[:6]
    names = [f"charlie {tag}", f"Alfa {tag}", f"bravo {tag}", f"Delta {tag}"]  # the case must not decide
    made: dict[str, str] = {}
    async with platform.client(tenant.operator) as operator:
        for name in names:
            body = {"name": name, "kind": "referrer", "municipality": tenant.municipality}
            made[name] = (await ok(await operator.post("/api/v1/partners", json=body)))["id"]
    await known_to_referrals(platform, [tenant.library_a, tenant.library_b], list(made.values()))
    await record_agreements(platform, tenant.coordinator, [made[name] for name in names[:3]])
    delta = made[f"Delta {tag}"]  # only library b's partner, through a partnership of theirs
    async with platform.client(tenant.staff_b) as staff:
        terms: dict[str, Any] = {
            "library": tenant.library_b,
            "partner_id": delta,
            "roles": ["referrer"],
            "library_contributions": ["location"],
            "partner_contributions": ["recruitment"],
            "starts_on": local_today().isoformat(),
        }
        partnership = await ok(await staff.post("/api/v1/partnerships", json=terms))
        await ok(await staff.post(f"/api/v1/partnerships/{partnership['id']}/activate"))

    async def b_reaches_delta() -> bool:
        return any(c["partner_id"] == delta for page in await counterparts(platform, tenant.staff_b, 200) for c in page)

    await eventually(b_reaches_delta, what="the partnership known to the referrals service")

    pages = await counterparts(platform, tenant.staff_a, 2)
    listed = [(c["name"], c["partner_id"]) for page in pages for c in page]
    expected = sorted(
        [(name, made[name]) for name in names[:3]]
        + [
            (f"UWV {tenant.library_a[5:13]}", tenant.partner_a),
            (f"Sociaal Team {tenant.library_a[5:13]}", tenant.partner_b),
        ],
        key=lambda pair: (pair[0].lower(), pair[1]),
    )
    assert listed == expected  # by name, case aside, each once
    assert [len(page) for page in pages] == [2, 2, 1]
    assert all(c["through"] == ["agreement"] for page in pages for c in page)
    b_pages = await counterparts(platform, tenant.staff_b, 2)
    b_listed = [c["partner_id"] for page in b_pages for c in page]
    assert len(b_listed) == len(set(b_listed)) == 6 and delta in b_listed
    assert [c["through"] for page in b_pages for c in page if c["partner_id"] == delta] == [["partnership"]]

    # Another library's list is not read with a cursor of it: staff a's own list goes on from where it points.
    async with platform.client(tenant.staff_b) as api:
        first = (await api.get("/api/v1/referrals/counterparts", params={"limit": 2})).json()
    after = [
        c["partner_id"] for page in await counterparts(platform, tenant.staff_a, 2, first["next_cursor"]) for c in page
    ]
    assert delta not in after and set(after) < {pair[1] for pair in expected}
    elsewhere = await register_tenant(platform)  # another municipality: none of these
    theirs = [c["partner_id"] for page in await counterparts(platform, elsewhere.staff_a, 2) for c in page]
    assert sorted(theirs) == sorted([elsewhere.partner_a, elsewhere.partner_b])
    libraries = await counterparts(platform, tenant.partner_a_token, 1)  # a partner: the libraries, a page each
    assert [[c["library"] for c in page] for page in libraries] == [[tenant.library_a], [tenant.library_b]]
    async with platform.client(tenant.staff_a) as api:
        for cursor in ("not-a-cursor", encode_cursor("alfa"), encode_cursor("alfa", "geen-id"), encode_cursor(1, 2, 3)):
            refused = await api.get("/api/v1/referrals/counterparts", params={"cursor": cursor})
            assert refused.status_code == 422, refused.text
            assert refused.headers["content-type"].startswith("application/problem+json")
        async with platform.client(tenant.coordinator) as coordinator:
            assert (await coordinator.get("/api/v1/referrals/counterparts")).status_code == 403

    monkeypatch.setattr(paging, "PAGE", 1)  # the form offers every counterpart, over five pages of one
    await console.sign_in(tenant.staff_a)
    form = await console.get("/console/referrals/new")
    assert offered(form.text) == {pair[1] for pair in expected} and 'id="cut-' not in form.text
    monkeypatch.setattr(paging, "OPTIONS_BOUND", 2)  # more than the bound: the form says it is cut short
    form = await console.get("/console/referrals/new")
    assert len(offered(form.text)) == 2 and 'id="cut-receiving_partner_id"' in form.text
