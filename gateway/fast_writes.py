"""The hot creates answered without Litestar's request path: a generated POST route whose request is its whole JSON
body and nothing else (`POST /api/v1/referrals`) is decoded, checked and passed through by the gateway's one pass.

Litestar's path for the submit (its exception middleware, router, the guard run on a copy of the handler, the body
read into a `Request`, decoded to builtins and converted into the request, the handler, the service's reply decoded
into its view and encoded again, the response objects, `after_request`) was most of the gateway's Python for a
referral. The route stays registered in Litestar (the OpenAPI document, and every request this does not take).

What Litestar would do is done here too: the API key scope guard, the caller required (`caller_of`), the route's
status (201), the service's JSON passed on as it is with its version as the ETag (`add_etag`), problem details for
a caller or service error (`send_problem`), the route template for the access log and span. A body that does not
decode strictly into the request (bad JSON, a wrong or missing field, a value only Litestar's lax conversion takes)
or is larger than the gateway takes is handed to Litestar's route as it was received, so every answer to bad input
is still Litestar's own problem details.
A POST with an `Idempotency-Key` never comes here (the one pass gives it to `gateway.idempotency` first).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import msgspec
from litestar import Litestar
from litestar.exceptions import HTTPException
from litestar.handlers import HTTPRouteHandler
from litestar.routes import HTTPRoute
from litestar.types import ASGIApp, Receive, ReceiveMessage, Scope, Send

from gateway.auth import caller_of, check_api_key_scope
from gateway.dependencies import version_of
from gateway.fast_reads import OnePassConnection, answered_in_one_pass
from gateway.problems import send_problem
from shared.errors import PartnernetError
from shared.operations import Operation
from shared.rpc import RpcClient

# A generated route (gateway/routes.py) marks its handler with this when its request is its whole body.
FAST_WRITE = "fast_write"


@dataclass(frozen=True)
class FastWrite:
    operation: Operation[Any, Any]
    decoder: msgspec.json.Decoder[Any]  # strict: what it takes, Litestar's lax conversion takes alike
    template: str  # what Litestar puts in the scope's `path_template` (its `path_format`)
    status: int
    opt: dict[str, Any]


class FastWrites:
    """The fast writes of an app, by path, found among its routes once it is built (`from_app`)."""

    def __init__(self, writes: dict[str, FastWrite], *, max_body_bytes: int) -> None:
        self.writes = writes
        self.max_body_bytes = max_body_bytes

    @classmethod
    def from_app(cls, app: Litestar, *, max_body_bytes: int) -> FastWrites:
        writes = {}
        for route in app.routes:
            if not isinstance(route, HTTPRoute) or "{" in route.path:
                continue
            for handler in route.route_handlers:
                operation = getattr(handler.fn, FAST_WRITE, None)
                if operation is None or not _plain_post(app, handler):
                    continue
                decoder = msgspec.json.Decoder(operation.request)
                status = handler.status_code
                writes[route.path] = FastWrite(operation, decoder, route.path_format, status, handler.opt)
        return cls(writes, max_body_bytes=max_body_bytes)

    def match(self, method: str, path: str) -> FastWrite | None:
        return self.writes.get(path) if method == "POST" else None

    async def answer(
        self, write: FastWrite, scope: Scope, receive: Receive, send: Send, rpc: RpcClient, app: ASGIApp
    ) -> None:
        """Answer the POST, or give it to `app` (Litestar) with its body as read when the body is not the request."""
        path = scope["path"]
        scope["path_template"] = write.template
        messages, body = await _read_body(receive, self.max_body_bytes)
        try:
            request = write.decoder.decode(body) if body is not None else None
        except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
            request = None
        if request is None:  # not the request, or larger than the gateway takes: Litestar's own problem details
            await app(scope, _replayed(messages, receive), send)
            return
        try:
            check_api_key_scope(scope, write.template, "POST", write.opt)
            actor = caller_of(cast(Any, OnePassConnection(scope))).actor
            content = await rpc.call_json(write.operation, actor, request)
        except (PartnernetError, HTTPException) as exc:
            await send_problem(send, exc, path)
            return
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(content)).encode())]
        version = version_of(content)
        if version is not None and write.status < 300:
            headers.append((b"etag", f'"{version}"'.encode()))
        await send({"type": "http.response.start", "status": write.status, "headers": headers})
        await send({"type": "http.response.body", "body": content, "more_body": False})


async def _read_body(receive: Receive, limit: int) -> tuple[list[ReceiveMessage], bytes | None]:
    """The request's messages as received, and its whole body; None for the body once it passes `limit` (the
    rest is left unread) or when the client went away."""
    messages: list[ReceiveMessage] = []
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, None
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if size > limit:
            return messages, None
        if not message.get("more_body", False):
            return messages, b"".join(chunks)


def _replayed(messages: list[ReceiveMessage], receive: Receive) -> Receive:
    """`receive` as if nothing had been read: the messages read first, then whatever follows."""
    pending = list(messages)

    async def replaying() -> ReceiveMessage:
        return pending.pop(0) if pending else await receive()

    return replaying


def _plain_post(app: Litestar, handler: HTTPRouteHandler) -> bool:
    return answered_in_one_pass(app, handler, "POST") and handler.status_code is not None
