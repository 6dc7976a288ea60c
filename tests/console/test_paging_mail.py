"""The operator's mail outbox in the console pages through every message (issue 20), newest first, with the API's
own cursor (`GET /api/v1/notices/mail?cursor=`; paging.PAGE made small here): each message shows once, a cursor not
of ours shows the first page, and a later page passes axe in Chromium."""

from __future__ import annotations

import re
from typing import Any

import pytest

from gateway.console import paging
from gateway.console.messages import NL
from tests.console.conftest import ConsoleClient, World
from tests.console.paging_support import every_once, section, walk
from tests.console.test_browser import people  # noqa: F401  - the browser sessions fixture
from tests.e2e.test_notice_preferences import newest_mail

PAGE = 2


async def test_operators_page_through_the_whole_mail_outbox(
    console: ConsoleClient,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
    people: Any,  # noqa: F811  - the fixture imported above
) -> None:
    monkeypatch.setattr(paging, "PAGE", PAGE)
    mine = await newest_mail(world.platform, 5)
    await console.sign_in(world.tenant.operator)
    by_id = {}
    async with world.platform.client(world.tenant.operator) as api:  # what the API lists: each row by id
        for item in (await api.get("/api/v1/notices/mail", params={"limit": 200})).json()["items"]:
            by_id[item["id"]] = f"{item['recipient']} {item['subject']}"

    def subjects(page: str) -> list[str]:
        # A row is its recipient and subject: one notice goes out to each person who chose it, with one subject.
        rows = re.findall(r'<td>([^<]*)</td><th scope="row">([^<]+)</th>', section(page, "h-outbox"))
        return [f"{recipient} {subject}" for recipient, subject in rows]

    pages, visited = await walk(console, "/console/mail", "next-mail", subjects)
    shown = every_once(pages)
    assert shown[: len(mine)] == [by_id[i] for i in mine]  # newest first, as the API pages them
    assert len(pages) > 2 and all(len(page) == PAGE for page in pages[:-1])
    assert all("cursor=" in address for address in visited[1:])
    typo = await console.get("/console/mail?cursor=not-a-cursor")  # not ours: the first page
    assert typo.status_code == 200 and subjects(typo.text) == pages[0]

    operator = await people(world.tenant.operator, bypass_csp=True)
    await operator.goto(visited[1])
    await operator.page.get_by_role("link", name=NL["inbox.first_page"]).wait_for()
    pager = operator.page.get_by_role("navigation", name=NL["courses.pages"].format(list=NL["mail.outbox"]))
    assert await pager.count() == 1
    assert await operator.axe() == []
