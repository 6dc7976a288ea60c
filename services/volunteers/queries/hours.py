"""Hours as the caller may see them: an assignment's entries with their history, and sums per volunteer, library
and month (over the entries that count: a removed one stays, flagged, for its history)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from services.volunteers import store
from services.volunteers.domain import scope
from services.volunteers.queries.assignments import in_scope
from services.volunteers.store import assignment as assignment_store
from services.volunteers.store import hours_history as history
from shared.contracts.volunteers.api.assignments import (
    HoursChange,
    HoursChangeView,
    HoursEntryView,
    HoursTotalView,
    ListHours,
    ListHoursTotals,
)
from shared.errors import NotFound
from shared.pagination import Page, keyset_page
from shared.tenancy import Actor, Role
from shared.unit_of_work import UnitOfWork


def _check_may_read_hours(actor: Actor) -> None:
    if actor.role is not Role.PARTNER:
        scope.check_may_read(actor, "hours")


def entry_view(entry: Any, changes: Sequence[Any], *, free_text: bool = True) -> HoursEntryView:
    """Notes and reasons are free text that may name people: only for the library's own staff (`free_text`)."""
    return HoursEntryView(
        id=entry.id,
        assignment_id=entry.assignment_id,
        volunteer_id=entry.volunteer_id,
        library=entry.library,
        worked_on=entry.worked_on,
        month=entry.month,
        minutes=entry.minutes,
        note=entry.note if free_text else None,
        logged_at=entry.logged_at,
        version=entry.version,
        removed_at=entry.removed_at,
        history=[
            HoursChangeView(
                change=HoursChange(c.change),
                at=c.at,
                by=c.actor,
                reason=c.reason if free_text else None,
                worked_on=c.worked_on,
                minutes=c.minutes,
                note=c.note if free_text else None,
            )
            for c in changes
        ],
    )


async def list_hours(work: UnitOfWork, actor: Actor, query: ListHours) -> Page[HoursEntryView]:
    """An assignment's entries in the order worked, removed ones included, each with its corrections. A supplying
    partner reads those of the people it supplied (the notes and reasons are the library's)."""
    _check_may_read_hours(actor)
    h, a, v = store.hours, store.assignments, store.volunteers
    async with work.read() as session:
        row = (
            await session.execute(
                sa.select(a, v.c.via_partner_id)
                .join(v, v.c.id == a.c.volunteer_id)
                .where(a.c.id == query.assignment_id)
            )
        ).first()
        if row is None or not scope.may_see_volunteer(actor, row.library, row.municipality, row.via_partner_id):
            raise NotFound(f"assignment {query.assignment_id} not found")
        statement = sa.select(h).where(h.c.assignment_id == row.id)
        entries, next_cursor = await keyset_page(session, statement, [h.c.worked_on, h.c.id], query.cursor, query.limit)
        changes: dict[Any, list[Any]] = defaultdict(list)
        for change in await history.changes_of(session, *[e.id for e in entries]) if entries else []:
            changes[change.entry_id].append(change)
    free_text = actor.role is not Role.PARTNER and scope.may_see_person(actor, row.library, None)
    return Page(items=[entry_view(e, changes[e.id], free_text=free_text) for e in entries], next_cursor=next_cursor)


async def list_hours_totals(work: UnitOfWork, actor: Actor, query: ListHoursTotals) -> Page[HoursTotalView]:
    """Minutes summed per volunteer, library and month; pages by (month, library, volunteer). A supplying partner
    sees the sums of the people it supplied only."""
    _check_may_read_hours(actor)
    h, v = store.hours, store.volunteers
    grouped = (
        sa.select(
            h.c.month,
            h.c.library,
            h.c.volunteer_id,
            sa.func.sum(h.c.minutes).label("minutes"),
            sa.func.count().label("entries"),
        )
        .where(assignment_store.COUNTING)
        .group_by(h.c.month, h.c.library, h.c.volunteer_id)
    )
    if actor.role is Role.PARTNER:
        supplied = sa.select(v.c.id).where(store.is_partner(v.c.via_partner_id, scope.partner_of(actor)))
        grouped = grouped.where(h.c.volunteer_id.in_(supplied))
    else:
        grouped = in_scope(grouped, actor, h)
    for column, value in (
        (h.c.volunteer_id, query.volunteer_id),
        (h.c.library, query.library),
        (h.c.month, query.month),
    ):
        if value is not None:
            grouped = grouped.where(column == value)
    totals = grouped.subquery()
    key = [totals.c.month, totals.c.library, totals.c.volunteer_id]
    async with work.read() as session:
        rows, next_cursor = await keyset_page(session, sa.select(totals), key, query.cursor, query.limit)
    return Page(
        items=[
            HoursTotalView(
                volunteer_id=r.volunteer_id, library=r.library, month=r.month, minutes=int(r.minutes), entries=r.entries
            )
            for r in rows
        ],
        next_cursor=next_cursor,
    )
