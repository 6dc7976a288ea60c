"""The network as open data over HTTP on the real platform (issue 22, part 2): the HSDS API at
/m/<municipality>/hsds/ and its tabular data package, every answer validated against the HSDS 3.2 schemas
vendored in tests/data/hsds; only partners that agreed appear, with only what they agreed to; never a course for
staff or a draft, never another municipality's, never a contact person; pages add up to the whole."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.conftest import RunningPlatform, Tenant
from tests.e2e.calendar_support import Offer, municipal_offer, schedule
from tests.services.courses.support import course_tenant

HSDS = Path(__file__).parents[1] / "data" / "hsds"
TABLES = ("organization", "service", "location", "address", "phone", "schedule", "service_at_location")
SCHEMAS = {name: json.loads((HSDS / f"{name}.json").read_text()) for name in TABLES}
# Each schema under its own $id, so that `"$ref": "phone.json"` resolves beside it; a table not vendored
# (attribute, contact, language …) stays unresolvable and fails the validation of any record that uses it.
REGISTRY: Registry = Registry().with_resources(
    (schema["$id"], Resource.from_contents(schema, default_specification=DRAFT202012)) for schema in SCHEMAS.values()
)
# A Dutch address has no province; HSDS requires the field, so it is there and empty (gateway/hsds/network.py).
EMPTY_ALLOWED = {("address", "state_province")}
PAGE = json.loads((HSDS / "page.json").read_text())
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
        {"street": "Stationsplein", "house_number": "1", "postcode": "3511 AB", "city": "Utrecht"},
        {"street": "Postbus", "house_number": "99", "postcode": "3500 AA", "city": "Utrecht", "kind": "postal"},
    ],
    "contacts": [CONTACT],
    "skill_areas": ["digital", "language"],
}


def validator(table: str) -> Draft202012Validator:
    return Draft202012Validator(SCHEMAS[table], registry=REGISTRY, format_checker=FormatChecker())


def only_declared_fields(record: dict[str, Any], table: str) -> None:
    """Every field is one HSDS declares for the table (HSDS allows others; partnernet invents none), and so for
    each nested record, down to the last."""
    properties = SCHEMAS[table]["properties"]
    for key, value in record.items():
        assert key in properties, f"{table}.{key} is not an HSDS field"
        ref = properties[key].get("$ref") or properties[key].get("items", {}).get("$ref")
        if ref:
            nested = ref.removesuffix(".json")
            for item in value if isinstance(value, list) else [value]:
                only_declared_fields(item, nested)


def valid(record: dict[str, Any], table: str) -> dict[str, Any]:
    errors = sorted(validator(table).iter_errors(record), key=lambda e: list(e.path))
    assert not errors, f"{table} {record.get('id')}: " + "; ".join(f"{list(e.path)}: {e.message}" for e in errors)
    only_declared_fields(record, table)
    return record


def valid_page(body: dict[str, Any], table: str) -> dict[str, Any]:
    errors = list(Draft202012Validator(PAGE).iter_errors(body))
    assert not errors, [e.message for e in errors]
    for record in body["contents"]:
        valid(record, table)
        assert not any(isinstance(v, list | dict) for v in record.values()), "a list gives one-to-one fields"
    return body


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
    for private in (CONTACT["name"], CONTACT["email"], CONTACT["phone"], "Postbus", "Interne training", "Nog geheim"):
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
    assert seen == whole and len(whole) == 3
    assert [s["name"] for s in valid_page(by_organization.json(), "service")["contents"]] == ["Rekenen met geld"]


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
    archive = zipfile.ZipFile(io.BytesIO(download.content))
    package = json.loads(archive.read("datapackage.json"))
    assert package["profile"] == "tabular-data-package" and package["hsds_version"] == "3.2"
    assert sorted(r["name"] for r in package["resources"]) == sorted(TABLES)
    tables: dict[str, list[dict[str, Any]]] = {}
    for resource in package["resources"]:
        schema = SCHEMAS[resource["name"]]
        assert resource["path"] == schema["path"], "each table's file is named as HSDS names it"
        fields = resource["schema"]["fields"]
        reader = csv.DictReader(io.StringIO(archive.read(resource["path"]).decode("utf-8")))
        assert reader.fieldnames == [f["name"] for f in fields]
        numbers = set()
        for field in fields:
            declared = schema["properties"][field["name"]]
            assert declared["type"] in ("string", "number"), f"{resource['name']}.{field['name']} is one-to-one"
            expected = declared.get("datapackage_type", declared["type"])
            assert field["type"] in (expected, "string"), (resource["name"], field)
            if declared["type"] == "number":
                numbers.add(field["name"])
        required = set(schema["required"]) | set(schema.get("tabular_required", []))
        rows = []
        for row in reader:
            record = {k: (float(v) if k in numbers else v) for k, v in row.items() if v != ""}
            record.update({k: "" for (table, k) in EMPTY_ALLOWED if table == resource["name"] and row.get(k) == ""})
            errors = [e.message for e in validator(resource["name"]).iter_errors(record)]
            assert not errors, (resource["name"], record, errors)
            assert required <= set(record), (resource["name"], required - set(record))
            rows.append(record)
        ids = [r["id"] for r in rows]
        assert len(ids) == len(set(ids)), f"{resource['name']}: an id twice"
        tables[resource["name"]] = rows
    for resource in package["resources"]:
        for key in resource["schema"]["foreignKeys"]:
            targets = {r["id"] for r in tables[key["reference"]["resource"]]}
            for row in tables[resource["name"]]:
                if row.get(key["fields"]):
                    assert row[key["fields"]] in targets, (resource["name"], key, row)
    assert {r["id"] for r in tables["service"]} == services
    assert {r["id"] for r in tables["organization"]} == organizations
    assert len(tables["schedule"]) == 3 and len(tables["address"]) == 1
    whole = b"".join(archive.read(name) for name in archive.namelist()).decode("utf-8")
    for private in (CONTACT["name"], CONTACT["email"], "Postbus", "Interne training", "Taalcafé van partner B"):
        assert private not in whole, private
