"""Typed errors that cross NATS as error replies and become problem details at the gateway.

Each names its code, title and (unless its parent's) HTTP status in its class line; the class registers itself
under its code, which is how an error reply is raised again on the caller's side (shared/rpc/client.py).
"""

from __future__ import annotations

from typing import Any, ClassVar

ERRORS_BY_CODE: dict[str, type[PartnernetError]] = {}


class PartnernetError(Exception):
    """Base of every error a service deliberately answers with."""

    code: ClassVar[str] = "internal"
    status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal error"

    def __init__(self, detail: str, /, **extra: Any) -> None:  # positional: an extra field may be named `detail`
        super().__init__(detail)
        self.detail = detail
        self.extra = extra

    def __init_subclass__(cls, *, code: str, title: str, status: int | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if code in ERRORS_BY_CODE:
            raise TypeError(f"error code {code!r} is taken by {ERRORS_BY_CODE[code].__name__}")
        cls.code, cls.title = code, title
        if status is not None:
            cls.status = status
        ERRORS_BY_CODE[code] = cls


ERRORS_BY_CODE[PartnernetError.code] = PartnernetError


class InvalidInput(PartnernetError, code="invalid-input", status=422, title="The request is not valid"):
    pass


class NotFound(PartnernetError, code="not-found", status=404, title="Not found"):
    """Also the answer for things outside the actor's scope, so existence never leaks."""


class Forbidden(PartnernetError, code="forbidden", status=403, title="Not allowed"):
    pass


class Conflict(PartnernetError, code="conflict", status=409, title="Conflict with the current state"):
    pass


class IllegalTransition(Conflict, code="illegal-transition", title="This step is not allowed in the current state"):
    pass


class Gone(PartnernetError, code="gone", status=410, title="No longer kept"):
    """What was asked for is no longer kept (a feed cursor before the feed's horizon); the extra fields say where
    to start again."""


class ServiceUnavailable(PartnernetError, code="service-unavailable", status=503, title="A service does not answer"):
    pass


class ServiceTimeout(PartnernetError, code="service-timeout", status=504, title="A service answered too slowly"):
    pass


class TooManyRequests(PartnernetError, code="too-many-requests", status=429, title="Too many requests"):
    """A caller asked more often than the rule for it allows; `retry_after` says in how many seconds it may again."""


class IdempotencyKeyReused(
    InvalidInput, code="idempotency-key-reused", title="This Idempotency-Key was used for another request"
):
    """An `Idempotency-Key` sent again with another request (body, path or operation) than the first."""


class IdempotencyKeyInUse(
    Conflict, code="idempotency-key-in-use", title="A request with this Idempotency-Key is still being processed"
):
    pass
