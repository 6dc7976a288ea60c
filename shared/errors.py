"""Typed errors that cross NATS as error replies and become problem details at the gateway."""

from __future__ import annotations

from typing import Any, ClassVar


class PartnernetError(Exception):
    """Base of every error a service deliberately answers with."""

    code: ClassVar[str] = "internal"
    status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal error"

    def __init__(self, detail: str, /, **extra: Any) -> None:  # positional: an extra field may be named `detail`
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class InvalidInput(PartnernetError):
    code = "invalid-input"
    status = 422
    title = "The request is not valid"


class NotFound(PartnernetError):
    # Also the answer for things outside the actor's scope, so existence never leaks.
    code = "not-found"
    status = 404
    title = "Not found"


class Forbidden(PartnernetError):
    code = "forbidden"
    status = 403
    title = "Not allowed"


class Conflict(PartnernetError):
    code = "conflict"
    status = 409
    title = "Conflict with the current state"


class IllegalTransition(Conflict):
    code = "illegal-transition"
    title = "This step is not allowed in the current state"


class Gone(PartnernetError):
    """What was asked for is no longer kept (a feed cursor before the feed's horizon); the extra fields say where
    to start again."""

    code = "gone"
    status = 410
    title = "No longer kept"


class ServiceUnavailable(PartnernetError):
    code = "service-unavailable"
    status = 503
    title = "A service does not answer"


class ServiceTimeout(PartnernetError):
    code = "service-timeout"
    status = 504
    title = "A service answered too slowly"


class TooManyRequests(PartnernetError):
    """A caller asked more often than the rule for it allows; `retry_after` says in how many seconds it may again."""

    code = "too-many-requests"
    status = 429
    title = "Too many requests"


class IdempotencyKeyReused(InvalidInput):
    """An `Idempotency-Key` sent again with another request (body, path or operation) than the first."""

    code = "idempotency-key-reused"
    title = "This Idempotency-Key was used for another request"


class IdempotencyKeyInUse(Conflict):
    code = "idempotency-key-in-use"
    title = "A request with this Idempotency-Key is still being processed"


ERRORS_BY_CODE: dict[str, type[PartnernetError]] = {
    cls.code: cls
    for cls in (
        PartnernetError,
        InvalidInput,
        NotFound,
        Forbidden,
        Conflict,
        IllegalTransition,
        Gone,
        ServiceUnavailable,
        ServiceTimeout,
        TooManyRequests,
        IdempotencyKeyReused,
        IdempotencyKeyInUse,
    )
}
