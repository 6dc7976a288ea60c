"""A partner runs a course in the library (the SeniorWeb model, issue 24), over HTTP against the real platform: the
course says who does what as their partnership's contributions say (the partner its content and guidance; the
library the location, recruitment and promotion it brings), whatever the course itself claims; the library's staff
tick off their tasks (room booked, promotion done, participants recruited); a change of the partnership's
contributions shows on its courses at once; the partner follows the tasks and sees the enrolments it needs to run
the course, by pseudonym only. As an attacker: the partner, another library's staff, a task the library does not
bring, bad input: 4xx, nothing changes.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant
from tests.services.courses.support import (
    course_body,
    course_tenant,
    meetings,
    partnership_known_to_courses,
    partnership_terms_known,
    published_course_with_session,
    soon,
)
from tests.services.volunteers.volunteer_tenant import call

BRINGS = ["location", "recruitment", "promotion"]


@pytest.fixture(scope="module")
async def tenant(platform: RunningPlatform) -> Tenant:
    return await course_tenant(platform)


@pytest.fixture(scope="module")
async def partnership(platform: RunningPlatform, tenant: Tenant) -> str:
    """Partner A's partnership with library A as course provider, the SeniorWeb way round."""
    return await partnership_known_to_courses(platform, tenant, tenant.partner_a, tenant.library_a)


async def partner_course(platform: RunningPlatform, tenant: Tenant, brings: list[str]) -> tuple[dict[str, Any], str]:
    """A course partner A offers at library A, published, with a session of 12 places."""
    body = course_body(
        library=tenant.library_a, details={"title": "Veilig internetten", "library_contributions": brings}
    )
    made = await call(platform, tenant.partner_a_token, "POST", "/api/v1/courses", body)
    assert not isinstance(made, httpx.Response), made.text
    published = await call(platform, tenant.partner_a_token, "POST", f"/api/v1/courses/{made['id']}/publish")
    assert not isinstance(published, httpx.Response), published.text
    session = await call(
        platform,
        tenant.partner_a_token,
        "POST",
        f"/api/v1/courses/{made['id']}/sessions",
        {"meetings": meetings(soon(), 2), "capacity": 12, "place": "Leeszaal"},
    )
    assert not isinstance(session, httpx.Response), session.text
    return dict(published), str(session["id"])


