"""The partner's page of the people it supplied is one page (issue 24): /console/supplied, which duplicated
/console/our-people, was removed. Nothing links to it any more, in the code or on any page of a partner's menu, the
old address answers 404, and a school finds its interns from the navigation, in Chromium with axe."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

from gateway.console.messages import NL
from gateway.console.views import NAVIGATION
from shared.tenancy import Role
from tests.console.conftest import ConsoleClient, World
from tests.console.test_browser import people  # noqa: F401  - the browser sessions fixture
from tests.console.test_partner_people import school_with_intern

GATEWAY = Path(__file__).resolve().parents[2] / "gateway"
SUPPLIED = re.compile(r"/supplied\b")


def test_no_page_or_template_of_the_gateway_names_the_removed_page() -> None:
    mentions = [
        f"{path.relative_to(GATEWAY)}:{number}"
        for path in GATEWAY.rglob("*")
        if path.suffix in {".py", ".html", ".js", ".toml", ".po", ".json"}
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if SUPPLIED.search(line)
    ]
    assert mentions == []


async def test_no_page_of_a_partners_menu_links_to_the_removed_page_and_the_menu_leads_to_our_people(
    console: ConsoleClient, world: World
) -> None:
    tag = uuid.uuid4().hex[:6]
    _, token, intern = await school_with_intern(world, tag)
    await console.sign_in(token)
    assert (await console.get("/console/supplied")).status_code == 404
    menu = [item.href for item in NAVIGATION[Role.PARTNER]]
    assert "/console/our-people" in menu and not any(SUPPLIED.search(path) for path in menu)
    for path in menu:
        page = await console.get(path)
        assert page.status_code == 200, (path, page.status_code)
        assert not SUPPLIED.search(page.text), path
        # every page's menu leads to the one page of the people the partner supplied
        assert re.search(r'href="/console/our-people"[^>]*>' + re.escape(NL["nav.our_people"]) + "<", page.text), path
    ours = await console.get("/console/our-people")
    assert f"Iris Stage{tag}" in ours.text and f'id="v-{intern}"' in ours.text


async def test_in_chromium_a_school_finds_its_interns_from_the_navigation_free_of_axe_violations(
    people: Any,  # noqa: F811  - the fixture imported above
    world: World,
) -> None:
    tag = uuid.uuid4().hex[:6]
    _, token, intern = await school_with_intern(world, tag)
    school = await people(token, bypass_csp=True)
    menu = school.page.get_by_role("navigation", name=NL["a11y.main_nav"])
    for start in ("/console/organisation", "/console/feed"):
        await school.goto(start)
        await menu.get_by_role("link", name=NL["nav.our_people"]).click()
        await school.page.get_by_role("heading", name=NL["our_people.title"], level=1).wait_for()
        assert school.page.url.endswith("/console/our-people")
        await school.page.locator(f"#v-{intern}").get_by_text(f"Iris Stage{tag}").wait_for()
        assert await school.axe() == []
    await school.goto("/console/supplied")
    assert await school.page.get_by_role("heading", name=NL["our_people.title"], level=1).count() == 0
