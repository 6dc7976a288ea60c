"""The annual report in the console: the seeded year's tables with the rule that hid the small counts, a chart per
subject (SVG with a title, a description and its table), the PDF and a CSV per table from the page's links; only
for the municipality's coordinator and a library's own staff. In Chromium, Dutch and English, without serious axe
violations."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from gateway.console.messages import EN, NL
from shared.clock import local_today
from tests.console.conftest import ConsoleClient, World
from tests.console.test_browser import people  # noqa: F401  - the browser sessions fixture
from tests.e2e.annual_year import seed_year
from tests.fixtures.platform import RunningPlatform
from tests.services.volunteers.volunteer_tenant import VolunteerTenant, volunteer_tenant


@pytest.fixture(scope="module")
async def seeded(platform: RunningPlatform) -> VolunteerTenant:
    vt = await volunteer_tenant(platform)
    await seed_year(platform, vt)
    return vt


async def test_the_page_shows_the_seeded_year_and_its_files_download(
    console: ConsoleClient, seeded: VolunteerTenant
) -> None:
    year = local_today().year
    await console.sign_in(seeded.coordinator)
    page = await console.get("/console/annual-report", params={"year": year})
    assert page.status_code == 200, page.text
    html = page.text
    assert NL["annual.title"].format(year=year) in html
    assert "Drempel: 5" in html and "&lt;5" in html  # the rule is stated, and applied
    for figure in ("€ 5.000,00", "€ 2.700,00", "€ 2.300,00", ">83<", ">12<"):
        assert figure in html, figure
    assert html.count("<svg") == html.count("<desc") == 4  # the volunteer hours are hidden: no bars to draw
    pdf = await console.http.get(f"/console/annual-report/pdf?year={year}")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert "€ 2.700,00".encode("cp1252") in pdf.content
    listed = await console.http.get(f"/console/annual-report/csv/courses-by-library?year={year}")
    assert listed.status_code == 200
    rows = {row[0]: row for row in csv.reader(io.StringIO(listed.text)) if row}
    assert rows[seeded.library_a][2:] == ["1", "1", "10", "6", "5", "83"]


async def test_a_partner_is_refused_and_a_library_sees_only_its_own(
    platform: RunningPlatform, seeded: VolunteerTenant
) -> None:
    year = local_today().year
    partner, staff_b = ConsoleClient(platform), ConsoleClient(platform)
    try:
        await partner.sign_in(seeded.base.partner_a_token)
        assert (await partner.get("/console/annual-report")).status_code == 403
        assert (await partner.http.get("/console/annual-report/pdf")).status_code == 403
        await staff_b.sign_in(seeded.staff_b)
        own = (await staff_b.get("/console/annual-report", params={"year": year})).text
        assert "€ 5.000,00" not in own and ">83<" not in own
        assert seeded.library_a not in own
    finally:
        await partner.aclose()
        await staff_b.aclose()


async def test_in_chromium_the_report_is_free_of_axe_violations_in_dutch_and_english(
    people: Any,  # noqa: F811  - the fixture imported above
    world: World,
    seeded: VolunteerTenant,
    artifacts: Path,
) -> None:
    year = local_today().year
    coordinator = await people(seeded.coordinator, bypass_csp=True)
    await coordinator.goto("/console/overview")
    await coordinator.page.get_by_role("link", name=NL["nav.annual_report"], exact=True).click()
    await coordinator.page.get_by_role("heading", name=NL["annual.title"].format(year=year), level=1).wait_for()
    chart = coordinator.page.get_by_role("img", name=NL["annual.chart.referrals_by_library"])
    assert await chart.count() == 1
    assert await coordinator.axe() == []
    await coordinator.page.screenshot(path=str(artifacts / "annual-report-dutch.png"), full_page=True)

    english = await people(None, bypass_csp=True)
    await english.goto("/console/sign-in")
    await english.page.get_by_role("button", name="English").click()
    await english.page.get_by_role("heading", name=EN["signin.title"]).wait_for()
    await english.sign_in(seeded.coordinator)
    await english.goto(f"/console/annual-report?year={year}")
    await english.page.get_by_role("heading", name=EN["annual.title"].format(year=year), level=1).wait_for()
    table = english.page.get_by_role("table", name=EN["annual.table.courses_by_library"])
    assert await table.get_by_role("cell", name="83", exact=True).count() == 2  # library A and the total
    assert await english.axe() == []
    await english.page.screenshot(path=str(artifacts / "annual-report-english.png"), full_page=True)
