"""Operations: every request a service answers over NATS, declared once with its name, request, reply and roles.

A service's operations are declared in its contracts (`shared/contracts/<service>/api/operations.py`):

    REFERRALS = Operations("referrals")
    GET_REFERRAL = REFERRALS.declare("get", GetReferral, ReferralView, EVERYONE, "One referral")

The service binds its use case to the declaration (`runtime.bind(GET_REFERRAL, use_case)`) and the gateway
calls the same declaration (`await rpc.call(GET_REFERRAL, actor, GetReferral(...))`), so a request or reply
type that does not fit on either side is a mypy error, and a misspelt operation a NameError, not a 503 at
run time. The roles are checked by the RPC layer before the use case runs (and by generated gateway routes
before the request leaves the gateway); a use case still checks the actor's scope (library, partner).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import msgspec

from shared.errors import Forbidden
from shared.tenancy import Actor, Role

Q = TypeVar("Q")  # the request
A = TypeVar("A")  # the reply

EVERYONE = frozenset(Role)


def rpc_subject(service: str, operation: str) -> str:
    return f"rpc.{service}.{operation}"


@dataclass(frozen=True, eq=False)
class Operation(Generic[Q, A]):
    service: str
    name: str
    request: type[Q]
    reply: type[A]
    roles: frozenset[Role] = EVERYONE
    summary: str = ""

    @property
    def subject(self) -> str:
        return rpc_subject(self.service, self.name)

    def check_role(self, actor: Actor) -> None:
        if actor.role not in self.roles:
            allowed = ", ".join(sorted(role.value for role in self.roles))
            raise Forbidden(f"role {actor.role.value} may not do this ({self.service}.{self.name}: {allowed})")

    def __repr__(self) -> str:
        return f"Operation({self.subject})"


@dataclass
class Operations:
    """The operations of one service, in the order they were declared."""

    service: str
    _declared: dict[str, Operation[Any, Any]] = field(default_factory=dict)

    def declare(
        self,
        name: str,
        request: type[Q],
        reply: type[A],
        roles: Iterable[Role] = EVERYONE,
        summary: str = "",
    ) -> Operation[Q, A]:
        if name in self._declared:
            raise ValueError(f"operation {self.service}.{name} is declared twice")
        operation = Operation(self.service, name, request, reply, frozenset(roles), summary)
        self._declared[name] = operation
        return operation

    def __iter__(self) -> Iterator[Operation[Any, Any]]:
        return iter(self._declared.values())

    def __len__(self) -> int:
        return len(self._declared)


class HealthCheck(msgspec.Struct, frozen=True, kw_only=True):
    pass


class Health(msgspec.Struct, frozen=True, kw_only=True):
    service: str
    database: bool
    relay_active: bool
    outbox_backlog: int


def health_of(service: str) -> Operation[HealthCheck, Health]:
    """`rpc.<service>.health`, which every service answers (shared/service.py) and the gateway's `/health` asks."""
    return Operation(service, "health", HealthCheck, Health, frozenset({Role.OPERATOR}), "Whether the service runs")
