"""The library's possible duplicates as a console page (issue 20): its staff see every warning of their library
without names, decide an open one (the same person: link; not: separate) with the version it was shown at, and
find it under its decision after; another library's staff, a partner and a coordinator neither see nor decide."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

from gateway.console.messages import EN, NL
from tests.console.conftest import ConsoleClient, World
from tests.console.test_browser import people  # noqa: F401  - the browser sessions fixture
from tests.console.test_participant_tools import refer


async def flagged(world: World) -> tuple[str, str, str]:
    """Two referrals of one name to library A: the second is flagged as a possible duplicate of the first."""
    name = f"Dubbel Dina {uuid.uuid4().hex[:6]}"
    first = await refer(world, name)
    again = await refer(world, name)
    async with world.platform.client(world.tenant.staff_a) as api:
        found = await api.get("/api/v1/referrals/duplicates", params={"referral_id": again})
    assert found.status_code == 200, found.text
    [warning] = found.json()["items"]
    assert warning["duplicate_of"] == first
    return first, again, str(warning["id"])


def row_of(html: str, warning_id: str) -> str:
    found = re.search(rf'<tr id="warning-{warning_id}".*?</tr>', html, re.S)
    assert found is not None, f"warning {warning_id} not on the page"
    return found.group(0)


async def test_staff_see_their_librarys_possible_duplicates_and_decide_them(
    console: ConsoleClient, world: World
) -> None:
    first, again, warning_id = await flagged(world)
    await console.sign_in(world.tenant.staff_a)
    inbox = await console.get("/console/inbox")
    assert 'href="/console/duplicates"' in inbox.text  # in the staff's menu
    listed = await console.get("/console/duplicates")
    assert listed.status_code == 200, listed.text
    assert NL["duplicates_page.title"] in listed.text and NL["duplicates_page.link_means"] in listed.text
    row = row_of(listed.text, warning_id)
    assert f'href="/console/referrals/{again}"' in row and f'href="/console/referrals/{first}"' in row
    assert NL["duplicates.exact"] in row and "Dubbel Dina" not in listed.text  # no names on the page
    version = re.search(r'name="expected_version" value="(\d+)"', row)
    assert version is not None

    linked = await console.post(
        f"/console/duplicates/{warning_id}", {"step": "link", "expected_version": version.group(1), "shown": "open"}
    )
    assert linked.status_code == 303, linked.text
    after = await console.get(linked.headers["location"])
    assert NL["done.duplicate_link"] in after.text
    assert f'id="warning-{warning_id}"' not in after.text  # no longer open
    decided = row_of((await console.get("/console/duplicates?decision=linked")).text, warning_id)
    assert NL["duplicate_decision.linked"] in decided and 'name="step"' not in decided
    assert f'id="warning-{warning_id}"' in (await console.get("/console/duplicates?decision=all")).text

    stale = await console.post(f"/console/duplicates/{warning_id}", {"step": "separate", "expected_version": "1"})
    assert stale.status_code == 409 and NL["problem.conflict"] in stale.text
    unknown = await console.post(f"/console/duplicates/{warning_id}", {"step": "merge"})
    assert unknown.status_code == 422 and NL["problem.invalid-input"] in unknown.text
    assert (await console.get("/console/duplicates?decision=maybe")).status_code == 422
    assert (await console.get("/console/duplicates?cursor=%%%")).status_code == 200  # not the API's: the first page
    async with world.platform.client(world.tenant.staff_a) as api:
        still = (await api.get("/api/v1/referrals/duplicates", params={"referral_id": again})).json()["items"]
    assert [w["decision"] for w in still] == ["linked"]  # the refused tries changed nothing


async def test_the_page_speaks_english_and_keeps_a_duplicate_apart(console: ConsoleClient, world: World) -> None:
    *_, warning_id = await flagged(world)
    await console.sign_in(world.tenant.staff_a)
    await console.get("/console/duplicates")  # the form's token for this sign-in
    await console.post("/console/language", {"lang": "en", "next": "/console/duplicates"})
    page = await console.get("/console/duplicates")
    assert EN["duplicates_page.explained"] in page.text and EN["duplicates.separate"] in row_of(page.text, warning_id)
    separated = await console.post(f"/console/duplicates/{warning_id}", {"step": "separate"})
    assert separated.status_code == 303
    assert EN["done.duplicate_separate"] in (await console.get(separated.headers["location"])).text
    assert f'id="warning-{warning_id}"' in (await console.get("/console/duplicates?decision=separate")).text


async def test_another_library_a_partner_and_a_coordinator_neither_see_nor_decide(
    console: ConsoleClient, world: World
) -> None:
    _, again, warning_id = await flagged(world)
    await console.sign_in(world.tenant.staff_b)
    other = await console.get("/console/duplicates?decision=all")
    assert other.status_code == 200 and f'id="warning-{warning_id}"' not in other.text
    refused = await console.post(f"/console/duplicates/{warning_id}", {"step": "link"})
    assert refused.status_code == 404, refused.text
    for token in (world.tenant.partner_a_token, world.coordinator):
        await console.sign_in(token)
        assert (await console.get("/console/duplicates")).status_code == 403
        await console.get("/console/inbox")
        assert (await console.post(f"/console/duplicates/{warning_id}", {"step": "link"})).status_code == 403
    async with world.platform.client(world.tenant.staff_a) as api:
        still = (await api.get("/api/v1/referrals/duplicates", params={"referral_id": again})).json()["items"]
    assert [w["decision"] for w in still] == ["open"]


async def test_in_chromium_staff_link_a_duplicate_with_the_keyboard_free_of_axe_violations(
    people: Any,  # noqa: F811  - the fixture imported above
    world: World,
    artifacts: Path,
) -> None:
    *_, warning_id = await flagged(world)
    staff = await people(world.tenant.staff_a, bypass_csp=True)
    await staff.goto("/console/inbox")
    await staff.page.get_by_role("link", name=NL["nav.duplicates"], exact=True).click()
    await staff.page.get_by_role("heading", name=NL["duplicates_page.title"], level=1).wait_for()
    await staff.page.screenshot(path=str(artifacts / "staff-duplicates.png"), full_page=True)
    assert await staff.axe() == []
    row = staff.page.locator(f"#warning-{warning_id}")
    await row.get_by_role("button", name=re.compile(f"^{re.escape(NL['duplicates.link'])}")).focus()
    await staff.page.keyboard.press("Enter")
    await staff.page.get_by_text(NL["done.duplicate_link"]).wait_for()
    assert await staff.page.locator(f"#warning-{warning_id}").count() == 0
    await staff.goto("/console/duplicates?decision=all")
    assert await staff.page.locator(f"#warning-{warning_id}[data-decision=linked]").count() == 1
    assert await staff.axe() == []