@pytest.mark.usefixtures("partnership")
async def test_a_partner_run_course_shows_who_does_what_and_the_library_ticks_off_its_tasks(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    # The course claims only the location of the library: the partnership's contributions decide.
    course, session_id = await partner_course(platform, tenant, ["location"])
    path = f"/api/v1/courses/{course['id']}"
    seen = await call(platform, tenant.staff_a, "GET", path)
    assert seen["partner_brings"] == ["content", "guidance"]
    assert seen["library_contributions"] == BRINGS
    assert [(t["task"], t["done"]) for t in seen["library_tasks"]] == [
        ("room_booked", False),
        ("participants_recruited", False),
        ("promotion_done", False),
    ]
    booked = await call(platform, tenant.staff_a, "POST", f"{path}/tasks/room_booked", {"done": True})
    assert not isinstance(booked, httpx.Response), booked.text
    tasks = {t["task"]: t for t in booked["library_tasks"]}
    assert tasks["room_booked"]["done"] is True and tasks["room_booked"]["done_at"] is not None
    assert tasks["room_booked"]["done_by"] and tasks["promotion_done"]["done"] is False
    # The partner follows the library's part.
    followed = await call(platform, tenant.partner_a_token, "GET", path)
    assert {t["task"]: t["done"] for t in followed["library_tasks"]}["room_booked"] is True
    # Taken back: not done again.
    undone = await call(platform, tenant.staff_a, "POST", f"{path}/tasks/room_booked", {"done": False})
    assert {t["task"]: t["done"] for t in undone["library_tasks"]}["room_booked"] is False

    # The library recruits participants; the partner sees the enrolments it needs, by pseudonym only.
    enrolled = await call(
        platform,
        tenant.staff_a,
        "POST",
        f"/api/v1/sessions/{session_id}/enrolments",
        {"participant_pseudonym": "P-SENIOR0001"},
    )
    assert not isinstance(enrolled, httpx.Response), enrolled.text
    listed = await call(platform, tenant.partner_a_token, "GET", f"/api/v1/sessions/{session_id}/enrolments")
    (enrolment,) = listed["items"]
    assert (enrolment["participant_pseudonym"], enrolment["status"]) == ("P-SENIOR0001", "confirmed")
    assert not {"name", "email", "phone", "birth_date", "participant"} & set(enrolment)


async def test_a_change_of_the_partnerships_contributions_shows_on_its_courses(
    platform: RunningPlatform, tenant: Tenant, partnership: str
) -> None:
    course, _ = await partner_course(platform, tenant, BRINGS)
    path = f"/api/v1/courses/{course['id']}"
    await call(platform, tenant.staff_a, "POST", f"{path}/tasks/room_booked", {"done": True})
    # The partner takes the promotion over; the library's guidance is no course task of the library.
    changed = await call(
        platform,
        tenant.staff_a,
        "PATCH",
        f"/api/v1/partnerships/{partnership}",
        {
            "library_contributions": ["location", "recruitment", "guidance"],
            "partner_contributions": ["content", "guidance", "promotion"],
        },
    )
    assert not isinstance(changed, httpx.Response), changed.text
    await partnership_terms_known(
        platform,
        partnership,
        ["location", "recruitment", "guidance"],
        ["content", "guidance", "promotion"],
    )
    seen = await call(platform, tenant.partner_a_token, "GET", path)
    assert seen["partner_brings"] == ["content", "guidance", "promotion"]
    assert seen["library_contributions"] == ["location", "recruitment"]
    assert [(t["task"], t["done"]) for t in seen["library_tasks"]] == [
        ("room_booked", True),  # ticked before the change: kept
        ("participants_recruited", False),
    ]
    refused = await call(platform, tenant.staff_a, "POST", f"{path}/tasks/promotion_done", {"done": True})
    assert isinstance(refused, httpx.Response) and refused.status_code == 422
    # Back as it was, for the module's other tests.
    restored = await call(
        platform,
        tenant.staff_a,
        "PATCH",
        f"/api/v1/partnerships/{partnership}",
        {
            "library_contributions": BRINGS,
            "partner_contributions": ["content", "guidance"],
        },
    )
    assert not isinstance(restored, httpx.Response), restored.text
    await partnership_terms_known(platform, partnership, BRINGS, ["content", "guidance"])


async def test_only_the_hosting_librarys_staff_tick_off_the_tasks_it_brings(platform: RunningPlatform) -> None:
    tenant = await course_tenant(platform)  # its partnership brings only the location on the library's side
    await partnership_known_to_courses(
        platform, tenant, tenant.partner_a, tenant.library_a, library_brings=["location"]
    )
    course, _ = await partner_course(platform, tenant, BRINGS)
    own_course, _ = await published_course_with_session(platform, tenant.staff_a, capacity=5)
    path = f"/api/v1/courses/{course['id']}"
    attempts = [
        (tenant.partner_a_token, f"{path}/tasks/room_booked", {"done": True}, 403),  # the partner does not tick
        (tenant.partner_b_token, f"{path}/tasks/room_booked", {"done": True}, 403),
        (tenant.staff_b, f"{path}/tasks/room_booked", {"done": True}, 404),  # another library
        (tenant.staff_a, f"{path}/tasks/promotion_done", {"done": True}, 422),  # the library does not bring promotion
        (tenant.staff_a, f"/api/v1/courses/{own_course['id']}/tasks/room_booked", {"done": True}, 422),  # own course
        (tenant.staff_a, f"{path}/tasks/bake_cake", {"done": True}, 422),
        (tenant.staff_a, f"{path}/tasks/room_booked", {"done": "ja"}, 422),
        (tenant.staff_a, f"{path}/tasks/room_booked", {"done": True, "by": "me"}, 422),
    ]
    for token, url, body, status in attempts:
        got = await call(platform, token, "POST", url, body)
        assert isinstance(got, httpx.Response), (url, body, got)
        assert got.status_code == status, (url, body, got.status_code, got.text)
        assert got.headers["content-type"].startswith("application/problem+json")
    after = await call(platform, tenant.staff_a, "GET", path)
    assert [(t["task"], t["done"]) for t in after["library_tasks"]] == [("room_booked", False)]
    assert (await call(platform, tenant.staff_a, "GET", f"/api/v1/courses/{own_course['id']}"))["library_tasks"] == []
