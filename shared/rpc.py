"""Request/reply over NATS: the gateway's commands and queries, with the actor and typed errors.

Subjects are `rpc.<service>.<operation>`; each service answers in its own queue group so replicas
share the load. A reply is either a result or a typed error that the gateway maps to problem details.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg
import msgspec
import nats.errors
import sqlalchemy.exc
from faststream.message import StreamMessage
from faststream.nats import NatsBroker

from shared.errors import ERRORS_BY_CODE, InvalidInput, PartnernetError, ServiceTimeout, ServiceUnavailable
from shared.messaging import broker_answers
from shared.tenancy import Actor

log = logging.getLogger(__name__)

B = TypeVar("B")
R = TypeVar("R")


class RpcRequest(msgspec.Struct, frozen=True, kw_only=True):
    actor: Actor
    body: msgspec.Raw = msgspec.Raw(b"{}")
    # When the caller stops waiting (Unix time, seconds). A request still queued in a busy replica past it
    # is dropped unanswered-for-work: nobody waits for the answer, and doing it would only add to the load.
    deadline: float | None = None


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


# Clocks of the gateway's and a service's hosts may differ a little: a deadline counts only once clearly past.
DEADLINE_GRACE_SECONDS = 0.5

# Requests of one operation a replica handles at once. FastStream's default (no `max_workers`) runs a core
# subscription's callbacks one after another, so one slow request held up every other of its operation.
DEFAULT_CONCURRENCY = 32


def answer(
    broker: NatsBroker,
    service: str,
    operation: str,
    body_type: type[B],
    use_case: Callable[[Actor, B], Awaitable[Any]],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> None:
    """Register one operation: decode the request, run the use case, reply with its result or typed error.

    Up to `concurrency` requests of the operation run at once in this process; the ones NATS delivers beyond
    that wait here (FastStream's queue, then the connection's pending buffer) until one finishes.
    """

    async def respond(msg: Any) -> bytes:  # the message itself, from `message_itself`
        try:
            request = msgspec.json.decode(msg.body, type=RpcRequest)
            command = msgspec.json.decode(request.body, type=body_type)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            return encode_error(InvalidInput(str(exc)))
        if request.deadline is not None and time.time() > request.deadline + DEADLINE_GRACE_SECONDS:
            log.warning("operation %s.%s dropped: its caller stopped waiting before it started", service, operation)
            return encode_error(ServiceTimeout(f"the {service} service was too busy to start in time", service=service))
        try:
            result = await use_case(request.actor, command)
        except PartnernetError as exc:
            return encode_error(exc)
        except (sqlalchemy.exc.DBAPIError, OSError) as exc:
            return encode_error(database_error(exc, f"{service}.{operation}"))
        except Exception:
            log.exception("operation %s.%s failed", service, operation)
            return encode_error(PartnernetError("the service failed to handle the request"))
        return msgspec.json.encode(RpcReply(result=msgspec.Raw(msgspec.json.encode(result))))

    broker.subscriber(
        rpc_subject(service, operation),
        queue=service,
        title=f"{service}.{operation}",
        max_workers=max(concurrency, 1),
        decoder=message_itself,
    )(respond)


# PostgreSQL's words for text it cannot store (a NUL character, say): the request's fault, not ours.
UNSTORABLE_TEXT = {"22021", "22P05"}


# ... and for numbers and dates beyond what a column holds.
OUT_OF_RANGE = {"22003", "22008"}


# Errors that mean the connection to PostgreSQL is gone (a restart, a network cut), not a bad statement.
LOST_CONNECTION = (
    OSError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.OperatorInterventionError,
)


def _causes(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def database_error(exc: Exception, operation: str) -> PartnernetError:
    """What to answer when the database refused or could not be reached: only a real fault is a 500."""
    orig = getattr(exc, "orig", None)
    sqlstate = getattr(orig, "sqlstate", None) or ""
    if sqlstate in UNSTORABLE_TEXT:
        return InvalidInput("the text contains characters that cannot be stored (such as the NUL character)")
    if sqlstate in OUT_OF_RANGE or any(_is_unencodable_argument(cause) for cause in _causes(exc)):
        return InvalidInput("a value is out of the range it can have (a number beyond 64 bits, say)")
    invalidated = getattr(exc, "connection_invalidated", False)
    if invalidated or any(isinstance(cause, LOST_CONNECTION) for cause in _causes(exc)):
        log.warning("operation %s: the database is not reachable", operation)
        return ServiceUnavailable("the service cannot reach its database; try again shortly")
    log.error("operation %s failed in the database", operation, exc_info=exc)
    return PartnernetError("the service failed to handle the request")


def _is_unencodable_argument(exc: BaseException) -> bool:
    """A query argument asyncpg could not encode (a number beyond 64 bits, say), refused before it reached the
    server: a DataError raised from the encoder's own error, where the server's DataErrors have no cause."""
    return isinstance(exc, asyncpg.exceptions.DataError) and exc.__cause__ is not None


async def message_itself(msg: StreamMessage[Any]) -> StreamMessage[Any]:
    """Hands the handler the message as its body. Asking for it as `NatsMessage` instead makes FastStream
    resolve the context for every request, which measured a third slower end to end (benchmarks/)."""
    return msg


def encode_error(exc: PartnernetError) -> bytes:
    return msgspec.json.encode(RpcReply(error=RpcError(code=exc.code, detail=exc.detail, extra=exc.extra)))


# What a 503 or 504 names when the message broker itself, not a service, failed to answer.
BROKER = "nats"
# A PING/PONG with the broker takes a millisecond; one that takes longer than this means the broker hangs.
BROKER_PING_SECONDS = 0.2


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
        wait = timeout or self.timeout
        request = RpcRequest(actor=actor, body=msgspec.Raw(msgspec.json.encode(body)), deadline=time.time() + wait)
        if not self.broker.connection.is_connected:
            # While reconnecting, nats-py would buffer the request and send it later: a command could then be
            # carried out after its caller was told it timed out. Refuse now, so a 503 means "not done".
            raise ServiceUnavailable("the message broker is not reachable", service=BROKER)
        try:
            response = await self.broker.request(
                msgspec.json.encode(request), rpc_subject(service, operation), timeout=wait
            )
        except nats.errors.NoRespondersError as exc:
            raise ServiceUnavailable(f"the {service} service does not answer", service=service) from exc
        except (TimeoutError, nats.errors.TimeoutError) as exc:
            if not await broker_answers(self.broker.connection, BROKER_PING_SECONDS):
                # A broker that hangs (paused, partitioned) looks like a slow service; blame the right one.
                raise ServiceTimeout("the message broker did not answer in time", service=BROKER) from exc
            raise ServiceTimeout(f"the {service} service did not answer in time", service=service) from exc
        except nats.errors.ConnectionClosedError as exc:
            raise ServiceUnavailable("the message broker is not reachable", service=BROKER) from exc
        reply = msgspec.json.decode(response.body, type=RpcReply)
        if reply.error is not None:
            error_type = ERRORS_BY_CODE.get(reply.error.code, PartnernetError)
            raise error_type(reply.error.detail, **reply.error.extra)
        return msgspec.json.decode(reply.result, type=result_type)
