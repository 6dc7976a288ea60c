"""Requests refuse fields they do not know; events and views stay tolerant of fields added later.

A request is every struct a service's operation decodes (`runtime.bind(OPERATION, …)`: every operation is
declared, and its declaration names the request) or a gateway route
takes as its JSON body, with the structs inside it. An unknown field there is a mistake of the caller (a
typo, a field of another version, `status` or `is_admin` slipped in), answered with a 422 that names it.
Events and the views the gateway reads back must keep decoding when a newer producer adds a field, so a
struct that is also part of an event or a view stays tolerant even where a request uses it.
"""

from __future__ import annotations

import secrets
import typing
from collections.abc import Iterator
from typing import Any, get_args, get_origin

import msgspec
import pytest
from cryptography.fernet import Fernet
from litestar.routes import HTTPRoute

from gateway.app import create_app
from shared.contracts import load_catalogue
from shared.operations import Operation
from shared.service import ServiceRuntime
from shared.settings import Settings
from shared.telemetry import setup_telemetry
from tests.fixtures.platform import BUILDERS


def structs_in(annotation: Any, found: set[type[msgspec.Struct]] | None = None) -> set[type[msgspec.Struct]]:
    """Every struct type an annotation names, through containers, unions, generics and fields."""
    found = set() if found is None else found
    origin = get_origin(annotation)
    if origin is not None:
        for part in (origin, *get_args(annotation)):
            structs_in(part, found)
    elif isinstance(annotation, type) and issubclass(annotation, msgspec.Struct) and annotation not in found:
        found.add(annotation)
        for field_type in typing.get_type_hints(annotation).values():
            structs_in(field_type, found)
    return found


def operation_bodies(monkeypatch: pytest.MonkeyPatch) -> dict[str, type]:
    """`<service>.<operation>` -> the body type it decodes, from each service's own wiring."""
    bodies: dict[str, type] = {}

    def bound(runtime: ServiceRuntime, operation: Operation[Any, Any], use_case: Any) -> None:
        bodies[f"{runtime.name}.{operation.name}"] = operation.request

    monkeypatch.setattr(ServiceRuntime, "bind", bound)
    monkeypatch.setattr(ServiceRuntime, "require_bound", lambda runtime, operations: None)
    keys = {name: secrets.token_urlsafe(32) for name in ("jwt_secret", "pseudonym_key", "blind_index_key")}
    settings = Settings(encryption_key=Fernet.generate_key().decode(), **_known(keys))
    for name, build in BUILDERS.items():
        telemetry = setup_telemetry(name, otlp_endpoint=None)
        try:
            build(settings, telemetry=telemetry)  # wires operations; connects to nothing
        finally:
            telemetry.shutdown()
    return bodies


def _known(values: dict[str, str]) -> dict[str, Any]:
    """Only the settings this version has (a key another change adds is passed once it exists)."""
    return {name: value for name, value in values.items() if name in Settings.__dataclass_fields__}


def gateway_types() -> tuple[dict[str, Any], list[Any]]:
    """The JSON body of every route (by `METHOD path`), and every route's response type."""
    app = create_app(Settings(jwt_secret=secrets.token_urlsafe(32)))
    bodies: dict[str, Any] = {}
    responses: list[Any] = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            signature = handler.parsed_fn_signature
            if "data" in signature.parameters:
                bodies[f"{sorted(handler.http_methods)} {route.path}"] = signature.parameters["data"].annotation
            responses.append(signature.return_type.annotation)
    return bodies, responses


def contract_structs(types: set[type[msgspec.Struct]]) -> Iterator[type[msgspec.Struct]]:
    return (t for t in types if t.__module__.startswith("shared.contracts."))


@pytest.fixture(scope="module")
def kinds() -> dict[str, set[type[msgspec.Struct]]]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        operations = operation_bodies(monkeypatch)
    bodies, responses = gateway_types()
    requests: set[type[msgspec.Struct]] = set()
    for annotation in [*operations.values(), *bodies.values()]:
        structs_in(annotation, requests)
    events: set[type[msgspec.Struct]] = set()
    for event in load_catalogue().values():
        structs_in(event, events)
    views: set[type[msgspec.Struct]] = set()
    for annotation in responses:
        structs_in(annotation, views)
    assert len(operations) > 100 and len(bodies) > 50, "the wiring was not read"
    return {"requests": requests, "events": events, "views": views}


def name(struct: type) -> str:
    return f"{struct.__module__.removeprefix('shared.contracts.')}.{struct.__qualname__}"


def test_every_request_struct_refuses_unknown_fields(kinds: dict[str, set[type[msgspec.Struct]]]) -> None:
    only_requests = kinds["requests"] - kinds["events"] - kinds["views"]
    tolerant = sorted(name(s) for s in contract_structs(only_requests) if not s.__struct_config__.forbid_unknown_fields)
    assert tolerant == [], "add forbid_unknown_fields=True to these request structs in shared/contracts"


def test_events_and_views_stay_tolerant(kinds: dict[str, set[type[msgspec.Struct]]]) -> None:
    strict = sorted(
        name(s) for s in contract_structs(kinds["events"] | kinds["views"]) if s.__struct_config__.forbid_unknown_fields
    )
    assert strict == [], "an event or a view must keep decoding when its producer adds a field"


@pytest.mark.parametrize("kind", ["requests", "events", "views"])
def test_each_kind_was_found(kinds: dict[str, set[type[msgspec.Struct]]], kind: str) -> None:
    assert len(list(contract_structs(kinds[kind]))) > 10
