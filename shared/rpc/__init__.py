"""Request/reply over NATS: the gateway's commands and queries, with the actor, deadlines and typed errors.

Subjects are `rpc.<service>.<operation>` (declared once: shared/operations.py); each service answers in its own
queue group so replicas share the load. A reply is either a result or a typed error that the gateway maps to
problem details. In four parts: what travels (`envelope`), the service's side (`server`), the caller's side
(`client`), and what a database failure is answered with (`database_errors`).

Carried on nats-py directly, not on FastStream's request/reply: FastStream's per-message machinery
(context, logging and telemetry middlewares, its decoder chain) cost more than ten times what NATS
itself does (benchmarks/: 5-9% of raw request/reply); here the whole layer is a decode, a span, the
use case, an encode and a publish. FastStream keeps what it is good at: the JetStream consumers.

The service's side (`shared.rpc.server`, `shared.rpc.database_errors`) is imported from its module, not from
here: it needs asyncpg and SQLAlchemy, which the gateway (a caller only) does not load (tests/gateway/
test_gateway_imports.py: each is ~15-30 MB of a process's memory).
"""

from shared.rpc.client import RpcClient
from shared.rpc.envelope import (
    Idempotency,
    RpcError,
    RpcReply,
    RpcRequest,
    caller_context,
    encode_error,
    idempotent_request,
    traceparent,
)

__all__ = [
    "Idempotency",
    "RpcClient",
    "RpcError",
    "RpcReply",
    "RpcRequest",
    "caller_context",
    "encode_error",
    "idempotent_request",
    "traceparent",
]
