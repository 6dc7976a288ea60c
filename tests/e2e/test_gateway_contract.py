"""The OpenAPI document is a contract: a property-based fuzzer (schemathesis) against the running gateway.

Bounded: about 100 generated requests over every operation, with an operator's token (the widest scope,
so most requests get past authorisation into the services). No 500, and every status code, content type,
header and body must be what the document says (a 503 naming a service that does not answer yet is one).
"""

from __future__ import annotations

import asyncio
import time
import traceback
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from shared.tenancy import Role
from tests.conftest import RunningPlatform

TOTAL_EXAMPLES = 100
# 503/504 are documented answers (a service away or slow); a 500 never is.
CHECKS = [
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def fuzz(document: dict[str, Any], base_url: str, token: str) -> tuple[int, list[str]]:
    schema = schemathesis.openapi.from_dict(document)
    operations = [
        result.ok()
        for result in schema.get_all_operations()
        if hasattr(result, "ok") and not result.ok().path.endswith("/live")  # streams never end
    ]
    per_operation = max(1, TOTAL_EXAMPLES // max(1, len(operations)))
    failures: list[str] = []
    calls = 0
    headers = {"Authorization": f"Bearer {token}"}
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=per_operation,
            phases=[Phase.explicit, Phase.generate],
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
        )
        def check(case: Any) -> None:
            nonlocal calls
            calls += 1
            response = case.call(base_url=base_url, headers=headers, timeout=10)
            assert response.status_code != 500, f"500 for {case.method} {case.formatted_path}: {response.text}"
            case.validate_response(response, checks=CHECKS, headers=headers)

        try:
            check()
        except Exception as exc:
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}\n{traceback.format_exc(limit=2)}")
    return calls, failures


async def test_the_gateway_keeps_to_its_openapi_document(platform: RunningPlatform) -> None:
    async with platform.client() as api:
        document = (await api.get("/schema/openapi.json")).json()
    started = time.monotonic()
    calls, failures = await asyncio.to_thread(fuzz, document, platform.base_url, platform.token(Role.OPERATOR))
    assert not failures, "\n\n".join(failures)
    assert calls >= len(document["paths"])
    assert time.monotonic() - started < 60
