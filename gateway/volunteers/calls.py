"""How the volunteers routes call the service: one operation per route, path ids merged into the body."""

from __future__ import annotations

from typing import Any, TypeVar

from litestar.di import Provide

from gateway.dependencies import provide_expected_version
from shared.rpc import RpcClient
from shared.tenancy import Actor

SERVICE = "volunteers"
R = TypeVar("R")
# If-Match → expected_version; declared on the controllers too, so they work whatever the app provides.
VERSIONED = {"if_match_version": Provide(provide_expected_version, sync_to_thread=False)}


async def call(rpc: RpcClient, operation: str, actor: Actor, body: Any, result: type[R]) -> R:
    return await rpc.call(SERVICE, operation, actor, body, result)


def fields(body: Any) -> dict[str, Any]:
    """An HTTP body's fields, to build the operation's request with the id from the path."""
    return {name: getattr(body, name) for name in body.__struct_fields__}
