"""The generated reads of one resource by its id are answered by the gateway's one pass (gateway/fast_reads.py),
not by Litestar's route: the answers must be the ones Litestar's route gives. The same read with a trailing slash
still goes through Litestar's route (its router takes it, the fast path does not), so the two are compared."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from shared.contracts.partners.api import operations as partner_ops
from shared.contracts.partners.api.organisations import GetPartner
from shared.errors import NotFound
from shared.tenancy import Actor, Role
from shared.tokens import TokenIssuer
from tests.fixtures.platform import make_settings
from tests.gateway.stubs import StubbedGateway, stubbed_gateway

KNOWN = "01a226a7-0000-7000-8000-000000000001"
MISSING = "01a226a7-0000-7000-8000-000000000002"
# Headers that differ between any two requests.
PER_REQUEST = {"x-request-id", "ratelimit-remaining", "ratelimit-reset", "date"}


# One gateway for the module: building one and completing its OpenAPI document as it starts costs about a second of
# the worker's CPU. A test counts only the stubs' calls made while it runs (`gateway` below).
@pytest.fixture(scope="module")
async def module_gateway(
    lonely_nats: str, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[StubbedGateway]:
    data_dir = tmp_path_factory.mktemp("gateway") / "data"
    async with stubbed_gateway(make_settings(lonely_nats, database_url, data_dir)) as running:

        async def get_partner(actor: Actor, query: GetPartner) -> Any:
            if str(query.partner_id) != KNOWN:
                raise NotFound(f"partner {query.partner_id} not found")
            return {"id": KNOWN, "name": "Taalhuis", "version": 7}

        await running.stubs.answer(partner_ops.GET_PARTNER, get_partner)
        yield running


@pytest.fixture
def gateway(module_gateway: StubbedGateway) -> StubbedGateway:
    module_gateway.stubs.calls.clear()
    return module_gateway


def _comparable(response: httpx.Response) -> tuple[int, dict[str, str], Any]:
    headers = {k: v for k, v in response.headers.items() if k not in PER_REQUEST}
    body = response.json()
    if isinstance(body, dict):
        body.pop("instance", None)  # the path asked, slash and all
    return response.status_code, headers, body


def test_the_reads_by_id_are_found_and_others_left_to_litestar(tmp_path: Path) -> None:
    app = create_app(make_settings("nats://127.0.0.1:1", "postgresql://x@127.0.0.1:1/x", tmp_path))
    fast = app.asgi_handler.fast_reads  # type: ignore[attr-defined]
    read = fast.match("GET", f"/api/v1/referrals/{KNOWN}")
    assert read is not None and read[0].template == "/api/v1/referrals/{referral_id}"
    assert fast.match("GET", f"/api/v1/partners/{KNOWN}") is not None
    assert fast.match("POST", f"/api/v1/referrals/{KNOWN}") is None
    assert fast.match("GET", f"/api/v1/referrals/{KNOWN}/") is None
    assert fast.match("GET", "/api/v1/referrals/statistics") is None
    assert fast.match("GET", f"/api/v1/referrals/{KNOWN.replace('-', '')}") is None  # Litestar's spelling rules
    assert fast.match("GET", f"/api/v1/referrals/{KNOWN}/access-log") is None  # it takes query parameters


@pytest.mark.parametrize("partner", [KNOWN, MISSING])
async def test_a_fast_read_answers_as_litestars_route(gateway: StubbedGateway, partner: str) -> None:
    token = TokenIssuer(gateway.settings.jwt_secret).issue(Actor(subject="op", role=Role.OPERATOR))
    async with gateway.client(token) as api:
        fast = await api.get(f"/api/v1/partners/{partner}")
        routed = await api.get(f"/api/v1/partners/{partner}/")
    assert _comparable(fast) == _comparable(routed)
    assert len(fast.headers["x-request-id"]) == 32 and "ratelimit-limit" in fast.headers
    if partner == KNOWN:
        assert fast.status_code == 200 and fast.headers["etag"] == '"7"' and fast.json()["name"] == "Taalhuis"
    else:
        assert fast.status_code == 404 and fast.json()["instance"] == f"/api/v1/partners/{partner}"
    subjects = [subject for subject, _, _ in gateway.stubs.calls if subject == partner_ops.GET_PARTNER.subject]
    assert len(subjects) == 2, "each answered by the service once"


async def test_a_fast_read_without_or_with_bad_credentials_is_the_same_problem(gateway: StubbedGateway) -> None:
    async with gateway.client() as anonymous, gateway.client("not-a-token") as bad:
        for api in (anonymous, bad):
            fast = await api.get(f"/api/v1/partners/{KNOWN}")
            routed = await api.get(f"/api/v1/partners/{KNOWN}/")
            assert fast.status_code == 401
            assert _comparable(fast) == _comparable(routed)
    assert not [call for call in gateway.stubs.calls if call[0] == partner_ops.GET_PARTNER.subject]
