"""The municipality's partner map: contact details for every library, partnerships only for those involved."""

from __future__ import annotations

from typing import Any

import pytest

from shared.contracts.partners.api import operations as ops
from shared.contracts.partners.api.statistics import GetPartnersStatistics
from shared.errors import Forbidden
from shared.rpc import RpcClient
from shared.tenancy import Actor, Role
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant, register_tenant
from tests.waiting import PATIENCE_SECONDS


@pytest.fixture(scope="module")
async def network(platform: RunningPlatform) -> dict[str, Any]:
    """Library A works with partner A as referrer; library B with a volunteer organisation (digital skills)."""
    tenant = await register_tenant(platform)
    async with platform.client(tenant.staff_b) as api:
        volunteers = (
            await api.post(
                "/api/v1/partners",
                json={
                    "name": "Vrijwilligerscentrale",
                    "kind": "volunteer_organisation",
                    "municipality": tenant.municipality,
                    "skill_areas": ["digital"],
                    "contacts": [{"name": "Sara", "roles": ["volunteers"], "email": "sara@vc.example"}],
                },
            )
        ).json()
        b = await api.post(
            "/api/v1/partnerships",
            json={
                "library": tenant.library_b,
                "partner_id": volunteers["id"],
                "roles": ["volunteer_supplier"],
                "starts_on": "2026-01-01",
            },
        )
        await api.post(f"/api/v1/partnerships/{b.json()['id']}/activate")
    async with platform.client(tenant.staff_a) as api:
        a = await api.post(
            "/api/v1/partnerships",
            json={
                "library": tenant.library_a,
                "partner_id": tenant.partner_a,
                "roles": ["referrer"],
                "starts_on": "2026-01-01",
            },
        )
        await api.post(f"/api/v1/partnerships/{a.json()['id']}/activate")
    # A municipality of its own with no partners, for a coordinator from outside.
    empty = f"{tenant.municipality}-leeg"
    async with platform.client(tenant.operator) as api:
        (await api.post("/api/v1/municipalities", json={"slug": empty, "name": "Gemeente Leeg"})).raise_for_status()
    return {"tenant": tenant, "volunteers": volunteers["id"], "empty_municipality": empty}


async def map_of(platform: RunningPlatform, token: str, **params: Any) -> dict[str, list[str]]:
    """Partner name → the libraries of the partnerships the caller sees."""
    async with platform.client(token) as api:
        response = await api.get("/api/v1/partners/map", params=params)
    assert response.status_code == 200, response.text
    return {
        entry["partner"]["name"].split(" ")[0]: sorted(p["library"].rsplit("-", 1)[1] for p in entry["partnerships"])
        for entry in response.json()["items"]
    }


def tokens(platform: RunningPlatform, network: dict[str, Any]) -> dict[str, str]:
    tenant: Tenant = network["tenant"]
    volunteers: str = network["volunteers"]
    return {
        "coordinator": platform.token(Role.COORDINATOR, municipality=tenant.municipality),
        "staff-a": tenant.staff_a,
        "staff-b": tenant.staff_b,
        "volunteer-organisation": platform.token(Role.PARTNER, municipality=tenant.municipality, partner=volunteers),
        "other-coordinator": platform.token(Role.COORDINATOR, municipality=network["empty_municipality"]),
    }


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        # Every library sees every partner of the municipality; a partnership only its own library.
        ("coordinator", {"UWV": ["a"], "Sociaal": [], "Vrijwilligerscentrale": ["b"]}),
        ("staff-a", {"UWV": ["a"], "Sociaal": [], "Vrijwilligerscentrale": []}),
        ("staff-b", {"UWV": [], "Sociaal": [], "Vrijwilligerscentrale": ["b"]}),
        ("volunteer-organisation", {"Vrijwilligerscentrale": ["b"]}),
        ("other-coordinator", {}),
    ],
)
async def test_who_sees_what_on_the_map(
    platform: RunningPlatform, network: dict[str, Any], who: str, expected: dict[str, list[str]]
) -> None:
    token = tokens(platform, network)[who]
    assert await map_of(platform, token) == expected


async def test_the_map_searches_by_kind_role_and_skill_area(platform: RunningPlatform, network: dict[str, Any]) -> None:
    tenant: Tenant = network["tenant"]
    coordinator = platform.token(Role.COORDINATOR, municipality=tenant.municipality)
    assert await map_of(platform, coordinator, kind="volunteer_organisation") == {"Vrijwilligerscentrale": ["b"]}
    assert await map_of(platform, coordinator, role="referrer") == {"UWV": ["a"]}
    assert await map_of(platform, coordinator, skill_area="digital") == {"Vrijwilligerscentrale": ["b"]}
    # A role is searched in the partnerships the caller may see: library B's staff do not learn of A's.
    assert await map_of(platform, tenant.staff_b, role="referrer") == {}
    async with platform.client(tenant.staff_a) as api:
        page = (await api.get("/api/v1/partners/map", params={"skill_area": "digital"})).json()
    (entry,) = page["items"]
    assert entry["partner"]["contacts"][0]["email"] == "sara@vc.example"  # contact details for every library


async def test_partnerships_are_read_by_the_library_the_coordinator_and_the_partner(
    platform: RunningPlatform, network: dict[str, Any]
) -> None:
    tenant: Tenant = network["tenant"]
    async with platform.client(tenant.staff_b) as api:
        (partnership,) = (await api.get("/api/v1/partnerships")).json()["items"]
    path = f"/api/v1/partnerships/{partnership['id']}"
    readers = tokens(platform, network)
    for who, status in [
        ("coordinator", 200),
        ("staff-b", 200),
        ("volunteer-organisation", 200),
        ("staff-a", 404),
        ("other-coordinator", 404),
    ]:
        async with platform.client(readers[who]) as api:
            assert (await api.get(path)).status_code == status, who
    async with platform.client(tenant.partner_a_token) as api:
        assert (await api.get(path)).status_code == 404


async def test_the_overview_counts_active_partnerships_within_the_callers_scope(
    platform: RunningPlatform, network: dict[str, Any]
) -> None:
    tenant: Tenant = network["tenant"]
    rpc = RpcClient(platform.services["partners"].broker.connection, timeout=PATIENCE_SECONDS)

    async def figures(actor: Actor) -> tuple[dict[str, int], dict[str, int]]:
        found = await rpc.call(ops.PARTNERS_STATISTICS, actor, GetPartnersStatistics())
        return (
            {lib.library.rsplit("-", 1)[1]: lib.active_partnerships for lib in found.libraries},
            {p.name.split(" ")[0]: p.active_partnerships for p in found.partners},
        )

    coordinator = Actor(subject="co", role=Role.COORDINATOR, municipality=tenant.municipality)
    staff = Actor(subject="st", role=Role.STAFF, municipality=tenant.municipality, library=tenant.library_a)
    assert await figures(coordinator) == ({"a": 1, "b": 1}, {"UWV": 1, "Sociaal": 0, "Vrijwilligerscentrale": 1})
    # Staff: every partner of the municipality (the library's figures may name any), with the library's partnerships.
    assert await figures(staff) == ({"a": 1}, {"UWV": 1, "Sociaal": 0, "Vrijwilligerscentrale": 0})
    with pytest.raises(Forbidden):
        await figures(
            Actor(subject="pa", role=Role.PARTNER, municipality=tenant.municipality, partner=tenant.partner_a)
        )
