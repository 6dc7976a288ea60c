"""The published contracts: OpenAPI with every failure documented, docs UI and AsyncAPI served without internet."""

from __future__ import annotations

import re
from typing import Any

import msgspec

from gateway.docs import SWAGGER_ASSETS
from shared.contracts import load_catalogue
from shared.contracts.vocabulary import CURSOR_PATTERN
from tests.fixtures.platform import RunningPlatform

EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.IGNORECASE)


def resolve(document: dict[str, Any], ref: str) -> Any:
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in refs(value)]
    return []


async def test_the_docs_ui_loads_nothing_from_the_internet(platform: RunningPlatform) -> None:
    async with platform.client() as api:
        page = await api.get("/schema/swagger")
        assert page.status_code == 200
        assert not EXTERNAL.search(page.text), "the docs page must not load anything from a CDN"
        assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
        assert {f"{SWAGGER_ASSETS}/swagger-ui-bundle.js", f"{SWAGGER_ASSETS}/swagger-ui.css"} <= set(assets)
        for asset in assets:
            served = await api.get(asset)
            assert served.status_code == 200, asset
            assert len(served.content) > 100, asset


async def test_every_operation_documents_its_problems_and_security(platform: RunningPlatform) -> None:
    async with platform.client() as api:
        document = (await api.get("/schema/openapi.json")).json()
    assert {"bearer", "apiKey"} <= set(document["components"]["securitySchemes"])
    operations = [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]
    assert len(operations) > 10
    for path, method, operation in operations:
        responses = operation["responses"]
        where = f"{method.upper()} {path}"
        assert "500" in responses, where
        if path.startswith("/api/"):
            for status in ("401", "403", "404", "422", "429", "503", "504"):
                assert status in responses, f"{where} does not document {status}"
                problem = responses[status]["content"]["application/problem+json"]["schema"]
                required = set(resolve(document, problem["$ref"])["required"])
                assert required == {"type", "title", "status", "detail", "instance"}
            if method in {"post", "put", "patch"}:
                assert {"409", "413"} <= set(responses), where
        if method == "post":
            assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in operation["parameters"]), where
    assert document["paths"]["/health"]["get"]["security"] == []
    for ref in refs(document):
        resolve(document, ref)


async def test_the_asyncapi_document_has_every_event_and_the_partner_feed(platform: RunningPlatform) -> None:
    async with platform.client() as api:
        document = (await api.get("/asyncapi.json")).json()
        page = await api.get("/asyncapi")
    assert document["asyncapi"] == "3.0.0"
    catalogue = load_catalogue()
    addresses = {channel["address"] for channel in document["channels"].values()}
    for qualified, cls in catalogue.items():
        short = qualified.removeprefix("nl.partnernet.")
        assert f"events.{cls.service}.{short}.{{municipality}}.{{library}}" in addresses, qualified
        message = document["components"]["messages"][f"{cls.__name__}V{cls.version}"]
        envelope = resolve(document, message["payload"]["$ref"])
        assert envelope["properties"]["type"]["const"] == qualified
        data_schema = resolve(document, envelope["properties"]["data"]["$ref"])
        (_expected,), components = msgspec.json.schema_components([cls], ref_template="#/components/schemas/{name}")
        assert data_schema == components[cls.__name__]
    assert "partner-feed" in document["channels"]
    for operation in document["operations"].values():
        assert operation["action"] == "receive"
        resolve(document, operation["channel"]["$ref"])
    for ref in refs(document):
        resolve(document, ref)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "events.referrals.referral.submitted.v1.{municipality}.{library}" in page.text
    assert not EXTERNAL.search(page.text)


def said(schema: dict[str, Any], key: str) -> Any:
    """A parameter's constraint, on the schema itself or on its non-null choice (an optional parameter's `oneOf`)."""
    choices = [schema, *(choice for choice in schema.get("oneOf", []) if choice.get("type") != "null")]
    return next((choice[key] for choice in choices if key in choice), None)


async def test_every_list_that_answers_a_next_cursor_takes_it_back(platform: RunningPlatform) -> None:
    """A page's `next_cursor` is useless unless the same route takes it as `cursor` (issue 20: the mail outbox, the
    counterparts and a session's residents had none), with the cursor's pattern and a bounded `limit`."""
    async with platform.client() as api:
        document = (await api.get("/schema/openapi.json")).json()
    paged: list[str] = []
    misses: list[str] = []
    for path, item in document["paths"].items():
        operation = item.get("get")
        content = operation and operation["responses"].get("200", {}).get("content", {}).get("application/json")
        if not content:
            continue
        schema = content["schema"]
        schema = resolve(document, schema["$ref"]) if "$ref" in schema else schema
        if "next_cursor" not in schema.get("properties", {}):
            continue
        paged.append(path)
        query = {p["name"]: p["schema"] for p in operation.get("parameters", []) if p["in"] == "query"}
        assert "cursor" in query and "limit" in query, f"GET {path} answers a next_cursor but takes no cursor"
        if said(query["cursor"], "pattern") != CURSOR_PATTERN or said(query["limit"], "maximum") != 200:
            misses.append(path)
    assert misses == []
    assert {"/api/v1/notices/mail", "/api/v1/referrals/counterparts", "/api/v1/sessions/{session_id}/residents"} <= set(
        paged
    )
