"""A demo municipality with two libraries and partners of several kinds, seeded through the public API."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx

from shared.settings import Settings
from shared.tenancy import Actor, Role
from shared.tokens import TokenIssuer

MUNICIPALITY = {"slug": "zuidstad", "name": "Gemeente Zuidstad"}
LIBRARIES = [
    {"slug": "bibliotheek-zuidstad-centrum", "municipality": "zuidstad", "name": "Bibliotheek Zuidstad Centrum"},
    {"slug": "bibliotheek-zuidstad-noord", "municipality": "zuidstad", "name": "Bibliotheek Zuidstad Noord"},
]
PARTNERS = [
    {"name": "UWV Zuidstad", "kind": "referrer", "chamber_of_commerce_number": "34370387"},
    {"name": "Sociaal Team Zuidstad", "kind": "referrer"},
    {"name": "ROC Zuidstad", "kind": "adult_education_school", "chamber_of_commerce_number": "41178553"},
    {"name": "Volksuniversiteit Zuidstad", "kind": "folk_university"},
    {"name": "Vrijwilligerscentrale Zuidstad", "kind": "volunteer_organisation"},
]


def seed_demo(base_url: str, settings: Settings) -> Iterator[str]:
    """Seed once (a second run finds everything in place), then print a token for each role."""
    issuer = TokenIssuer(settings.jwt_secret)
    operator = issuer.issue(Actor(subject="demo-operator", role=Role.OPERATOR))
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {operator}"}, timeout=10) as client:
        _create(client, "/api/v1/municipalities", MUNICIPALITY)
        for library in LIBRARIES:
            _create(client, "/api/v1/libraries", library)
        existing = {p["name"]: p for p in client.get("/api/v1/partners").raise_for_status().json()["items"]}
        partners = [
            existing.get(p["name"]) or _create(client, "/api/v1/partners", {**p, "municipality": "zuidstad"})
            for p in PARTNERS
        ]
    yield "Demo municipality 'zuidstad' is ready. Tokens (valid 12 hours):"
    yield f"  operator:    {operator}"
    coordinator = Actor(subject="demo-coordinator", role=Role.COORDINATOR, municipality="zuidstad")
    yield f"  coordinator: {issuer.issue(coordinator)}"
    for library in LIBRARIES:
        staff = Actor(
            subject=f"demo-staff-{library['slug']}", role=Role.STAFF, municipality="zuidstad", library=library["slug"]
        )
        yield f"  staff of {library['slug']}: {issuer.issue(staff)}"
    for partner in partners:
        actor = Actor(
            subject=f"demo-partner-{partner['id']}", role=Role.PARTNER, municipality="zuidstad", partner=partner["id"]
        )
        yield f"  partner {partner['name']} ({partner['id']}): {issuer.issue(actor)}"


def _create(client: httpx.Client, path: str, body: dict[str, Any]) -> Any:
    response = client.post(path, json=body)
    if response.status_code == 409:  # seeded before
        return None
    response.raise_for_status()
    return response.json()
