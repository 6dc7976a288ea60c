"""`partnernet up --demo` seeds a course offer: a fresh demo's public calendar shows published courses of both demo
libraries and one a partner runs, from today on; a second seed adds nothing. Run on the session's real platform
(the whole `up --demo` is tests/launcher/test_cli.py, slow)."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime
from pathlib import Path

import httpx

from launcher.demo import seed_demo
from launcher.demo_courses import COURSES
from shared.clock import LOCAL_TIME, local_today
from shared.tenancy import Role
from tests.fixtures.platform import RunningPlatform
from tests.waiting import PATIENCE_SECONDS


def seed(platform: RunningPlatform, data_dir: Path) -> list[str]:
    # The demo's people go to a directory of this test's own: the session's console does not offer them.
    return list(seed_demo(platform.base_url, dataclasses.replace(platform.settings, data_dir=data_dir)))


async def test_the_demo_seeds_published_courses_of_its_libraries_and_a_partner_on_the_calendar(
    platform: RunningPlatform, tmp_path: Path
) -> None:
    said = await asyncio.to_thread(seed, platform, tmp_path)
    assert any("/m/zuidstad/courses" in line for line in said)
    async with httpx.AsyncClient(base_url=platform.base_url, timeout=PATIENCE_SECONDS) as web:
        calendar = await web.get("/m/zuidstad/courses.ics")
        page = await web.get("/m/zuidstad/courses")
    assert calendar.status_code == 200 and page.status_code == 200
    unfolded = calendar.text.replace("\r\n ", "").split("\r\n")
    titles = [line.split(":", 1)[1].replace("\\", "") for line in unfolded if line.startswith("SUMMARY")]
    # One event per meeting ("Grip op je geld (2/4)"), every course's meetings there and public.
    expected = [f"{c.title} ({n}/{c.meetings})" for c in COURSES for n in range(1, c.meetings + 1)]
    assert sorted(titles) == sorted(expected), titles
    for course in COURSES:
        assert course.title.replace("&", "&amp;") in page.text
    assert "Volksuniversiteit Zuidstad" in page.text  # the partner's own course, beside the libraries'

    noord = platform.token(Role.STAFF, municipality="zuidstad", library="bibliotheek-zuidstad-noord")
    async with platform.client(noord) as api:
        listed = (await api.get("/api/v1/courses", params={"limit": 200})).json()["items"]
        seeded = [c for c in listed if c["library"] == "bibliotheek-zuidstad-noord"]
        assert {c["skill_area"] for c in seeded} == {"job_seeking", "numeracy"}
        assert all(c["status"] == "published" for c in seeded)
        sessions = [s for c in seeded for s in (await api.get(f"/api/v1/courses/{c['id']}/sessions")).json()["items"]]
    assert len(sessions) == 2
    for session in sessions:
        assert datetime.fromisoformat(session["starts_at"]).astimezone(LOCAL_TIME).date() > local_today()

    # Two partners publish as open data: the municipality's HSDS API has them, their course, and no one else.
    async with httpx.AsyncClient(base_url=platform.base_url, timeout=PATIENCE_SECONDS) as web:
        organizations = (await web.get("/m/zuidstad/hsds/organizations", params={"per_page": 200})).json()
        services = (await web.get("/m/zuidstad/hsds/services", params={"per_page": 200})).json()
    assert any("/m/zuidstad/hsds/" in line for line in said)
    names = {o["name"] for o in organizations["contents"]}
    assert {"ROC Zuidstad", "Volksuniversiteit Zuidstad", "Bibliotheek Zuidstad Centrum"} <= names
    assert not names & {"UWV Zuidstad", "Sociaal Team Zuidstad", "Vrijwilligerscentrale Zuidstad"}
    assert services["total_items"] == len(COURSES)  # every seeded course is the libraries' or the folk university's

    # A second seed (up --demo on the same data) finds them and adds none.
    await asyncio.to_thread(seed, platform, tmp_path)
    async with httpx.AsyncClient(base_url=platform.base_url, timeout=PATIENCE_SECONDS) as web:
        again = (await web.get("/m/zuidstad/courses.ics")).text
    assert again.count("BEGIN:VEVENT") == len(expected)
