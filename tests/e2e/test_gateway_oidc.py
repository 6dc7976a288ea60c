"""A municipality's own identity provider: the gateway takes its RS256 tokens beside the embedded issuer's."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any
from uuid import uuid4

import pytest

from launcher.embedded import EmbeddedNats
from shared.contracts.partners.api import operations as partner_ops
from shared.contracts.partners.api.organisations import GetPartner
from shared.errors import NotFound
from shared.settings import Settings
from shared.tenancy import Actor, Role
from shared.tokens import TokenIssuer
from tests.fixtures.platform import make_settings
from tests.gateway.jwks import AUDIENCE, ISSUER, Keys, serve_jwks, token
from tests.gateway.stubs import StubbedGateway, stubbed_gateway


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys()


@pytest.fixture(scope="module")
def jwks_url(keys: Keys) -> Iterator[str]:
    with serve_jwks(keys) as url:
        yield url


@pytest.fixture(scope="module")
async def gateway(
    tmp_path_factory: pytest.TempPathFactory, database_url: str, jwks_url: str
) -> AsyncIterator[StubbedGateway]:
    workdir = tmp_path_factory.mktemp("oidc")
    with EmbeddedNats(workdir / "nats") as server:
        settings = Settings(
            **{
                **make_settings(server.url, database_url, workdir / "data").__dict__,
                "oidc_issuer": ISSUER,
                "oidc_jwks_url": jwks_url,
                "oidc_audience": AUDIENCE,
            }
        )
        async with stubbed_gateway(settings) as gw:

            async def get_partner(actor: Actor, query: GetPartner) -> Any:
                raise NotFound(f"{actor.role.value} {actor.subject} of {actor.library}")

            await gw.stubs.answer(partner_ops.GET_PARTNER, get_partner)
            yield gw


async def test_a_token_of_the_configured_issuer_reaches_the_service_as_its_actor(
    gateway: StubbedGateway, keys: Keys
) -> None:
    async with gateway.client(token(keys)) as api:
        response = await api.get(f"/api/v1/partners/{uuid4()}")
    assert response.status_code == 404
    assert response.json()["detail"] == "staff medewerker-17 of bieb-zuid"


async def test_embedded_tokens_keep_working_beside_it(gateway: StubbedGateway) -> None:
    operator = TokenIssuer(gateway.settings.jwt_secret).issue(Actor(subject="ops", role=Role.OPERATOR))
    async with gateway.client(operator) as api:
        response = await api.get(f"/api/v1/partners/{uuid4()}")
    assert response.json()["detail"] == "operator ops of None"


async def test_a_token_for_another_audience_is_a_401(gateway: StubbedGateway, keys: Keys) -> None:
    async with gateway.client(token(keys, aud="another-api")) as api:
        response = await api.get(f"/api/v1/partners/{uuid4()}")
    assert response.status_code == 401
    assert response.json()["type"] == "urn:partnernet:problem:unauthorized"
