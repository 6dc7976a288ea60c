"""Where a newcomer lands: `/` leads people to the console, `/api/v1/` tells a program what the API has.

The index is made from the application's own routes at start-up, so it lists every resource the API serves
and cannot fall behind when one is added. It is public: it names collections and documents, never data.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Litestar, Request, get
from litestar.response import Redirect
from litestar.routes import HTTPRoute

from gateway.docs import API_VERSION, PUBLIC_OPT

API_PREFIX = "/api/v1/"
DOCUMENTS = {
    "openapi": "/schema/openapi.json",
    "api_docs": "/schema/swagger",
    "asyncapi": "/asyncapi.json",
    "events_docs": "/asyncapi",
    "console": "/console/",
    "health": "/health",
}


class Resource(msgspec.Struct, kw_only=True):
    name: str
    href: str
    methods: list[str]  # what can be done under it (on the collection or its items)


class ApiIndex(msgspec.Struct, kw_only=True):
    name: str
    version: str
    documents: dict[str, str]
    resources: list[Resource]


def api_resources(app: Litestar) -> list[Resource]:
    """Every top-level collection under /api/v1/ with the methods its routes take."""
    methods: dict[str, set[str]] = {}
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or not route.path.startswith(API_PREFIX):
            continue
        name = route.path.removeprefix(API_PREFIX).split("/", 1)[0]
        if name and not name.startswith("{"):
            methods.setdefault(name, set()).update(str(m) for m in route.methods if m not in ("HEAD", "OPTIONS"))
    return [
        Resource(name=name, href=f"{API_PREFIX}{name}", methods=sorted(found))
        for name, found in sorted(methods.items())
    ]


# Not in the OpenAPI document it points to: it is the way to that document, not an operation of the API.
@get(["/api/v1", API_PREFIX], opt={PUBLIC_OPT: True}, include_in_schema=False)
async def api_index(request: Request[Any, Any, Any]) -> ApiIndex:
    state = request.app.state
    if "api_index" not in state:  # the routes are fixed once the app runs; made on the first request
        state["api_index"] = ApiIndex(
            name="partnernet API", version=API_VERSION, documents=DOCUMENTS, resources=api_resources(request.app)
        )
    index: ApiIndex = state["api_index"]
    return index


@get("/", opt={PUBLIC_OPT: True}, include_in_schema=False)
async def root() -> Redirect:
    """People who open the address the platform printed want the console; programs find the API in the header."""
    return Redirect("/console/", status_code=303, headers={"Link": f'<{API_PREFIX}>; rel="service-desc"'})
