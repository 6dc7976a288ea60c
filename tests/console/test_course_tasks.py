"""A partner's course in the library in the console (issue 24, the SeniorWeb model): the course's page says who does
what, and the hosting library's staff tick off their tasks (room booked, promotion, recruitment); the partner sees
them without buttons; another library's staff change nothing. In Dutch and English."""

from __future__ import annotations

import uuid
from typing import Any

from gateway.console.messages import EN, NL
from shared.tenancy import Role
from tests.console.conftest import ConsoleClient, World
from tests.services.courses.support import course_body, partnership_known_to_courses
from tests.services.volunteers.volunteer_tenant import register_partner


async def partner_course(world: World) -> tuple[dict[str, Any], str]:
    """A course provider of its own partnering with library A, and its course hosted there, published."""
    platform, tenant = world.platform, world.tenant
    tag = uuid.uuid4().hex[:6]
    provider = await register_partner(platform, tenant, f"SeniorWeb {tag}", "course_provider")
    await partnership_known_to_courses(
        platform, tenant, provider, tenant.library_a, library_brings=["location", "promotion"]
    )
    token = platform.token(Role.PARTNER, municipality=tenant.municipality, partner=provider)
    details = {"title": f"Veilig internetten {tag}", "library_contributions": ["location", "promotion"]}
    async with platform.client(token) as api:
        made = await api.post("/api/v1/courses", json=course_body(library=tenant.library_a, details=details))
        assert made.status_code == 201, made.text
        published = await api.post(f"/api/v1/courses/{made.json()['id']}/publish")
        assert published.status_code == 200, published.text
    return dict(published.json()), token


async def tasks_of(world: World, course_id: str) -> dict[str, bool]:
    async with world.platform.client(world.tenant.staff_a) as api:
        found = await api.get(f"/api/v1/courses/{course_id}")
    assert found.status_code == 200, found.text
    return {t["task"]: t["done"] for t in found.json()["library_tasks"]}


async def test_the_hosting_library_ticks_off_its_tasks_and_the_partner_sees_them(
    console: ConsoleClient, world: World
) -> None:
    course, partner_token = await partner_course(world)
    path = f"/console/courses/{course['id']}"
    await console.sign_in(world.tenant.staff_a)
    for lang, words in (("nl", NL), ("en", EN)):
        console.http.cookies.set("pn_lang", lang)
        page = (await console.get(path)).text
        assert words["course_tasks.heading"] in page and words["course_task.room_booked"] in page
        assert words["partner_brings.content"] in page and words["course_tasks.mark_done"] in page
        assert words["course_task.participants_recruited"] not in page  # the library does not recruit for this one
    console.http.cookies.set("pn_lang", "nl")
    ticked = await console.post(f"{path}/tasks/room_booked", {"done": "1"})
    assert ticked.status_code == 303, ticked.text
    assert NL["course_done.task"] in (await console.get(ticked.headers["location"])).text
    assert await tasks_of(world, course["id"]) == {"room_booked": True, "promotion_done": False}
    wrong = await console.post(f"{path}/tasks/participants_recruited", {"done": "1"})
    assert wrong.status_code == 422 and 'role="alert"' in wrong.text
    assert await tasks_of(world, course["id"]) == {"room_booked": True, "promotion_done": False}

    await console.sign_in(partner_token)
    seen = (await console.get(path)).text
    assert NL["course_tasks.done"] in seen and NL["course_tasks.mark_done"] not in seen
    assert (await console.post(f"{path}/tasks/promotion_done", {"done": "1"})).status_code == 403

    await console.sign_in(world.tenant.staff_b)
    other = (await console.get(path)).text
    assert NL["course_tasks.mark_done"] not in other and NL["course_tasks.mark_undone"] not in other
    assert (await console.post(f"{path}/tasks/promotion_done", {"done": "1"})).status_code == 404
    assert await tasks_of(world, course["id"]) == {"room_booked": True, "promotion_done": False}
