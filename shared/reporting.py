"""What every service's part of the annual report shares: the year's bounds on the Dutch calendar, and whose
records a caller may count (coordinators their municipality, staff their library, operators what they ask)."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa

from shared.clock import start_of_day
from shared.errors import Forbidden
from shared.tenancy import Actor, Role


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """From the first moment of 1 January to the first moment of the next 1 January, in the Netherlands."""
    return start_of_day(date(year, 1, 1)), start_of_day(date(year + 1, 1, 1))


def year_days(year: int) -> tuple[date, date]:
    """The first and the last day of the year: for columns that hold a (Dutch) day."""
    return date(year, 1, 1), date(year, 12, 31)


def annual_scope(
    actor: Actor,
    municipality_column: sa.ColumnElement[str | None],
    library_column: sa.ColumnElement[str | None],
    *,
    municipality: str | None,
    library: str | None,
) -> list[sa.ColumnElement[bool]]:
    """The rows the actor's report counts; `municipality` is heeded for operators only, `library` narrows."""
    if actor.role is Role.PARTNER:
        raise Forbidden("the annual report is for coordinators, library staff and operators")
    conditions: list[sa.ColumnElement[bool]] = []
    if actor.role is Role.STAFF:
        conditions.append(library_column == actor.library if actor.library else sa.false())
    if actor.role in (Role.STAFF, Role.COORDINATOR):
        conditions.append(municipality_column == actor.municipality if actor.municipality else sa.false())
    elif municipality is not None:
        conditions.append(municipality_column == municipality)
    if library is not None:
        conditions.append(library_column == library)
    return conditions
