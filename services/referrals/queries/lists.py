"""Lists: referrals in the caller's scope (overdue first, cursor pages), and the access log."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from services.referrals import domain
from services.referrals.queries.referral import access_entry, may_read_personal_data, summary
from services.referrals.store import find_referral, personal_data_reads, referrals
from shared.clock import end_of_day, start_of_day
from shared.contracts.referrals.api.participant_data import AccessLogEntry, ListAccessLog
from shared.contracts.referrals.api.referrals import ListDirection, ListReferrals, ReferralSummary
from shared.errors import Forbidden, InvalidInput, NotFound
from shared.pagination import Page, decode_cursor, encode_cursor
from shared.tenancy import Actor, Role
from shared.unit_of_work import UnitOfWork


def scope(
    actor: Actor, direction: ListDirection | None = None, *, table: sa.Table = referrals
) -> list[sa.ColumnElement[bool]]:
    """The rows the actor may list, and which of them are incoming or outgoing from where it stands. On the
    referrals, or on a read model of them with the same party columns (store/figures.py)."""
    to_partner: sa.ColumnElement[bool] = table.c.receiving_partner_id.is_not(None)
    incoming: sa.ColumnElement[bool]
    outgoing: sa.ColumnElement[bool]
    conditions: list[sa.ColumnElement[bool]]
    if actor.role is Role.STAFF:
        conditions = [table.c.library == actor.library]
        incoming, outgoing = ~to_partner, to_partner
    elif actor.role is Role.PARTNER:
        try:
            partner = UUID(actor.partner or "")
        except ValueError as exc:
            raise Forbidden("the token names no partner") from exc
        referring = table.c.referring_partner_id == partner
        receiving = table.c.receiving_partner_id == partner
        conditions = [sa.or_(referring, receiving)]
        incoming, outgoing = receiving, referring
    elif actor.role is Role.COORDINATOR:
        conditions = [table.c.municipality == actor.municipality]
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


async def list_referrals(work: UnitOfWork, actor: Actor, query: ListReferrals) -> Page[ReferralSummary]:
    """Overdue first, then newest first; the cursor is the last row's (overdue, submitted_at, id)."""
    conditions = scope(actor, query.direction)
    if query.status is not None:
        conditions.append(referrals.c.status == query.status.value)
    if query.overdue is not None:
        conditions.append(referrals.c.overdue.is_(query.overdue))
    if query.pseudonym:
        conditions.append(referrals.c.participant_pseudonym == query.pseudonym.strip().upper())
    if query.library is not None:
        conditions.append(referrals.c.library == query.library)
    if query.partner_id is not None:
        conditions.append(
            sa.or_(
                referrals.c.referring_partner_id == query.partner_id,
                referrals.c.receiving_partner_id == query.partner_id,
            )
        )
    conditions += submitted_between(query.submitted_from, query.submitted_until)
    key = decode_cursor(query.cursor)
    if key is not None:
        overdue, submitted_at, last_id = _list_key(key)
        older = sa.tuple_(referrals.c.submitted_at, referrals.c.id) < sa.tuple_(
            sa.literal(submitted_at), sa.literal(last_id)
        )
        same_flag = sa.and_(referrals.c.overdue.is_(overdue), older)
        # Overdue rows come first: after an overdue row, every row that is not overdue still follows.
        conditions.append(sa.or_(referrals.c.overdue.is_(False), same_flag) if overdue else same_flag)
    statement = (
        sa.select(referrals)
        .where(*conditions)
        .order_by(referrals.c.overdue.desc(), referrals.c.submitted_at.desc(), referrals.c.id.desc())
        .limit(query.limit + 1)
    )
    async with work.read() as session:
        rows = list((await session.execute(statement)).all())
    page, more = rows[: query.limit], len(rows) > query.limit
    next_cursor = None
    if more:
        last = page[-1]
        next_cursor = encode_cursor(last.overdue, last.submitted_at.isoformat(), str(last.id))
    return Page(items=[summary(row) for row in page], next_cursor=next_cursor)


def _list_key(key: list[Any]) -> tuple[bool, datetime, UUID]:
    try:
        overdue, submitted_at, last_id = key
        return bool(overdue), datetime.fromisoformat(submitted_at), UUID(last_id)
    except (TypeError, ValueError) as exc:
        raise InvalidInput("the cursor is not valid") from exc


async def list_access_log(work: UnitOfWork, actor: Actor, query: ListAccessLog) -> Page[AccessLogEntry]:
    """Newest first: who read which participant's personal data in the caller's library."""
    domain.check_may_manage_personal_data(actor)
    conditions = [personal_data_reads.c.library == actor.library]
    if query.referral_id is not None:
        conditions.append(personal_data_reads.c.referral_id == query.referral_id)
    key = decode_cursor(query.cursor)
    if key is not None:
        if len(key) != 1 or not isinstance(key[0], int):
            raise InvalidInput("the cursor is not valid")
        conditions.append(personal_data_reads.c.id < key[0])
    statement = (
        sa.select(personal_data_reads)
        .where(*conditions)
        .order_by(personal_data_reads.c.id.desc())
        .limit(query.limit + 1)
    )
    async with work.read() as session:
        if query.referral_id is not None:
            referral = await find_referral(session, query.referral_id)
            # Another library's referral answers like a missing one: its log is not this library's to read.
            # (No id in the answer: it may have come as a filter of the library's whole log.)
            if referral is None or not may_read_personal_data(actor, referral):
                raise NotFound("referral not found")
        rows = list((await session.execute(statement)).all())
    page = rows[: query.limit]
    next_cursor = encode_cursor(page[-1].id) if len(rows) > query.limit else None
    return Page(items=[access_entry(row) for row in page], next_cursor=next_cursor)
