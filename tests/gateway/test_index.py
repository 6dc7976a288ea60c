"""Where a newcomer lands: the printed API address lists what the API has, the bare address leads to the console."""

from __future__ import annotations

import httpx

from tests.fixtures.platform import RunningPlatform


async def test_the_api_address_lists_every_resource_and_the_documents(platform: RunningPlatform) -> None:
    async with platform.client() as anyone:  # public: it names collections and documents, never data
        index = await anyone.get("/api/v1/")
        without_slash = await anyone.get("/api/v1")
        schema = (await anyone.get("/schema/openapi.json")).json()
        assert index.status_code == 200 and without_slash.json() == index.json()
        body = index.json()
        for name, href in body["documents"].items():
            assert (await anyone.get(href)).status_code in (200, 303), name  # the console sends strangers to sign in
    resources = {resource["name"]: resource for resource in body["resources"]}
    # Every collection the OpenAPI document has is in the index, with the methods the document gives it.
    documented: dict[str, set[str]] = {}
    for path, operations in schema["paths"].items():
        if path.startswith("/api/v1/") and (name := path.split("/")[3]):
            documented.setdefault(name, set()).update(m.upper() for m in operations if m != "parameters")
    assert set(resources) == set(documented)
    assert {"referrals", "partners", "courses", "volunteers"} <= set(resources)
    for name, methods in documented.items():
        assert set(resources[name]["methods"]) == methods, name
        assert resources[name]["href"] == f"/api/v1/{name}"
    assert "/api/v1/" not in schema["paths"] and "/api/v1" not in schema["paths"], "the way to the document"


async def test_the_bare_address_leads_people_to_the_console_and_programs_to_the_api(platform: RunningPlatform) -> None:
    async with httpx.AsyncClient(base_url=platform.base_url) as browser:
        response = await browser.get("/")
    assert response.status_code == 303
    assert response.headers["location"] == "/console/"
    assert response.headers["link"] == '</api/v1/>; rel="service-desc"'
