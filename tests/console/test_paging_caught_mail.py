"""The messages `up`'s mail catcher caught page in the console too (issue 20; notices.CAUGHT_SHOWN made small here):
newest first, each once over the pages, a message caught while an operator pages does not shift the later pages, a
cursor that is not one of the caught messages' shows the first page, and the outbox's place is kept beside it."""

from __future__ import annotations

import dataclasses
import html
import mailbox
import re
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from gateway.console import notices
from tests.console.conftest import ConsoleClient, World
from tests.console.paging_support import every_once, next_link, section, walk
from tests.fixtures.platform import another_gateway

SHOWN = 2
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def catch(box: mailbox.Maildir, subject: str, sent: datetime) -> None:
    message = EmailMessage()
    message["To"] = "lies@bieb.example"
    message["Subject"] = subject
    message["Date"] = format_datetime(sent)
    message.set_content(f"body of {subject}")
    box.add(message)


def subjects(page: str) -> list[str]:
    return [html.unescape(s) for s in re.findall(r'<h3 id="h-caught-\d+">([^<]+)</h3>', section(page, "h-caught"))]


async def test_operators_page_through_every_caught_message(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(notices, "CAUGHT_SHOWN", SHOWN)
    directory = tmp_path / "caught"
    box = mailbox.Maildir(directory, create=True)
    for n in range(5):
        catch(box, f"bericht {n}", START + timedelta(minutes=n))
    settings = dataclasses.replace(world.platform.settings, mail_catcher_dir=directory)
    async with another_gateway(settings) as base:
        console = ConsoleClient(dataclasses.replace(world.platform, base_url=base))
        try:
            await console.sign_in(world.tenant.operator)
            pages, visited = await walk(console, "/console/mail", "next-caught", subjects)
            assert [len(page) for page in pages] == [2, 2, 1]
            assert every_once(pages) == [f"bericht {n}" for n in (4, 3, 2, 1, 0)]  # newest first

            # Caught while the operator reads the first page: it comes first, and the second page stays as it was.
            first = (await console.get("/console/mail")).text
            catch(box, "bericht 5", START + timedelta(minutes=5))
            second = next_link(first, "next-caught")
            assert second is not None
            assert subjects((await console.get(second)).text) == ["bericht 2", "bericht 1"]
            assert subjects((await console.get("/console/mail")).text) == ["bericht 5", "bericht 4"]

            # A cursor that is not a caught message's key (typed, or of a message since deleted): the first page.
            refused = await console.get("/console/mail", params={"caught": "not-a-key"})
            assert refused.status_code == 200
            assert subjects(refused.text) == ["bericht 5", "bericht 4"]

            # Paging the caught messages keeps the outbox's page (its cursor rides along) and the other way round.
            with_outbox = (await console.get("/console/mail", params={"cursor": "outbox-place"})).text
            onward = next_link(with_outbox, "next-caught")
            assert onward is not None
            assert parse_qs(urlsplit(onward).query)["cursor"] == ["outbox-place"]
            assert len(visited) == 3
        finally:
            await console.aclose()
