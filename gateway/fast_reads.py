"""The hot reads answered without Litestar's request path: a generated GET route whose request is only its path's
ids (`GET /api/v1/referrals/{referral_id}`) is matched, checked and passed through by the gateway's one pass.

Litestar's path for such a read (its exception middleware, router, handler resolution, the guard it runs on a
copy of the handler, the response objects, `after_request`) was about a third of the gateway's CPU for a read.
The route stays registered in Litestar (the OpenAPI document, and every request this does not take: another
method, a path whose id is not a canonical UUID, a trailing slash). What Litestar would do is done here too: the
API key scope guard (`require_api_key_scope`), the caller required (`caller_of`), the request built from the
path, the service's JSON passed on as it is with its version as the ETag (`add_etag`), problem details for every
error (`send_problem`, as `gateway/problems.py` answers them), and the route template for the access log and span.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, cast
from uuid import UUID

from litestar import Litestar
from litestar.exceptions import HTTPException, PermissionDeniedException
from litestar.handlers import HTTPRouteHandler
from litestar.routes import HTTPRoute
from litestar.types import Scope, Send

from gateway.auth import CALLER, PERSON_ONLY, caller_of, require_api_key_scope, required_scope
from gateway.dependencies import add_etag, version_of
from gateway.problems import send_problem
from shared.errors import PartnernetError
from shared.operations import Operation
from shared.rpc import RpcClient

# The canonical form only; any other spelling Litestar's own route decides (as it always did).
_UUID = "([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"
_PARAMETER = re.compile(r"{(\w+):uuid}")
# A generated route (gateway/routes.py) marks its handler with this when its request is only its path's ids.
FAST_READ = "fast_read"


@dataclass(frozen=True)
class FastRead:
    pattern: re.Pattern[str]
    names: tuple[str, ...]
    operation: Operation[Any, Any]
    template: str  # what Litestar puts in the scope's `path_template` (its `path_format`)
    opt: dict[str, Any]


class FastReads:
    """The fast reads of an app, found among its routes once it is built (`from_app`)."""

    def __init__(self, reads: list[FastRead]) -> None:
        self.reads = reads

    @classmethod
    def from_app(cls, app: Litestar) -> FastReads:
        reads = []
        for route in app.routes:
            if not isinstance(route, HTTPRoute):
                continue
            for handler in route.route_handlers:
                operation = getattr(handler.fn, FAST_READ, None)
                if operation is None or not _plain_get(app, handler):
                    continue
                pattern = _PARAMETER.sub(_UUID, re.escape(route.path).replace(r"\{", "{").replace(r"\}", "}"))
                names = tuple(_PARAMETER.findall(route.path))
                if "{" in pattern.replace(_UUID, ""):  # a parameter that is not a uuid: Litestar's own
                    continue
                reads.append(FastRead(re.compile(pattern + r"\Z"), names, operation, route.path_format, handler.opt))
        return cls(reads)

    def match(self, method: str, path: str) -> tuple[FastRead, dict[str, UUID]] | None:
        if method != "GET":
            return None
        for read in self.reads:
            found = read.pattern.match(path)
            if found is not None:
                return read, {name: UUID(value) for name, value in zip(read.names, found.groups(), strict=True)}
        return None

    async def answer(self, read: FastRead, ids: dict[str, UUID], scope: Scope, send: Send, rpc: RpcClient) -> None:
        scope["path_template"] = read.template
        path = scope["path"]
        try:
            caller = scope.get("state", {}).get(CALLER)
            if caller is not None and caller.scopes is not None:  # require_api_key_scope
                needed = required_scope(read.template, "GET", read.opt)
                if needed.partition(":")[0] in PERSON_ONLY:
                    raise PermissionDeniedException("API keys are managed with a person's token, not with an API key")
                if needed not in caller.scopes:
                    raise PermissionDeniedException(f"this API key lacks the scope {needed}")
            actor = caller_of(cast(Any, OnePassConnection(scope))).actor
            content = await rpc.call_json(read.operation, actor, read.operation.request(**ids))
        except (PartnernetError, HTTPException) as exc:
            await send_problem(send, exc, path)
            return
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(content)).encode())]
        version = version_of(content)
        if version is not None:
            headers.append((b"etag", f'"{version}"'.encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": content, "more_body": False})


class OnePassConnection:
    """What `caller_of` reads of a connection: its scope (the one pass answers without Litestar's Request)."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope


def answered_in_one_pass(app: Litestar, handler: HTTPRouteHandler, method: str) -> bool:
    """Only a route whose Litestar path does nothing the one pass does not: the app's one guard, the app's ETag
    hook, no route-level guard, hook, middleware, dependency, header or cookie of its own (gateway/fast_reads.py,
    gateway/fast_writes.py)."""
    return (
        list(handler.http_methods) == [method]
        and list(handler.resolve_guards()) == [require_api_key_scope]
        and [layer.after_request for layer in handler.ownership_layers if layer.after_request] == [add_etag]
        and handler.ownership_layers[0] is app
        and handler.resolve_after_response() is None
        and handler.resolve_before_request() is None
        and not handler.resolve_middleware()
        and not handler.resolve_response_headers()
        and not handler.resolve_response_cookies()
    )


def _plain_get(app: Litestar, handler: HTTPRouteHandler) -> bool:
    return answered_in_one_pass(app, handler, "GET") and handler.status_code == 200
