"""The network as open data over HTTP on the real platform (issue 22, part 2): the HSDS API at
/m/<municipality>/hsds/ and its tabular data package, every answer validated against the HSDS 3.2 schemas
vendored in tests/data/hsds; only partners that agreed appear, with only what they agreed to; never a course for
staff or a draft, never another municipality's, never a contact person; pages add up to the whole."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.e2e.calendar_support import Offer, municipal_offer, schedule
from tests.e2e.hsds_support import read_package, valid, valid_page
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant
from tests.services.courses.support import course_tenant

ENDPOINTS = {
    "organizations": "organization",
    "services": "service",
    "locations": "location",
    "service_at_locations": "service_at_location",
}
CONTACT: dict[str, Any] = {
    "name": "Petra de Vries",
    "roles": ["primary"],
    "email": "petra.devries@uwv.example",
    "phone": "0612345678",
}
PUBLISHED = {
    "open_data": {"publish": True},
    "website": "https://uwv.example/basisvaardigheden",
    "email": "info@uwv.example",
    "phone": "030 123 4567",
    "addresses": [
        {"street": "Stationsplein", "house_number": "1", "postcode": "3511 AB", "city": "Utrecht", "open_data": True},
        {"street": "Postbus", "house_number": "99", "postcode": "3500 AA", "city": "Utrecht", "kind": "postal"},
        # A visiting address the partner did not agree to publish (a shelter's): never published.
        {"street": "Opvanglaan", "house_number": "7", "postcode": "3512 CD", "city": "Utrecht"},
    ],
    "contacts": [CONTACT],
    "skill_areas": ["digital", "language"],
}


async def everything(web: httpx.AsyncClient, municipality: str, endpoint: str, per_page: int = 200) -> list[Any]:
    response = await web.get(f"/m/{municipality}/hsds/{endpoint}", params={"per_page": per_page})
    assert response.status_code == 200, response.text
    body = valid_page(response.json(), ENDPOINTS[endpoint])
    assert body["total_pages"] == 1
    return list(body["contents"])


async def full(web: httpx.AsyncClient, municipality: str, endpoint: str, record_id: str) -> dict[str, Any]:
    response = await web.get(f"/m/{municipality}/hsds/{endpoint}/{record_id}")
    assert response.status_code == 200, response.text
    return valid(response.json(), ENDPOINTS[endpoint])


@pytest.fixture(scope="module")
async def tenant(platform: RunningPlatform) -> Tenant:
    return await course_tenant(platform)


@pytest.fixture(scope="module")
async def offer(platform: RunningPlatform, tenant: Tenant) -> Offer:
    """Partner a publishes (and gives a contact person, a postal address and a phone); partner b does not but
    offers a course of its own on the public calendar."""
    async with platform.client(tenant.partner_a_token) as api:
        published = await api.patch(f"/api/v1/partners/{tenant.partner_a}", json=PUBLISHED)
        assert published.status_code == 200, published.text
        assert published.json()["open_data"] == {
            "publish": True,
            "addresses": True,
            "email": True,
            "phone": True,
            "courses": True,
        }
    return await municipal_offer(platform, tenant)


@pytest.fixture(scope="module")
async def unpublished_course(platform: RunningPlatform, tenant: Tenant) -> dict[str, Any]:
    return await schedule(
        platform,
        tenant.partner_b_token,
        days=19,
        details={
            "title": "Taalcafé van partner B",
            "skill_area": "language",
            "audience": "general_public",
            "location": {"kind": "partner_premises", "address": "Kerkstraat 5", "place": "Zuid"},
        },
    )


@pytest.fixture(scope="module")
async def elsewhere(platform: RunningPlatform) -> tuple[Tenant, dict[str, Any]]:
    """Another municipality whose partner publishes, with a course of its library."""
    other = await course_tenant(platform)
    async with platform.client(other.partner_a_token) as api:
        published = await api.patch(f"/api/v1/partners/{other.partner_a}", json={"open_data": {"publish": True}})
        assert published.status_code == 200, published.text
    return other, await schedule(platform, other.staff_a, details={"title": "Cursus van elders"})


async def test_the_root_names_the_hsds_version_and_the_dataset(
    platform: RunningPlatform, tenant: Tenant, offer: Offer
) -> None:
    async with platform.client() as web:
        root = await web.get(f"/m/{tenant.municipality}/hsds/")
        unknown = await web.get("/m/gem-onbekend/hsds/")
        bad = await web.get(f"/m/{tenant.municipality}/hsds/services", params={"per_page": "0"})
    assert root.status_code == 200, root.text
    assert root.headers["content-type"].startswith("application/json")
    body = root.json()
    assert body["version"] == "3.2"
    assert body["openapi_url"].endswith("/3.2/schema/openapi.json")
    assert body["dataset_url"].endswith(f"/m/{tenant.municipality}/hsds/datapackage.zip")
    assert "ratelimit-limit" in root.headers  # the gateway's per-address limit applies, as to every request
    assert unknown.status_code == 404
    assert bad.status_code == 422


async def test_only_what_the_partners_agreed_to_publish_appears_and_every_record_is_valid_hsds(
    platform: RunningPlatform, tenant: Tenant, offer: Offer, unpublished_course: dict[str, Any]
) -> None:
    m = tenant.municipality
    async with platform.client() as web:
        organizations = await everything(web, m, "organizations")
        services = await everything(web, m, "services")
        locations = await everything(web, m, "locations")
        at_locations = await everything(web, m, "service_at_locations")
        nested = {
            "organizations": [await full(web, m, "organizations", o["id"]) for o in organizations],
            "services": [await full(web, m, "services", s["id"]) for s in services],
            "locations": [await full(web, m, "locations", loc["id"]) for loc in locations],
            "service_at_locations": [await full(web, m, "service_at_locations", a["id"]) for a in at_locations],
        }
        unpublished = await web.get(f"/m/{m}/hsds/organizations/{tenant.partner_b}")
        their_course = await web.get(f"/m/{m}/hsds/services/{unpublished_course['course']['id']}")
    names = {o["name"] for o in organizations}
    partner_a = next(o for o in nested["organizations"] if o["id"] == tenant.partner_a)
    assert f"Bibliotheek {tenant.library_a}" in names and f"Bibliotheek {tenant.library_b}" in names
    assert tenant.partner_b not in {o["id"] for o in organizations}, "partner b did not agree to publish"
    assert len(organizations) == 3
    assert unpublished.status_code == 404 and their_course.status_code == 404
    # Partner a as it agreed: its general details, its visiting address (never the postal one), no contact person.
    assert partner_a["website"] == PUBLISHED["website"] and partner_a["email"] == PUBLISHED["email"]
    assert [p["number"] for p in partner_a["phones"]] == [PUBLISHED["phone"]]
    visiting = [a for loc in partner_a["locations"] for a in loc.get("addresses", [])]
    assert [(a["address_1"], a["postal_code"], a["country"]) for a in visiting] == [
        ("Stationsplein 1", "3511 AB", "NL")
    ]
    assert "contacts" not in partner_a
    # The courses open to residents: the libraries' and partner a's, never staff training, a draft or partner b's.
    titles = {s["name"] for s in services}
    assert titles == {"Klik & Tik, <b>beginners</b>, deel 1", "Nederlands oefenen", "Rekenen met geld"}
    shown = (offer.public, offer.other_library, offer.partner)
    assert {s["id"] for s in services} == {x["course"]["id"] for x in shown}
    by_title = {s["name"]: s for s in nested["services"]}
    assert by_title["Rekenen met geld"]["organization_id"] == tenant.partner_a
    public = by_title["Klik & Tik, <b>beginners</b>, deel 1"]
    (schedule_of,) = [s for at in public["service_at_locations"] for s in at["schedules"]]
    assert schedule_of["id"] == offer.public["session"]["id"] and schedule_of["count"] == 2
    assert schedule_of["schedule_link"].endswith(f"/m/{m}/courses/{offer.public['session']['id']}")
    assert public["fees_description"] == "Gratis." and public["status"] == "active"
    # Every service is at a published location of a published organization.
    location_ids = {loc["id"] for loc in locations}
    organization_ids = {o["id"] for o in organizations}
    assert all(a["location_id"] in location_ids for a in at_locations)
    assert all(loc.get("organization_id") in organization_ids for loc in locations)
    everything_said = json.dumps([organizations, services, locations, at_locations, nested], ensure_ascii=False)
    hidden = (CONTACT["name"], CONTACT["email"], CONTACT["phone"], "Postbus", "Opvanglaan")
    for private in (*hidden, "Interne training", "Nog geheim"):
        assert private not in everything_said, private
    assert "Taalcafé van partner B" not in everything_said


async def test_a_partner_withdraws_its_courses_and_then_itself(
    platform: RunningPlatform, tenant: Tenant, offer: Offer
) -> None:
    m = tenant.municipality
    partner_course = offer.partner["course"]["id"]
    async with platform.client(tenant.partner_a_token) as api, platform.client() as web:
        try:
            choice = {"open_data": {"publish": True, "courses": False, "addresses": False, "phone": False}}
            assert (await api.patch(f"/api/v1/partners/{tenant.partner_a}", json=choice)).status_code == 200
            services = {s["id"] for s in await everything(web, m, "services")}
            partner = await full(web, m, "organizations", tenant.partner_a)
            assert partner_course not in services and offer.public["course"]["id"] in services
            assert partner["phones"] == [] and partner["locations"] == []
            assert (await web.get(f"/m/{m}/hsds/services/{partner_course}")).status_code == 404
            assert (await api.patch(f"/api/v1/partners/{tenant.partner_a}", json={"open_data": None})).is_success
            organizations = {o["id"] for o in await everything(web, m, "organizations")}
            assert tenant.partner_a not in organizations and len(organizations) == 2
            assert (await web.get(f"/m/{m}/hsds/organizations/{tenant.partner_a}")).status_code == 404
        finally:
            restored = await api.patch(f"/api/v1/partners/{tenant.partner_a}", json={"open_data": {"publish": True}})
            assert restored.status_code == 200, restored.text


async def test_another_municipality_never_shows(
    platform: RunningPlatform, tenant: Tenant, offer: Offer, elsewhere: tuple[Tenant, dict[str, Any]]
) -> None:
    other, course = elsewhere
    async with platform.client() as web:
        ours = json.dumps([await everything(web, tenant.municipality, e) for e in ENDPOINTS])
        theirs = [s["id"] for s in await everything(web, other.municipality, "services")]
        across = await web.get(f"/m/{tenant.municipality}/hsds/services/{course['course']['id']}")
        partner_across = await web.get(f"/m/{tenant.municipality}/hsds/organizations/{other.partner_a}")
    assert theirs == [course["course"]["id"]]
    for foreign in (other.partner_a, other.library_a, course["course"]["id"], "Cursus van elders"):
        assert foreign not in ours
    assert across.status_code == 404 and partner_across.status_code == 404


async def test_pages_add_up_to_the_whole(platform: RunningPlatform, tenant: Tenant, offer: Offer) -> None:
    m = tenant.municipality
    async with platform.client() as web:
        whole = [s["id"] for s in await everything(web, m, "services")]
        seen: list[str] = []
        for number in range(1, len(whole) + 2):
            response = await web.get(f"/m/{m}/hsds/services", params={"page": number, "per_page": 1})
            page = valid_page(response.json(), "service")
            assert page["total_items"] == len(whole) and page["total_pages"] == len(whole)
            assert page["page_number"] == number and page["first_page"] == (number == 1)
            assert page["last_page"] == (number >= len(whole))
            assert page["empty"] == (number > len(whole)) and page["size"] == len(page["contents"])
            seen += [s["id"] for s in page["contents"]]
        by_organization = await web.get(f"/m/{m}/hsds/services", params={"organization_id": tenant.partner_a})
        services = {s["id"]: s for s in await everything(web, m, "services")}
        newest = max(s["last_modified"] for s in services.values())
        changed = await web.get(f"/m/{m}/hsds/services", params={"modified_after": newest})
        later = await web.get(f"/m/{m}/hsds/services", params={"modified_after": "2999-01-01T00:00:00Z"})
        no_offset = await web.get(f"/m/{m}/hsds/services", params={"modified_after": "2026-01-01T00:00:00"})
    assert seen == whole and len(whole) == 3
    assert [s["name"] for s in valid_page(by_organization.json(), "service")["contents"]] == ["Rekenen met geld"]
    # Only what changed since: the newest change and after, nothing after every change; a time needs its offset.
    assert [s["id"] for s in valid_page(changed.json(), "service")["contents"]] == [
        i for i, s in services.items() if s["last_modified"] == newest
    ]
    assert later.json()["empty"] is True and later.json()["total_items"] == 0
    assert no_offset.status_code == 422


async def test_the_dataset_is_an_hsds_tabular_package_whose_rows_validate(
    platform: RunningPlatform, tenant: Tenant, offer: Offer, unpublished_course: dict[str, Any]
) -> None:
    m = tenant.municipality
    async with platform.client() as web:
        download = await web.get(f"/m/{m}/hsds/datapackage.zip")
        services = {s["id"] for s in await everything(web, m, "services")}
        organizations = {o["id"] for o in await everything(web, m, "organizations")}
    assert download.status_code == 200, download.text
    assert download.headers["content-type"] == "application/zip"
    assert f'filename="{m}-hsds.zip"' in download.headers["content-disposition"]
    package, tables, whole = read_package(download.content)
    assert package["hsds_version"] == "3.2"
    assert {r["id"] for r in tables["service"]} == services
    assert {r["id"] for r in tables["organization"]} == organizations
    assert len(tables["schedule"]) == 3 and len(tables["address"]) == 1
    for private in (CONTACT["name"], CONTACT["email"], "Postbus", "Opvanglaan", "Taalcafé van partner B"):
        assert private not in whole, private
