"""A database that refuses text or is out of reach is answered as the request's fault or a 503, not a 500."""

from __future__ import annotations

import asyncpg
import pytest
import sqlalchemy.exc

from shared.errors import InvalidInput, PartnernetError, ServiceUnavailable
from shared.rpc.database_errors import database_error


class DriverError(Exception):
    def __init__(self, sqlstate: str | None) -> None:
        super().__init__("driver error")
        self.sqlstate = sqlstate


def wrapped(orig: Exception, cause: BaseException | None = None) -> sqlalchemy.exc.DBAPIError:
    error = sqlalchemy.exc.DBAPIError("INSERT …", {}, orig)
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (wrapped(DriverError("22021")), InvalidInput),  # character_not_in_repertoire: a NUL in text
        (wrapped(DriverError("22P05")), InvalidInput),  # untranslatable_character
        (wrapped(DriverError(None), asyncpg.exceptions.ConnectionDoesNotExistError("closed")), ServiceUnavailable),
        (wrapped(DriverError("57P01"), asyncpg.exceptions.AdminShutdownError("shutdown")), ServiceUnavailable),
        (ConnectionRefusedError(111, "refused"), ServiceUnavailable),
        (wrapped(DriverError("23505")), PartnernetError),  # a unique violation nobody handled: a real fault
        # The driver's own errors, unwrapped, as a read on a direct connection (shared/db.py) raises them.
        (asyncpg.exceptions.CharacterNotInRepertoireError("NUL"), InvalidInput),
        (asyncpg.exceptions.ConnectionDoesNotExistError("closed"), ServiceUnavailable),
        (asyncpg.exceptions.AdminShutdownError("shutdown"), ServiceUnavailable),
        (asyncpg.exceptions.UniqueViolationError("duplicate key"), PartnernetError),
        # The server out of room: every connection slot taken (as a pool opening one more under a burst meets it).
        (asyncpg.exceptions.TooManyConnectionsError("sorry, too many clients already"), ServiceUnavailable),
        (wrapped(DriverError("53100")), ServiceUnavailable),  # disk full
    ],
    ids=[
        "nul-character",
        "untranslatable",
        "connection-closed",
        "admin-shutdown",
        "refused",
        "unhandled",
        "direct-nul-character",
        "direct-connection-closed",
        "direct-admin-shutdown",
        "direct-unhandled",
        "too-many-connections",
        "disk-full",
    ],
)
def test_database_errors_map_to_what_the_caller_can_act_on(error: Exception, expected: type[PartnernetError]) -> None:
    answered = database_error(error, "referrals.submit")
    assert type(answered) is expected
