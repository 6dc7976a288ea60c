"""Signing in on a demo platform by choosing one of its people, and only there."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from gateway.console.demo import DemoPerson, write_demo_people
from shared.settings import Settings
from shared.tenancy import Role
from tests.console.conftest import ConsoleClient
from tests.fixtures.platform import RunningPlatform, another_gateway
from tests.fixtures.tenants import Tenant, register_tenant


# The module's tests only read (sign-in pages, sign-ins): one tenant, one people file and one gateway for them all.
# A gateway is built and its OpenAPI document completed when it starts, about a second of the worker's CPU each.
@pytest.fixture(scope="module")
async def demo_tenant(platform: RunningPlatform) -> Tenant:
    return await register_tenant(platform)


@pytest.fixture(scope="module")
def people_file(tmp_path_factory: pytest.TempPathFactory, demo_tenant: Tenant) -> Path:
    tenant = demo_tenant
    path = tmp_path_factory.mktemp("demo") / "demo-people.json"
    write_demo_people(
        path,
        [
            DemoPerson(
                role=Role.STAFF,
                name="Bibliotheek Demo Centrum",
                subject="demo-staff",
                municipality=tenant.municipality,
                library=tenant.library_a,
            ),
            DemoPerson(
                role=Role.PARTNER,
                name="UWV Demo",
                subject="demo-partner",
                municipality=tenant.municipality,
                partner=tenant.partner_a,
            ),
            # Someone whose library does not exist (any more): the minted token must hold like any other.
            DemoPerson(
                role=Role.STAFF, name="Nergens", subject="demo-x", municipality=tenant.municipality, library="weg"
            ),
        ],
    )
    return path


@pytest.fixture(scope="module")
async def demo_gateway(platform: RunningPlatform, people_file: Path) -> AsyncIterator[str]:
    """A real gateway (it asks the partners service whether each token's tenants exist) on a demo platform."""
    settings = Settings(**{**platform.settings.__dict__, "demo_people_file": people_file})
    async with another_gateway(settings) as url:
        yield url


def console_of(url: str) -> ConsoleClient:
    return ConsoleClient(SimpleNamespace(base_url=url))  # type: ignore[arg-type]  # it only reads base_url


async def sign_in_as(console: ConsoleClient, person: Any) -> Any:
    await console.get("/console/sign-in")
    return await console.post("/console/sign-in/demo", {"person": str(person)})


async def test_a_demo_offers_its_people_and_signs_in_as_the_one_chosen(demo_gateway: str, demo_tenant: Tenant) -> None:
    tenant = demo_tenant
    console = console_of(demo_gateway)
    try:
        page = await console.get("/console/sign-in")
        assert "Demo: inloggen als een van de demo-gebruikers" in page.text
        assert "Medewerker" in page.text or "Bibliotheek Demo Centrum" in page.text
        assert "UWV Demo" in page.text
        signed_in = await sign_in_as(console, 0)
        assert signed_in.status_code == 303, signed_in.text
        assert any(c.startswith("pn_session=") for c in signed_in.headers.get_list("set-cookie"))
        inbox = await console.get(signed_in.headers["location"])
        assert inbox.status_code == 200 and f"Medewerker {tenant.library_a}" in inbox.text

        partner = console_of(demo_gateway)
        as_partner = await sign_in_as(partner, 1)
        assert as_partner.status_code == 303
        await partner.aclose()
    finally:
        await console.aclose()


@pytest.mark.parametrize("person", ["3", "99", "-1", "x", ""])
async def test_nobody_outside_the_demo_list_can_be_chosen(demo_gateway: str, person: str) -> None:
    console = console_of(demo_gateway)
    try:
        answer = await sign_in_as(console, person)
        assert answer.status_code == 404
        assert not any(c.startswith("pn_session=") for c in answer.headers.get_list("set-cookie"))
    finally:
        await console.aclose()


async def test_a_demo_person_whose_library_does_not_exist_is_not_let_in(demo_gateway: str) -> None:
    console = console_of(demo_gateway)
    try:
        answer = await sign_in_as(console, 2)
        assert answer.status_code == 401
        assert not any(c.startswith("pn_session=") for c in answer.headers.get_list("set-cookie"))
    finally:
        await console.aclose()


async def test_a_platform_that_is_no_demo_offers_nobody_and_says_how_to_get_in(platform: RunningPlatform) -> None:
    console = ConsoleClient(platform)
    try:
        page = await console.get("/console/sign-in")
        assert "Demo" not in page.text and "sign-in/demo" not in page.text
        assert "Hoe kom ik binnen?" in page.text and "partnernet token --role staff" in page.text
        english = await console.get("/console/sign-in", headers={"accept-language": "en"})
        assert "How do I get in?" in english.text or "Hoe kom ik binnen?" in english.text
        assert (await console.post("/console/sign-in/demo", {"person": "0"})).status_code == 404
    finally:
        await console.aclose()
