"""The OpenAPI document says what the API enforces, so that a client generated from it sends what is accepted.

Each rule here was a request valid by the document that the API refused (found by schemathesis'
positive-data check against a running platform): unknown fields in a body, a list item's pattern, an
optional number's minimum, a library's slug, a cursor, If-Match, Last-Event-ID and a bound of 0.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from gateway.dependencies import parse_if_match
from gateway.docs import msgspec_schema, struct_types
from shared.errors import InvalidInput
from shared.pagination import encode_cursor
from tests.fixtures.platform import RunningPlatform


@pytest.fixture(scope="module")
async def document(platform: RunningPlatform) -> dict[str, Any]:
    async with platform.client() as api:
        found: dict[str, Any] = (await api.get("/schema/openapi.json")).json()
    return found


def parameters(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{method.upper()} {path}", parameter)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method != "parameters"
        for parameter in operation.get("parameters", [])
    ]


def test_a_body_that_refuses_unknown_fields_says_so(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    strict = [
        name
        for name, cls in struct_types().items()
        if name in schemas and (msgspec_schema(cls) or {}).get("additionalProperties") is False
    ]
    assert "ApiKeyRequest" in strict and len(strict) > 50
    assert [name for name in strict if schemas[name].get("additionalProperties") is not False] == []


def test_constraints_inside_lists_and_optional_values_are_in_the_document(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert schemas["ApiKeyRequest"]["properties"]["scopes"]["items"]["pattern"] == "^[a-z][a-z-]*:(read|write)$"
    (hours, _null) = schemas["VacancyChanges"]["properties"]["hours_per_week"]["oneOf"]
    assert hours["minimum"] == 0


def test_slugs_and_cursors_in_queries_and_paths_carry_their_pattern(document: dict[str, Any]) -> None:
    unstated = [
        f"{operation} {parameter['name']}"
        for operation, parameter in parameters(document)
        if parameter["name"] in ("library", "municipality", "cursor", "code")
        and "pattern" not in str(parameter["schema"])
    ]
    assert unstated == []
    (cursor_pattern,) = {
        re.search(r"'pattern': '([^']+)'", str(parameter["schema"])).group(1)  # type: ignore[union-attr]
        for _, parameter in parameters(document)
        if parameter["name"] == "cursor"
    }
    # Every cursor the API gives out fits the pattern it documents.
    for key in [("2026-12-03T10:00:00+00:00", "01a23c2a-aa8a-7398-bca8-56918fe33f22"), (7,), ("Ünïcode ✓",)]:
        assert re.fullmatch(cursor_pattern, encode_cursor(*key))


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ('"3"', True),
        ('W/"12"', True),
        ("*", True),
        ("", True),
        ("7", True),
        ('"0"', False),
        ("abc", False),
        ("null", False),
        ('"1", "2"', False),
        ('"1234567890123456789"', False),
    ],
)
def test_if_match_documents_exactly_what_the_gateway_takes(
    document: dict[str, Any], value: str, accepted: bool
) -> None:
    patterns = {
        parameter["schema"]["pattern"] for _, parameter in parameters(document) if parameter["name"] == "If-Match"
    }
    assert len(patterns) == 1
    (pattern,) = patterns
    assert bool(re.fullmatch(pattern, value)) is accepted
    try:
        parse_if_match(value)
        taken = True
    except InvalidInput:
        taken = False
    assert taken is accepted


def test_a_bound_of_zero_is_in_the_document(document: dict[str, Any]) -> None:
    afters = [parameter for operation, parameter in parameters(document) if parameter["name"] == "after"]
    assert len(afters) >= 3 and all(parameter["schema"].get("minimum") == 0 for parameter in afters)
    last_event_ids = [p for _, p in parameters(document) if p["name"] == "Last-Event-ID"]
    assert last_event_ids and all("pattern" in p["schema"] for p in last_event_ids)
