"""A demo municipality with two libraries and partners of several kinds, seeded through the public API."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx

from gateway.console.demo import DEMO_PEOPLE_FILE, DemoPerson, write_demo_people
from launcher.demo_courses import seed_courses
from shared.settings import Settings
from shared.tenancy import Actor, Role
from shared.tokens import TokenIssuer

MUNICIPALITY = {"slug": "zuidstad", "name": "Gemeente Zuidstad"}
# Each with its general address, as a real library's directory entry has (GET /api/v1/libraries/{library}).
LIBRARIES = [
    {
        "slug": "bibliotheek-zuidstad-centrum",
        "municipality": "zuidstad",
        "name": "Bibliotheek Zuidstad Centrum",
        "email": "centrum@bibliotheek-zuidstad.demo.partnernet.example",
        "phone": "010 555 0100",
    },
    {
        "slug": "bibliotheek-zuidstad-noord",
        "municipality": "zuidstad",
        "name": "Bibliotheek Zuidstad Noord",
        "email": "noord@bibliotheek-zuidstad.demo.partnernet.example",
        "phone": "010 555 0200",
    },
]
PARTNERS = [
    {"name": "UWV Zuidstad", "kind": "referrer", "chamber_of_commerce_number": "34370387"},
    {"name": "Sociaal Team Zuidstad", "kind": "referrer"},
    {"name": "ROC Zuidstad", "kind": "adult_education_school", "chamber_of_commerce_number": "41178553"},
    {"name": "Volksuniversiteit Zuidstad", "kind": "folk_university"},
    {"name": "Vrijwilligerscentrale Zuidstad", "kind": "volunteer_organisation"},
]
# Two partners that agreed to publish as open data (the municipality's HSDS API), as they would on their own page;
# set when the demo registers them, so a choice changed later stays.
OPEN_DATA = {
    "ROC Zuidstad": {
        "open_data": {"publish": True},
        "website": "https://roc-zuidstad.demo.partnernet.example",
        "skill_areas": ["language", "numeracy"],
        "addresses": [
            {
                "street": "Onderwijsplein",
                "house_number": "2",
                "postcode": "3011 AB",
                "city": "Zuidstad",
                "open_data": True,
            }
        ],
    },
    "Volksuniversiteit Zuidstad": {
        "open_data": {"publish": True, "phone": False},
        "email": "info@volksuniversiteit-zuidstad.demo.partnernet.example",
        "skill_areas": ["language", "digital"],
        "addresses": [
            {"street": "Kerkstraat", "house_number": "14", "postcode": "3012 CD", "city": "Zuidstad", "open_data": True}
        ],
    },
}


def seed_demo(base_url: str, settings: Settings) -> Iterator[str]:
    """Seed once (a second run finds everything in place), then print a token for each role."""
    issuer = TokenIssuer(settings.jwt_secret)
    operator = issuer.issue(Actor(subject="demo-operator", role=Role.OPERATOR))
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {operator}"}, timeout=10) as client:
        _create(client, "/api/v1/municipalities", MUNICIPALITY)
        for library in LIBRARIES:
            if _create(client, "/api/v1/libraries", library) is None:
                _give_address(client, library)
        existing = {p["name"]: p for p in client.get("/api/v1/partners").raise_for_status().json()["items"]}
        partners = [
            existing.get(p["name"]) or _create(client, "/api/v1/partners", {**p, "municipality": "zuidstad"})
            for p in PARTNERS
        ]
        for partner in partners:
            if partner["name"] in OPEN_DATA and partner["name"] not in existing:
                changes = OPEN_DATA[partner["name"]]
                client.patch(f"/api/v1/partners/{partner['id']}", json=changes).raise_for_status()
    people = demo_people(partners)
    write_demo_people(settings.data_dir / DEMO_PEOPLE_FILE, people)  # the console offers them to sign in as
    for person in people:
        if person.role in (Role.STAFF, Role.PARTNER):
            _choose_notices(base_url, issuer.issue(person.actor()), demo_address(person))
    offerers = {person.library or person.name: issuer.issue(person.actor()) for person in people}
    seed_courses(base_url, offerers)
    yield "Demo municipality 'zuidstad' is ready: sign in at /console/ as one of its people, or with a token"
    yield "(valid 12 hours):"
    yield f"  operator:    {operator}"
    yield "  (the demo's staff and partners get every notice of their role at <who>@demo.partnernet.example;"
    yield "   operators read what was sent at /console/mail)"
    yield f"  residents' course calendar: {base_url}/m/zuidstad/courses (what its libraries and partners publish)"
    yield f"  open data (HSDS): {base_url}/m/zuidstad/hsds/ (dataset: {base_url}/m/zuidstad/hsds/datapackage.zip)"
    for person in people:
        yield f"  {_label(person)}: {issuer.issue(person.actor())}"


def demo_people(partners: list[dict[str, Any]]) -> list[DemoPerson]:
    names = {library["slug"]: library["name"] for library in LIBRARIES}
    return [
        DemoPerson(
            role=Role.COORDINATOR, name=MUNICIPALITY["name"], subject="demo-coordinator", municipality="zuidstad"
        ),
        *(
            DemoPerson(
                role=Role.STAFF, name=names[slug], subject=f"demo-staff-{slug}", municipality="zuidstad", library=slug
            )
            for slug in names
        ),
        *(
            DemoPerson(
                role=Role.PARTNER,
                name=partner["name"],
                subject=f"demo-partner-{partner['id']}",
                municipality="zuidstad",
                partner=partner["id"],
            )
            for partner in partners
        ),
    ]


def demo_address(person: DemoPerson) -> str:
    return f"{person.subject}@demo.partnernet.example"


def _choose_notices(base_url: str, token: str, email: str) -> None:
    """Every notice of the person's role, unless they chose already (a second run leaves their choice)."""
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10) as client:
        current = client.get("/api/v1/notices/preferences").raise_for_status().json()
        if current["version"] == 0:
            body = {"email": email, "kinds": current["available"]}
            client.put("/api/v1/notices/preferences", json=body).raise_for_status()


def _give_address(client: httpx.Client, library: dict[str, str]) -> None:
    """A library seeded before the demo had general addresses gets one; one its staff changed stays theirs."""
    path = f"/api/v1/libraries/{library['slug']}"
    found = client.get(path).raise_for_status().json()
    missing = {key: library[key] for key in ("email", "phone") if not found.get(key)}
    if missing and not (found.get("email") or found.get("phone")):
        client.patch(path, json=missing).raise_for_status()


def _label(person: DemoPerson) -> str:
    """How the token lines have always read (scripts and tests find them by these words)."""
    if person.role is Role.STAFF:
        return f"staff of {person.library}"
    if person.role is Role.PARTNER:
        return f"partner {person.name} ({person.partner})"
    return "coordinator"


def _create(client: httpx.Client, path: str, body: dict[str, Any]) -> Any:
    response = client.post(path, json=body)
    if response.status_code == 409:  # seeded before
        return None
    response.raise_for_status()
    return response.json()
