"""The staff's review lists page like every other console list (gateway/console/paging.py): the referral agreements,
the possible duplicates and the access log each show a page, lead to the next by the API's cursor (keeping the
page's filter) and back to the first, show every row once, and show the first page for a cursor not of the API."""

from __future__ import annotations

import re
import uuid

import pytest

from gateway.console import paging
from tests.console.conftest import ConsoleClient, World
from tests.console.paging_support import every_once, section, walk
from tests.console.test_access_log import pseudonym_of, rows_of
from tests.console.test_duplicates import flagged
from tests.console.test_participant_tools import refer


@pytest.fixture(autouse=True)
def one_a_page(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(paging, "PAGE", 1)


async def test_agreements_and_duplicates_page_by_the_apis_cursor_and_keep_their_filter(
    console: ConsoleClient, world: World
) -> None:
    warnings = {(await flagged(world))[2] for _ in range(2)}
    await console.sign_in(world.tenant.staff_a)

    def agreement_rows(page: str) -> list[str]:
        return re.findall(r'<tr id="agreement-([0-9a-f-]+)"', section(page, "h-agreements"))

    async with world.platform.client(world.tenant.staff_a) as api:
        in_force = (await api.get("/api/v1/referrals/agreements", params={"status": "in_force"})).json()["items"]
    assert len(in_force) >= 2  # the tenant's partners each have one
    pages, visited = await walk(console, "/console/agreements?status=in_force", "next-agreements", agreement_rows)
    assert all(len(page) == 1 for page in pages)
    assert set(every_once(pages)) == {a["id"] for a in in_force}
    assert all(address.startswith("/console/agreements?status=in_force&cursor=") for address in visited[1:])

    def warning_rows(page: str) -> list[str]:
        return re.findall(r'<tr id="warning-([0-9a-f-]+)"', section(page, "h-warnings"))

    pages, visited = await walk(console, "/console/duplicates?decision=all", "next-warnings", warning_rows)
    assert all(len(page) == 1 for page in pages) and warnings <= set(every_once(pages))
    assert all(address.startswith("/console/duplicates?decision=all&cursor=") for address in visited[1:])
    typo = await console.get("/console/duplicates?decision=all&cursor=not-a-cursor")  # not ours: the first page
    assert typo.status_code == 200 and warning_rows(typo.text) == pages[0]


async def test_the_access_log_pages_by_the_apis_cursor(console: ConsoleClient, world: World) -> None:
    referral_id = await refer(world, f"Paula Pagina {uuid.uuid4().hex[:6]}", accept=True)
    for _ in range(2):
        await pseudonym_of(world, referral_id)  # a read of the participant by the library's staff, logged
    await console.sign_in(world.tenant.staff_a)
    async with world.platform.client(world.tenant.staff_a) as api:
        logged = (await api.get("/api/v1/referrals/access-log", params={"limit": 200})).json()
    assert len(logged["items"]) >= 2

    def reads(page: str) -> list[str]:
        return rows_of(page)

    pages, visited = await walk(console, "/console/access-log?of=referrals", "next-reads", reads)
    assert all(len(page) == 1 for page in pages) and len(pages) >= len(logged["items"])
    assert all(address.startswith("/console/access-log?of=referrals&cursor=") for address in visited[1:])
    typo = await console.get("/console/access-log?cursor=%25%25%25")  # not ours: the first page
    assert typo.status_code == 200 and reads(typo.text) == pages[0]
