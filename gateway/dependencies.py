"""What every route gets injected: the caller as an actor, and the client that calls the services."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import State

from gateway.auth import actor_from_connection
from shared.rpc import RpcClient
from shared.tenancy import Actor


def provide_actor(request: Request[Any, Any, Any]) -> Actor:
    return actor_from_connection(request, request.app.state.issuer)


def provide_rpc(state: State) -> RpcClient:
    client: RpcClient = state.rpc
    return client
