"""A request with a field the API does not know is a 422 naming it, for every service, and nothing is stored.

One representative route per service, each with an otherwise valid body: the same body without the stray
field is accepted, so the field alone is what was refused. Which structs refuse unknown fields (every
request) and which stay tolerant (events and views) is tests/contracts/test_request_structs.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import msgspec
import pytest
import sqlalchemy as sa

from services.referrals import store as referral_store
from shared.contracts.partners.api.organisations import GetPartner
from shared.operations import rpc_subject
from shared.rpc import RpcReply, RpcRequest
from shared.tenancy import Actor, Role
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant
from tests.referral_bodies import referral_body
from tests.services.courses.support import course_body, course_tenant
from tests.services.volunteers.volunteer_tenant import known_to_volunteers
from tests.waiting import PATIENCE_SECONDS

SERVICES = ["partners", "referrals", "courses (a nested struct)", "volunteers"]


@pytest.fixture(scope="module")
async def tenant(platform: RunningPlatform) -> Tenant:
    tenant = await course_tenant(platform)
    await known_to_volunteers(platform, [tenant.library_a, tenant.library_b], [], [])
    return tenant


@dataclass(frozen=True)
class Case:
    path: str
    token: str
    body: dict[str, Any]
    stray: str  # the unknown field; dotted where it is inside a nested struct
    stored: Callable[[], Awaitable[int]]  # how many resources carry this case's tag


def cases(platform: RunningPlatform, tenant: Tenant) -> dict[str, Case]:
    tag = uuid.uuid4().hex

    def listed(path: str, token: str, **params: str) -> Callable[[], Awaitable[int]]:
        async def count() -> int:
            async with platform.client(token) as api:
                response = await api.get(path, params={"limit": 200, **params})
            assert response.status_code == 200, response.text
            return response.text.count(tag)

        return count

    async def referrals_stored() -> int:  # a referral's reason is not in its summary: ask the database
        table = referral_store.referrals
        async with platform.services["referrals"].sessions() as session:
            statement = sa.select(sa.func.count()).where(table.c.reason.contains(tag))
            return int((await session.execute(statement)).scalar_one())

    operator = platform.token(Role.OPERATOR)
    return {
        "partners": Case(
            "/api/v1/partners",
            operator,
            {"name": f"Taalhuis {tag}", "kind": "referrer", "municipality": tenant.municipality},
            "verified",
            listed("/api/v1/partners", operator, municipality=tenant.municipality),
        ),
        "referrals": Case(
            "/api/v1/referrals",
            tenant.partner_a_token,
            referral_body(tenant.library_a, tenant.partner_a, reason=f"Wil beter lezen {tag}"),
            "status",
            referrals_stored,
        ),
        "courses (a nested struct)": Case(
            "/api/v1/courses",
            tenant.staff_a,
            course_body(details={"title": f"Klik & Tik {tag}"}),
            "details.discount_cents",
            listed("/api/v1/courses", tenant.staff_a, library=tenant.library_a),
        ),
        "volunteers": Case(
            "/api/v1/vacancies",
            tenant.staff_a,
            {"title": f"Taalmaatje {tag}", "description": "Oefent Nederlands", "hours_per_week": 2},
            "salary_cents",
            listed("/api/v1/vacancies", tenant.staff_a),
        ),
    }


def with_stray(body: dict[str, Any], stray: str) -> dict[str, Any]:
    """The body with `stray` (a dotted path) set, as a caller who misspelt or invented a field would send it."""
    *parents, name = stray.split(".")
    changed: dict[str, Any] = msgspec.json.decode(msgspec.json.encode(body))
    node = changed
    for parent in parents:
        node = node[parent]
    node[name] = 1
    return changed


@pytest.mark.parametrize("service", SERVICES)
async def test_an_unknown_field_is_a_422_that_names_it_and_stores_nothing(
    platform: RunningPlatform, tenant: Tenant, service: str
) -> None:
    case = cases(platform, tenant)[service]
    async with platform.client(case.token) as api:
        refused = await api.post(case.path, json=with_stray(case.body, case.stray))
        assert await case.stored() == 0
        accepted = await api.post(case.path, json=case.body)  # the same, without the stray field
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    problem = refused.json()
    assert problem["type"] == "urn:partnernet:problem:invalid-input" and problem["status"] == 422
    field = case.stray.rpartition(".")[2]
    assert any(f"unknown field `{field}`" in error["message"] for error in problem["errors"]), problem
    assert accepted.status_code == 201, accepted.text
    assert await case.stored() == 1, "only the accepted request stored something"


async def test_a_service_refuses_an_unknown_field_in_an_operation_too(platform: RunningPlatform) -> None:
    """Not only at the gateway: a caller on NATS that sends a field the operation lacks gets invalid-input."""
    broker = platform.services["partners"].broker
    body = {**msgspec.to_builtins(GetPartner(partner_id=uuid.uuid4())), "municipality": "elders"}
    request = RpcRequest(actor=Actor(subject="test", role=Role.OPERATOR), body=msgspec.Raw(msgspec.json.encode(body)))
    response = await broker.request(
        msgspec.json.encode(request), rpc_subject("partners", "get_partner"), timeout=PATIENCE_SECONDS
    )
    reply = msgspec.json.decode(response.body, type=RpcReply)
    assert reply.error is not None and reply.error.code == "invalid-input"
    assert "unknown field `municipality`" in reply.error.detail
