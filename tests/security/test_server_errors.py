"""Bad input that once made the gateway answer 500: each class is tried on every operation it applies to."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest

from shared.tokens import AUDIENCE, ISSUER
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant

PROBLEM = "application/problem+json"
OPERATION_METHODS = ("get", "post", "put", "patch", "delete")


async def openapi(platform: RunningPlatform) -> dict[str, Any]:
    async with platform.client() as api:
        return (await api.get("/schema/openapi.json")).json()


def concrete(path: str, operation: dict[str, Any], tenant: Tenant) -> str:
    """A path of the document with every parameter filled in: ids that do not exist, the tenant's slugs."""
    values = {"library": tenant.library_a, "municipality": tenant.municipality, "slug": tenant.library_a}
    for parameter in operation.get("parameters", []):
        if parameter.get("in") != "path":
            continue
        name, schema = parameter["name"], parameter.get("schema", {})
        if schema.get("type") == "integer":
            value = "2026"
        elif schema.get("format") == "uuid":
            value = str(uuid.uuid4())
        else:
            value = values.get(name, tenant.library_a)
        path = path.replace("{" + name + "}", value)
    return path


def operations(document: dict[str, Any], *, where: Any) -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for path, item in document["paths"].items():
        for method in OPERATION_METHODS:
            operation = item.get(method)
            if operation is not None and not path.endswith("/live") and where(operation):
                found.append((method.upper(), path, operation))
    return found


def takes_json(operation: dict[str, Any]) -> bool:
    return "application/json" in operation.get("requestBody", {}).get("content", {})


def takes_if_match(operation: dict[str, Any]) -> bool:
    return any(p.get("in") == "header" and p["name"].lower() == "if-match" for p in operation.get("parameters", []))


def assert_client_error(response: httpx.Response, what: str) -> None:
    assert 400 <= response.status_code < 500, f"{what}: {response.status_code} {response.text[:300]}"
    assert response.headers["content-type"].startswith(PROBLEM), what


async def test_a_json_body_that_is_not_utf8_is_a_400_on_every_operation(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    document = await openapi(platform)
    found = operations(document, where=takes_json)
    assert len(found) > 40
    async with platform.client(tenant.operator) as api:
        for method, path, operation in found:
            response = await api.request(
                method,
                concrete(path, operation, tenant),
                content=b'{"name": "caf\xe9 \xff\xfe"}',
                headers={"content-type": "application/json"},
            )
            assert_client_error(response, f"{method} {path}")
            assert response.status_code == 400, f"{method} {path}"


async def test_a_json_body_that_is_not_utf8_is_a_400_with_an_idempotency_key_too(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    """The idempotency store reads the body before the route does: the same 400, and nothing kept for the key."""
    document = await openapi(platform)
    found = operations(document, where=lambda op: takes_json(op))
    found = [(method, path, operation) for method, path, operation in found if method == "POST"]
    assert len(found) > 30
    async with platform.client(tenant.operator) as api:
        for n, (method, path, operation) in enumerate(found):
            url = concrete(path, operation, tenant)
            for body in (b'{"name": "caf\xe9 \xff\xfe"}', b"\xff\xfe{}", b'"\xc3"'):
                headers = {"content-type": "application/json", "idempotency-key": f"utf8-{n}-{body.hex()}"}
                response = await api.request(method, url, content=body, headers=headers)
                assert_client_error(response, f"{method} {path} with an Idempotency-Key")
                assert response.status_code == 400, f"{method} {path}: {response.text[:200]}"


IF_MATCH_SHAPES = [b"", b'""', b"W/", b'W/""', b'"abc"', b'"-1"', b'"0"', b'"1", "2"', b'"' + b"9" * 40 + b'"']
IF_MATCH_SHAPES += [b'"\xb2"', b'W/"\xb9"', b'"3', b"\xff\xfe", '"\u0663"'.encode()]


@pytest.mark.parametrize("if_match", IF_MATCH_SHAPES)
async def test_an_empty_or_malformed_if_match_is_a_4xx_on_every_versioned_write(
    platform: RunningPlatform, tenant: Tenant, if_match: bytes
) -> None:
    document = await openapi(platform)
    found = operations(document, where=takes_if_match)
    assert len(found) >= 11
    async with platform.client(tenant.operator) as api:
        for method, path, operation in found:
            kwargs: dict[str, Any] = {"headers": {"if-match": if_match}}
            response = await api.request(method, concrete(path, operation, tenant), **kwargs)
            assert_client_error(response, f"{method} {path} with If-Match {if_match!r}")
            if "requestBody" in operation:
                response = await api.request(method, concrete(path, operation, tenant), json={}, **kwargs)
                assert_client_error(response, f"{method} {path} with If-Match {if_match!r} and a body")


async def test_expected_version_below_zero_is_a_422_on_every_versioned_write(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    document = await openapi(platform)
    schemas = document["components"]["schemas"]

    def names_expected_version(operation: dict[str, Any]) -> bool:
        ref = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
        ref = ref.get("$ref") or next((s.get("$ref") for s in ref.get("oneOf", []) if "$ref" in s), None)
        if not ref:
            return False
        return "expected_version" in schemas[ref.rsplit("/", 1)[-1]].get("properties", {})

    found = operations(document, where=names_expected_version)
    assert len(found) >= 11
    async with platform.client(tenant.operator) as api:
        for method, path, operation in found:
            response = await api.request(method, concrete(path, operation, tenant), json={"expected_version": -1})
            assert_client_error(response, f"{method} {path}")
            assert response.status_code == 422, f"{method} {path}"


async def test_a_feed_position_beyond_64_bits_is_a_4xx(platform: RunningPlatform, tenant: Tenant) -> None:
    huge = str(2**64)
    async with platform.client(tenant.partner_a_token) as api:
        page = await api.get(f"/api/v1/partners/{tenant.partner_a}/feed", params={"after": huge})
        live = await api.get(f"/api/v1/partners/{tenant.partner_a}/feed/live", headers={"last-event-id": huge})
        live_after = await api.get(f"/api/v1/partners/{tenant.partner_a}/feed/live", params={"after": huge})
    async with platform.client(tenant.staff_a) as api:
        library = await api.get(f"/api/v1/libraries/{tenant.library_a}/referrals/live", headers={"last-event-id": huge})
        library_after = await api.get(f"/api/v1/libraries/{tenant.library_a}/referrals/live", params={"after": huge})
    for what, response in {
        "feed ?after": page,
        "feed live Last-Event-ID": live,
        "feed live ?after": live_after,
        "library live Last-Event-ID": library,
        "library live ?after": library_after,
    }.items():
        assert_client_error(response, what)


async def test_a_partner_token_whose_partner_is_not_a_uuid_is_refused_not_a_500(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    # The issuer no longer mints such a token; one signed with the platform's secret by other means.
    now = datetime.now(UTC)
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "exp": now + timedelta(hours=1), "role": "partner"}
    token = jwt.encode({**claims, "partner": "not-a-uuid"}, platform.settings.jwt_secret, algorithm="HS256")
    async with platform.client(token) as api:
        for path in ("/api/v1/partners", "/api/v1/partnerships", "/api/v1/referrals", "/api/v1/courses"):
            response = await api.get(path)
            assert_client_error(response, path)
