"""The OpenAPI document is a contract: a property-based fuzzer (schemathesis) against the running gateway.

Bounded: two generated requests per operation, with an operator's token (the widest scope, so most requests
get past authorisation into the services), on a gateway of its own with the rate limit lifted so that every
operation is reached rather than answered 429. Each POST carries an Idempotency-Key of its own, as a client
would. No 500, and every status code, content type, header and body must be what the document says (a 503
naming a service that does not answer yet is one).
"""

from __future__ import annotations

import asyncio
import dataclasses
import traceback
import uuid
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from shared.tenancy import Role
from tests.fixtures.platform import RunningPlatform, another_gateway
from tests.waiting import PATIENCE_SECONDS

EXAMPLES_PER_OPERATION = 2
# 503/504 are documented answers (a service away or slow); a 500 never is.
CHECKS = [
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def fuzz(document: dict[str, Any], base_url: str, token: str) -> tuple[dict[str, list[int]], list[str]]:
    schema = schemathesis.openapi.from_dict(document)
    operations = [
        result.ok()
        for result in schema.get_all_operations()
        if hasattr(result, "ok") and not result.ok().path.endswith("/live")  # streams never end
    ]
    failures: list[str] = []
    answers: dict[str, list[int]] = {}
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            phases=[Phase.explicit, Phase.generate],
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
        )
        def check(case: Any) -> None:
            headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex}
            response = case.call(base_url=base_url, headers=headers, timeout=PATIENCE_SECONDS)
            answers.setdefault(f"{case.method.upper()} {case.path}", []).append(response.status_code)
            assert response.status_code != 500, f"500 for {case.method} {case.formatted_path}: {response.text}"
            case.validate_response(response, checks=CHECKS, headers=headers)

        try:
            check()
        except Exception as exc:
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}\n{traceback.format_exc(limit=2)}")
    return answers, failures


# Two examples of every operation: 184 s measured at a load average of 15
# (the document's parsing alone is CPU-bound); the suite's 120 s default cut it off there.
@pytest.mark.timeout(480)
async def test_the_gateway_keeps_to_its_openapi_document(platform: RunningPlatform) -> None:
    unlimited = dataclasses.replace(platform.settings, rate_limit_per_minute=10_000_000)
    async with another_gateway(unlimited) as url, httpx.AsyncClient(base_url=url) as api:
        document = (await api.get("/schema/openapi.json")).json()
        answers, failures = await asyncio.to_thread(fuzz, document, url, platform.token(Role.OPERATOR))
    assert not failures, "\n\n".join(failures)
    operations = {
        f"{method.upper()} {path}"
        for path, item in document["paths"].items()
        for method in item
        if method != "parameters"
    }
    streams = {name for name in operations if name.endswith("/live")}
    assert set(answers) == operations - streams, "every operation but the never-ending streams was called"
    assert [name for name, statuses in answers.items() if set(statuses) == {429}] == [], "each one reached"
