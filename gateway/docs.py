"""The OpenAPI document and its docs UI, served without internet access.

- Swagger UI's files come from the `swagger-ui-bundle-v2` wheel, served under `/docs-assets/swagger/`, and
  the render plugin points at them (Litestar's plugins load from CDNs by default): `/schema/swagger`.
- `complete_openapi` runs once at start-up, after every controller is registered, and makes the document
  tell the whole truth for every operation, including routes whose controllers did not say it themselves:
  the problem responses each operation can give, `Idempotency-Key` on POSTs, and the security schemes
  (bearer token or API key; public routes none).
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from litestar import Litestar
from litestar.enums import ParamType
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import (
    Components,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Parameter,
    Reference,
    Schema,
    SecurityRequirement,
    SecurityScheme,
)
from litestar.routes import HTTPRoute
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler
from swagger_ui_bundle import swagger_ui_path

from gateway.dependencies import IF_MATCH_PATTERN
from gateway.live import LAST_EVENT_ID_PATTERN
from gateway.problems import PROBLEM_DESCRIPTIONS, PROBLEM_JSON

SWAGGER_ASSETS = "/docs-assets/swagger"
PUBLIC_OPT = "exclude_from_auth"
API_VERSION = "1.0.0"  # of the API's contract (/api/v1/), not of the package

SECURITY_SCHEMES = {
    "bearer": SecurityScheme(
        type="http",
        scheme="bearer",
        bearer_format="JWT",
        description="A token of the embedded issuer (`partnernet token`) or of the configured OpenID Connect issuer",
    ),
    "apiKey": SecurityScheme(
        type="apiKey",
        name="X-API-Key",
        security_scheme_in="header",
        description="A partner system's API key (also accepted as `Authorization: ApiKey <key>`); scopes apply",
    ),
}
SECURITY: list[SecurityRequirement] = [{"bearer": []}, {"apiKey": []}]

# Which problems an operation can answer with: every route 500; API routes (they call services) the rest;
# authenticated routes 401/403/429; routes that take a body 409/413.
ALWAYS = (500,)
API = (400, 404, 422, 503, 504)
AUTHENTICATED = (401, 403, 429)
WITH_BODY = (409, 413)
BY_METHOD = {"POST": WITH_BODY, "PUT": WITH_BODY, "PATCH": WITH_BODY, "DELETE": (409,)}
# A partner's feed refuses a cursor before its horizon (services/partners/queries/feeds.py).
FEED_READ = (410,)


def docs_router() -> ControllerRouterHandler:
    return create_static_files_router(
        path=SWAGGER_ASSETS,
        directories=[str(swagger_ui_path)],
        include_in_schema=False,
        opt={PUBLIC_OPT: True},
        name="swagger-assets",
    )


def openapi_config() -> OpenAPIConfig:
    swagger = SwaggerRenderPlugin(
        js_url=f"{SWAGGER_ASSETS}/swagger-ui-bundle.js",
        css_url=f"{SWAGGER_ASSETS}/swagger-ui.css",
        standalone_preset_js_url=f"{SWAGGER_ASSETS}/swagger-ui-standalone-preset.js",
        favicon=f"<link rel='icon' type='image/png' href='{SWAGGER_ASSETS}/favicon-32x32.png'>",
        path="/swagger",
    )
    return OpenAPIConfig(
        title="partnernet",
        version=API_VERSION,
        description=(
            "One API over partners, referrals, volunteers and courses, scoped per library and partner by the "
            "caller's token or API key. Errors are RFC 9457 problem details (`application/problem+json`, "
            "`type` = `urn:partnernet:problem:<code>`). POSTs accept `Idempotency-Key`; versioned resources carry "
            "an `ETag` and updates accept `If-Match`. Events and partner feeds: /asyncapi.json."
        ),
        render_plugins=[swagger],
        components=Components(security_schemes=dict(SECURITY_SCHEMES)),
        security=SECURITY,
    )


def problem_response(status: int, schema_ref: str) -> OpenAPIResponse:
    return OpenAPIResponse(
        description=PROBLEM_DESCRIPTIONS[status],
        content={PROBLEM_JSON: OpenAPIMediaType(schema=Reference(ref=schema_ref))},
    )


IDEMPOTENCY_KEY = Parameter(
    name="Idempotency-Key",
    param_in=ParamType.HEADER,
    required=False,
    description=(
        "Makes a retried POST safe: the same key with the same request returns the first answer (for 24 h); "
        "with another request it is a 422 problem; while the first is still running, a 409 problem"
    ),
    schema=Schema(type=OpenAPIType.STRING, min_length=1, max_length=255),
)


# Headers the gateway reads itself (a 422 for anything else): the document says what they take.
HEADER_PATTERNS = {"if-match": IF_MATCH_PATTERN, "last-event-id": LAST_EVENT_ID_PATTERN}


def complete_openapi(app: Litestar) -> None:
    """Add to every operation what the gateway does for all routes (see the module's docstring)."""
    document = app.openapi_schema
    components = document.components
    assert components is not None
    schemas = components.schemas or {}
    say_what_structs_refuse(schemas)
    problem_schema = next((name for name in schemas if name == "Problem" or name.endswith("_Problem")), None)
    if problem_schema is None:
        raise RuntimeError("no route documents the Problem schema; gateway/overview.py should")
    ref = f"#/components/schemas/{problem_schema}"
    public = public_operations(app)
    zero_bounds = parameters_bounded_by_zero(app)
    for path, item in (document.paths or {}).items():
        for method in ("get", "put", "post", "delete", "patch", "head", "options"):
            operation: Operation | None = getattr(item, method, None)
            if operation is None:
                continue
            is_public = (path, method.upper()) in public
            statuses = list(ALWAYS)
            if path.startswith("/api/"):
                statuses += [*API, *BY_METHOD.get(method.upper(), ())]
                if method == "get" and path.endswith("/feed"):
                    statuses += FEED_READ
            if not is_public:
                statuses += AUTHENTICATED
            responses = operation.responses if operation.responses is not None else {}
            for status in sorted(statuses):
                responses.setdefault(str(status), problem_response(status, ref))
            operation.responses = responses
            if is_public:
                operation.security = []
            for parameter in operation.parameters or []:
                if not isinstance(parameter, Parameter):
                    continue
                if pattern := HEADER_PATTERNS.get(parameter.name.lower()):
                    parameter.schema = Schema(type=OpenAPIType.STRING, pattern=pattern)
                bounds = zero_bounds.get((path, method.upper(), parameter.name), {})
                if bounds and isinstance(parameter.schema, Schema):
                    for attribute, value in bounds.items():
                        setattr(parameter.schema, attribute, value)
            if method == "post":
                parameters = list(operation.parameters or [])
                if not any(getattr(p, "name", "").lower() == "idempotency-key" for p in parameters):
                    parameters.append(IDEMPOTENCY_KEY)
                operation.parameters = parameters


# JSON Schema keywords of a value's constraints, and the attribute Litestar's Schema keeps each in.
CONSTRAINTS = {
    "pattern": "pattern",
    "minLength": "min_length",
    "maxLength": "max_length",
    "minimum": "minimum",
    "maximum": "maximum",
    "exclusiveMinimum": "exclusive_minimum",
    "exclusiveMaximum": "exclusive_maximum",
    "enum": "enum",
}


def say_what_structs_refuse(schemas: dict[str, Schema]) -> None:
    """What msgspec enforces on a request and Litestar's schemas leave out, put back from msgspec's own schema:
    a struct that refuses unknown fields is `additionalProperties: false`, and the constraints of optional
    values and of a list's items (a scope's or an event type's pattern, an optional number's minimum) stay."""
    for name, cls in struct_types().items():
        schema = schemas.get(name)
        if schema is None or not isinstance(schema, Schema):
            continue
        own = msgspec_schema(cls)
        if own is None:  # a type msgspec cannot describe: Litestar's schema stays as it is
            continue
        if own.get("additionalProperties") is False:
            schema.additional_properties = False
        for field, described in (own.get("properties") or {}).items():
            ours = (schema.properties or {}).get(field)
            if isinstance(ours, Schema) and isinstance(described, dict):
                add_constraints(ours, described)


def msgspec_schema(cls: type[msgspec.Struct]) -> dict[str, Any] | None:
    """msgspec's own JSON schema of a struct, or None where it holds a type msgspec cannot describe."""
    try:
        described: dict[str, Any] = msgspec.json.schema(cls)["$defs"][cls.__name__]
    except (TypeError, KeyError, ValueError):
        return None
    return described


def add_constraints(ours: Schema, theirs: dict[str, Any]) -> None:
    """Copy the constraints msgspec states into Litestar's schema of the same value where it has none, into
    list items and into the non-null branch of an optional value as well."""
    for keyword, attribute in CONSTRAINTS.items():
        if keyword in theirs and getattr(ours, attribute) is None:
            setattr(ours, attribute, theirs[keyword])
    if isinstance(theirs.get("items"), dict) and isinstance(ours.items, Schema):
        add_constraints(ours.items, theirs["items"])
    their_branches = [b for b in theirs.get("anyOf", []) if isinstance(b, dict) and b.get("type") != "null"]
    our_branches = [b for b in (ours.one_of or ours.any_of or []) if isinstance(b, Schema) and b.type != "null"]
    if len(their_branches) == 1 and len(our_branches) == 1:
        add_constraints(our_branches[0], their_branches[0])


def struct_types() -> dict[str, type[msgspec.Struct]]:
    """Every msgspec struct loaded, by the name its schema has in the document; a name two structs share is
    left out (which of them the document means cannot be told)."""
    found: dict[str, type[msgspec.Struct]] = {}
    shared_names: set[str] = set()
    pending = list(msgspec.Struct.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if found.setdefault(cls.__name__, cls) is not cls:
            shared_names.add(cls.__name__)
    return {name: cls for name, cls in found.items() if name not in shared_names}


def parameters_bounded_by_zero(app: Litestar) -> dict[tuple[str, str, str], dict[str, int]]:
    """Parameters declared with `ge=0` (or `le=0`): Litestar leaves a bound of 0 out of the document (it tests
    the bound for truth), so a client would send -1 and meet a 400. (path, method, name) → the bound."""
    found: dict[tuple[str, str, str], dict[str, int]] = {}
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            for name, field in handler.parsed_fn_signature.parameters.items():
                kwarg = field.kwarg_definition
                bounds = {
                    attribute: 0
                    for attribute, bound in (
                        ("minimum", getattr(kwarg, "ge", None)),
                        ("maximum", getattr(kwarg, "le", None)),
                    )
                    if bound == 0
                }
                if bounds:
                    public_name = getattr(kwarg, "query", None) or getattr(kwarg, "header", None) or name
                    for method in handler.http_methods:
                        found[(_openapi_path(route.path), method, public_name)] = bounds
    return found


def public_operations(app: Litestar) -> set[tuple[str, str]]:
    public: set[tuple[str, str]] = set()
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if handler.opt.get(PUBLIC_OPT):
                path = _openapi_path(route.path)
                public.update((path, method) for method in handler.http_methods)
    return public


def _openapi_path(path: str) -> str:
    # Litestar writes `{partner_id:uuid}` in routes and `{partner_id}` in the document.
    return re.sub(r"\{([^:}]+):[^}]+\}", r"{\1}", path)
