"""A vacancy's hours per week and a training module's qualification and validity can be cleared (issue 20): PATCH
is a JSON merge patch like the partner's (null clears, left out stays) and the console's forms clear what is
emptied. A title cannot be emptied: a 4xx, nothing changes."""

from __future__ import annotations

import uuid
from typing import Any

from gateway.console.messages import NL
from tests.console.conftest import ConsoleClient, World
from tests.console.test_training import version_of


async def read(world: World, path: str) -> dict[str, Any]:
    async with world.platform.client(world.tenant.staff_a) as api:
        found = await api.get(path)
    assert found.status_code == 200, found.text
    return dict(found.json())


async def patch(world: World, path: str, body: dict[str, Any]) -> Any:
    async with world.platform.client(world.tenant.staff_a) as api:
        return await api.patch(path, json=body)


async def test_the_api_clears_with_null_and_keeps_what_is_left_out(world: World) -> None:
    tag = uuid.uuid4().hex[:6]
    async with world.platform.client(world.tenant.staff_a) as api:
        vacancy = (await api.post("/api/v1/vacancies", json={"title": f"Gastvrouw {tag}", "hours_per_week": 6})).json()
        module = (
            await api.post(
                "/api/v1/trainings/modules",
                json={
                    "title": f"Gastvrij {tag}",
                    "delivered_by": "library",
                    "qualification": f"gast-{tag}",
                    "validity_months": 12,
                },
            )
        ).json()
    vacancy_path, module_path = f"/api/v1/vacancies/{vacancy['id']}", f"/api/v1/trainings/modules/{module['id']}"
    assert (await patch(world, vacancy_path, {"description": "Ontvangst"})).status_code == 200
    assert (await read(world, vacancy_path))["hours_per_week"] == 6
    assert (await patch(world, vacancy_path, {"hours_per_week": None})).status_code == 200
    assert (await read(world, vacancy_path))["hours_per_week"] is None
    refused = await patch(world, vacancy_path, {"title": None})
    assert refused.status_code == 422, refused.text
    assert (await read(world, vacancy_path))["title"] == f"Gastvrouw {tag}"

    assert (await patch(world, module_path, {"description": "Ontvangst"})).status_code == 200
    kept = await read(world, module_path)
    assert (kept["qualification"], kept["validity_months"]) == (f"gast-{tag}", 12)
    assert (await patch(world, module_path, {"validity_months": None})).status_code == 200
    cleared = await read(world, module_path)
    assert (cleared["qualification"], cleared["validity_months"]) == (f"gast-{tag}", None)
    assert (await patch(world, module_path, {"title": None})).status_code == 422
    assert (await read(world, module_path))["version"] == cleared["version"]


async def test_the_console_forms_clear_an_emptied_hours_per_week_and_validity(
    console: ConsoleClient, world: World
) -> None:
    tag = uuid.uuid4().hex[:6]
    async with world.platform.client(world.tenant.staff_a) as api:
        vacancy = (await api.post("/api/v1/vacancies", json={"title": f"Voorlezer {tag}", "hours_per_week": 4})).json()
    await console.sign_in(world.tenant.staff_a)
    page = await console.get(f"/console/vacancies/{vacancy['id']}")
    emptied = await console.post(
        f"/console/vacancies/{vacancy['id']}/change",
        {"title": f"Voorlezer {tag}", "hours_per_week": "", "expected_version": version_of(page.text)},
    )
    assert emptied.status_code == 303, emptied.text
    assert (await read(world, f"/api/v1/vacancies/{vacancy['id']}"))["hours_per_week"] is None

    await console.get("/console/training")
    made = await console.post(
        "/console/training/modules",
        {
            "title": f"Voorlezen {tag}",
            "delivered_by": "library",
            "qualification": f"lees-{tag}",
            "validity_months": "24",
        },
    )
    assert made.status_code == 303, made.text
    path = made.headers["location"].split("?")[0]
    module_api = f"/api/v1/trainings/modules/{path.rsplit('/', 1)[1]}"
    no_title = await console.post(path, {"title": "", "expected_version": version_of((await console.get(path)).text)})
    assert no_title.status_code == 422 and NL["problem.invalid-input"] in no_title.text
    assert (await read(world, module_api))["version"] == 1
    page = await console.get(path)
    emptied = await console.post(
        path,
        {
            "title": f"Voorlezen {tag}",
            "qualification": f"lees-{tag}",
            "validity_months": "",
            "expected_version": version_of(page.text),
        },
    )
    assert emptied.status_code == 303, emptied.text
    module = await read(world, module_api)
    assert (module["qualification"], module["validity_months"]) == (f"lees-{tag}", None)
    assert NL["training.no_expiry"] in (await console.get(path)).text
