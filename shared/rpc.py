"""Request/reply over NATS: the gateway's commands and queries, with the actor and typed errors.

Subjects are `rpc.<service>.<operation>`; each service answers in its own queue group so replicas
share the load. A reply is either a result or a typed error that the gateway maps to problem details.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import msgspec
import nats.errors
from faststream.nats import NatsBroker
from faststream.nats.annotations import NatsMessage

from shared.errors import ERRORS_BY_CODE, InvalidInput, PartnernetError, ServiceTimeout, ServiceUnavailable
from shared.tenancy import Actor

log = logging.getLogger(__name__)

B = TypeVar("B")
R = TypeVar("R")


class RpcRequest(msgspec.Struct, frozen=True, kw_only=True):
    actor: Actor
    body: msgspec.Raw = msgspec.Raw(b"{}")


class RpcError(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    detail: str
    extra: dict[str, Any] = {}


class RpcReply(msgspec.Struct, frozen=True, kw_only=True):
    # msgspec cannot decode `Raw | None`, so a missing result is the JSON `null`.
    result: msgspec.Raw = msgspec.Raw(b"null")
    error: RpcError | None = None


def rpc_subject(service: str, operation: str) -> str:
    return f"rpc.{service}.{operation}"


Operation = Callable[[Actor, Any], Awaitable[Any]]


def answer(
    broker: NatsBroker, service: str, operation: str, body_type: type[B], use_case: Callable[[Actor, B], Awaitable[Any]]
) -> None:
    """Register one operation: decode the request, run the use case, reply with its result or typed error."""

    async def respond(msg: NatsMessage) -> bytes:
        try:
            request = msgspec.json.decode(msg.body, type=RpcRequest)
            command = msgspec.json.decode(request.body, type=body_type)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            return encode_error(InvalidInput(str(exc)))
        try:
            result = await use_case(request.actor, command)
        except PartnernetError as exc:
            return encode_error(exc)
        except Exception:
            log.exception("operation %s.%s failed", service, operation)
            return encode_error(PartnernetError("the service failed to handle the request"))
        return msgspec.json.encode(RpcReply(result=msgspec.Raw(msgspec.json.encode(result))))

    broker.subscriber(rpc_subject(service, operation), queue=service, title=f"{service}.{operation}")(respond)


def encode_error(exc: PartnernetError) -> bytes:
    return msgspec.json.encode(RpcReply(error=RpcError(code=exc.code, detail=exc.detail, extra=exc.extra)))


class RpcClient:
    """The gateway's side: call an operation with a deadline; errors come back as the typed exceptions."""

    def __init__(self, broker: NatsBroker, *, timeout: float) -> None:
        self.broker = broker
        self.timeout = timeout

    async def call(
        self,
        service: str,
        operation: str,
        actor: Actor,
        body: Any,
        result_type: type[R],
        *,
        timeout: float | None = None,
    ) -> R:
        request = RpcRequest(actor=actor, body=msgspec.Raw(msgspec.json.encode(body)))
        try:
            response = await self.broker.request(
                msgspec.json.encode(request), rpc_subject(service, operation), timeout=timeout or self.timeout
            )
        except nats.errors.NoRespondersError as exc:
            raise ServiceUnavailable(f"the {service} service does not answer", service=service) from exc
        except (TimeoutError, nats.errors.TimeoutError) as exc:
            raise ServiceTimeout(f"the {service} service did not answer in time", service=service) from exc
        except nats.errors.ConnectionClosedError as exc:
            raise ServiceUnavailable("the message broker is not reachable", service=service) from exc
        reply = msgspec.json.decode(response.body, type=RpcReply)
        if reply.error is not None:
            error_type = ERRORS_BY_CODE.get(reply.error.code, PartnernetError)
            raise error_type(reply.error.detail, **reply.error.extra)
        return msgspec.json.decode(reply.result, type=result_type)
