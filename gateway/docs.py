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


def complete_openapi(app: Litestar) -> None:
    """Add to every operation what the gateway does for all routes (see the module's docstring)."""
    document = app.openapi_schema
    components = document.components
    assert components is not None
    schemas = components.schemas or {}
    problem_schema = next((name for name in schemas if name == "Problem" or name.endswith("_Problem")), None)
    if problem_schema is None:
        raise RuntimeError("no route documents the Problem schema; gateway/overview.py should")
    ref = f"#/components/schemas/{problem_schema}"
    public = public_operations(app)
    for path, item in (document.paths or {}).items():
        for method in ("get", "put", "post", "delete", "patch", "head", "options"):
            operation: Operation | None = getattr(item, method, None)
            if operation is None:
                continue
            is_public = (path, method.upper()) in public
            statuses = list(ALWAYS)
            if path.startswith("/api/"):
                statuses += [*API, *BY_METHOD.get(method.upper(), ())]
            if not is_public:
                statuses += AUTHENTICATED
            responses = operation.responses if operation.responses is not None else {}
            for status in sorted(statuses):
                responses.setdefault(str(status), problem_response(status, ref))
            operation.responses = responses
            if is_public:
                operation.security = []
            if method == "post":
                parameters = list(operation.parameters or [])
                if not any(getattr(p, "name", "").lower() == "idempotency-key" for p in parameters):
                    parameters.append(IDEMPOTENCY_KEY)
                operation.parameters = parameters


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
