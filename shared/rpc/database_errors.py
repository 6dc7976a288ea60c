"""What an operation answers when the database refused a statement or could not be reached: only a real fault of
ours is a 500; bad text or numbers are the request's fault (400), a full or absent server a 503."""

from __future__ import annotations

import logging

import asyncpg

from shared.errors import InvalidInput, PartnernetError, ServiceUnavailable

log = logging.getLogger("shared.rpc")

# PostgreSQL's words for text it cannot store (a NUL character, say): the request's fault, not ours.
UNSTORABLE_TEXT = {"22021", "22P05"}

# ... and for numbers and dates beyond what a column holds.
OUT_OF_RANGE = {"22003", "22008"}

# PostgreSQL's class 53: too many connections, out of memory, disk full: the server's state, not the request's.
INSUFFICIENT_RESOURCES = "53"

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
    orig = getattr(exc, "orig", exc)  # SQLAlchemy wraps the driver's error; a direct read raises it as it is
    sqlstate = getattr(orig, "sqlstate", None) or ""
    if sqlstate in UNSTORABLE_TEXT:
        return InvalidInput("the text contains characters that cannot be stored (such as the NUL character)")
    if sqlstate in OUT_OF_RANGE or any(_is_unencodable_argument(cause) for cause in _causes(exc)):
        return InvalidInput("a value is out of the range it can have (a number beyond 64 bits, say)")
    if sqlstate.startswith(INSUFFICIENT_RESOURCES):
        log.warning("operation %s: the database has no room (%s)", operation, sqlstate)
        return ServiceUnavailable("the database is busy; try again shortly")
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
