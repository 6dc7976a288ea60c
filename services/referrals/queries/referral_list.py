"""The referrals a caller may list (overdue first, cursor pages), and the scope statistics share with it. A page is
one prepared statement on the service's direct connection (shared/db.py `Prepared`), one per shape of the query:
at 500,000 referrals the page is an index walk of 0.5-0.9 ms in PostgreSQL, and SQLAlchemy's session and rows cost
the service 2.7 ms of CPU per page of 50 on top of it."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any, NamedTuple, cast
from uuid import UUID

import sqlalchemy as sa

from services.referrals.queries.referral import summary
from services.referrals.store import referrals
from shared.clock import end_of_day, start_of_day
from shared.contracts.referrals.api.referrals import ListDirection, ListReferrals, ReferralSummary
from shared.db import Prepared
from shared.errors import Forbidden, InvalidInput
from shared.pagination import Page, decode_cursor, encode_cursor
from shared.tenancy import Actor, Role
from shared.unit_of_work import UnitOfWork


def scope(
    actor: Actor, direction: ListDirection | None = None, *, table: sa.Table = referrals, parameters: bool = False
) -> list[sa.ColumnElement[bool]]:
    """The rows the actor may list, and which of them are incoming or outgoing from where it stands. On the
    referrals, or on a read model of them with the same party columns (store/figures.py). With `parameters`, the
    actor's library, partner or municipality are the parameters `scope_library`, `scope_partner` and
    `scope_municipality` (a prepared statement's, given by `_scope_values`), not values in the statement."""

    def value(name: str, column: sa.Column[Any], given: Any) -> Any:
        return sa.bindparam(f"scope_{name}", type_=column.type) if parameters else given

    to_partner: sa.ColumnElement[bool] = table.c.receiving_partner_id.is_not(None)
    incoming: sa.ColumnElement[bool]
    outgoing: sa.ColumnElement[bool]
    conditions: list[sa.ColumnElement[bool]]
    if actor.role is Role.STAFF:
        conditions = [table.c.library == value("library", table.c.library, actor.library)]
        incoming, outgoing = ~to_partner, to_partner
    elif actor.role is Role.PARTNER:
        partner = value("partner", table.c.referring_partner_id, _partner_of(actor))
        referring = table.c.referring_partner_id == partner
        receiving = table.c.receiving_partner_id == partner
        conditions = [sa.or_(referring, receiving)]
        incoming, outgoing = receiving, referring
    elif actor.role is Role.COORDINATOR:
        conditions = [table.c.municipality == value("municipality", table.c.municipality, actor.municipality)]
        incoming, outgoing = ~to_partner, to_partner  # as the municipality's libraries see them
    else:
        conditions = []
        incoming, outgoing = ~to_partner, to_partner
    if direction is ListDirection.INCOMING:
        conditions.append(incoming)
    elif direction is ListDirection.OUTGOING:
        conditions.append(outgoing)
    return conditions


def submitted_between(start: Any, end: Any) -> list[sa.ColumnElement[bool]]:
    conditions = []
    if start is not None:
        conditions.append(referrals.c.submitted_at >= start_of_day(start))
    if end is not None:
        conditions.append(referrals.c.submitted_at < end_of_day(end))
    return conditions


# What a list shows of each referral (ReferralSummary): not the sealed personal data nor the rest of the row.
_SUMMARY_COLUMNS = (
    "id",
    "status",
    "library",
    "municipality",
    "referring_partner_id",
    "referring_library",
    "receiving_partner_id",
    "course_id",
    "participant_pseudonym",
    "needs",
    "submitted_at",
    "respond_by",
    "overdue",
    "version",
    "updated_at",
    "anonymised_at",
    "arrival",
)


class _Shape(NamedTuple):
    """What decides the list's statement, apart from the values: one prepared statement for each."""

    role: Role
    direction: ListDirection | None
    status: bool
    overdue: bool | None
    pseudonym: bool
    library: bool
    partner_id: bool
    submitted_from: bool
    submitted_until: bool
    after_overdue: bool | None  # the cursor's row was overdue; None: the first page


def _param(name: str, column: sa.Column[Any]) -> sa.BindParameter[Any]:
    return sa.bindparam(name, type_=column.type)


@functools.cache
def _statement(shape: _Shape) -> Prepared:
    """The list's statement for a shape, values as parameters (the caller's scope among them). Prepared once per
    connection by asyncpg: SQLAlchemy builds it once per shape, its session and rows never see a page."""
    r = referrals
    actor = Actor(
        subject="",
        role=shape.role,
        library="",
        municipality="",
        partner=str(UUID(int=0)),  # scope() checks that a partner's token names one; its value is a parameter
    )
    conditions = scope(actor, shape.direction, parameters=True)
    if shape.status:
        conditions.append(r.c.status == _param("status", r.c.status))
    if shape.overdue is not None:
        conditions.append(r.c.overdue.is_(shape.overdue))
    if shape.pseudonym:
        conditions.append(r.c.participant_pseudonym == _param("pseudonym", r.c.participant_pseudonym))
    if shape.library:
        conditions.append(r.c.library == _param("filter_library", r.c.library))
    if shape.partner_id:
        partner_id = _param("partner_id", r.c.referring_partner_id)
        conditions.append(sa.or_(r.c.referring_partner_id == partner_id, r.c.receiving_partner_id == partner_id))
    if shape.submitted_from:
        conditions.append(r.c.submitted_at >= _param("submitted_from", r.c.submitted_at))
    if shape.submitted_until:
        conditions.append(r.c.submitted_at < _param("submitted_until", r.c.submitted_at))
    if shape.after_overdue is not None:
        older = sa.tuple_(r.c.submitted_at, r.c.id) < sa.tuple_(
            _param("after_submitted_at", r.c.submitted_at), _param("after_id", r.c.id)
        )
        same_flag = sa.and_(r.c.overdue.is_(shape.after_overdue), older)
        # Overdue rows come first: after an overdue row, every row that is not overdue still follows.
        conditions.append(sa.or_(r.c.overdue.is_(False), same_flag) if shape.after_overdue else same_flag)
    statement = (
        sa.select(*(r.c[name] for name in _SUMMARY_COLUMNS))
        .where(*conditions)
        .order_by(r.c.overdue.desc(), r.c.submitted_at.desc(), r.c.id.desc())
        .limit(sa.bindparam("limit", type_=sa.Integer))
    )
    return Prepared(f"SELECT referrals as {shape.role.value}", statement)


async def list_referrals(work: UnitOfWork, actor: Actor, query: ListReferrals) -> Page[ReferralSummary]:
    """Overdue first, then newest first; the cursor is the last row's (overdue, submitted_at, id)."""
    values: dict[str, Any] = {"limit": query.limit + 1, **_scope_values(actor)}
    key = decode_cursor(query.cursor)
    after_overdue = None
    if key is not None:
        after_overdue, values["after_submitted_at"], values["after_id"] = _list_key(key)
    if query.status is not None:
        values["status"] = query.status.value
    if query.pseudonym:
        values["pseudonym"] = query.pseudonym.strip().upper()
    if query.library is not None:
        values["filter_library"] = query.library
    if query.partner_id is not None:
        values["partner_id"] = query.partner_id
    if query.submitted_from is not None:
        values["submitted_from"] = start_of_day(query.submitted_from)
    if query.submitted_until is not None:
        values["submitted_until"] = end_of_day(query.submitted_until)
    shape = _Shape(
        role=actor.role,
        direction=query.direction,
        status=query.status is not None,
        overdue=query.overdue,
        pseudonym=bool(query.pseudonym),
        library=query.library is not None,
        partner_id=query.partner_id is not None,
        submitted_from=query.submitted_from is not None,
        submitted_until=query.submitted_until is not None,
        after_overdue=after_overdue,
    )
    async with work.direct() as db:
        rows = await db.fetch(_statement(shape), **values)
    page, more = rows[: query.limit], len(rows) > query.limit
    next_cursor = None
    if more:
        last = page[-1]
        next_cursor = encode_cursor(last.overdue, last.submitted_at.isoformat(), str(last.id))
    return Page(items=[summary(cast(sa.Row, row)) for row in page], next_cursor=next_cursor)


def _scope_values(actor: Actor) -> dict[str, Any]:
    """The caller's part of the parameters of `scope(..., parameters=True)`."""
    if actor.role is Role.STAFF:
        return {"scope_library": actor.library}
    if actor.role is Role.PARTNER:
        return {"scope_partner": _partner_of(actor)}
    if actor.role is Role.COORDINATOR:
        return {"scope_municipality": actor.municipality}
    return {}


def _partner_of(actor: Actor) -> UUID:
    try:
        return UUID(actor.partner or "")
    except ValueError as exc:
        raise Forbidden("the token names no partner") from exc


def _list_key(key: list[Any]) -> tuple[bool, datetime, UUID]:
    try:
        overdue, submitted_at, last_id = key
        return bool(overdue), datetime.fromisoformat(submitted_at), UUID(last_id)
    except (TypeError, ValueError) as exc:
        raise InvalidInput("the cursor is not valid") from exc
