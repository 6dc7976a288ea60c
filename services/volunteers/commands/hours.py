"""Hours worked on an assignment: logged on days the assignment ran, at most a day's worth per volunteer and day
over all their assignments, and corrected or removed with a history (never overwritten without a trace)."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from services.volunteers import store
from services.volunteers.domain import hours, scope
from services.volunteers.queries.hours import entry_view
from services.volunteers.store import assignment as assignment_store
from services.volunteers.store import hours_history as history
from shared.clock import local_date
from shared.contracts.volunteers.api.assignments import CorrectHours, HoursChange, HoursEntryView, LogHours, RemoveHours
from shared.contracts.volunteers.events import HoursCorrected, HoursLogged, HoursRemoved, VolunteerKind
from shared.errors import NotFound
from shared.ids import new_id
from shared.tenancy import Actor
from shared.unit_of_work import Transaction, UnitOfWork
from shared.versions import is_stale, version_conflict


async def _assignment(tx: Transaction, actor: Actor, assignment_id: UUID) -> tuple[sa.Row, sa.Row]:
    """The assignment and its volunteer, locked: entries of one volunteer on one day are summed one at a time."""
    row = await store.find(tx.session, store.assignments, assignment_id)
    if row is None:
        raise NotFound(f"assignment {assignment_id} not found")
    scope.check_may_act(actor, row.library, row.municipality, f"assignment {assignment_id}")
    volunteer = await store.find(tx.session, store.volunteers, row.volunteer_id, for_update=True)
    assert volunteer is not None
    return row, volunteer


def _check_day(tx: Transaction, row: sa.Row, worked_on: date) -> None:
    first = hours.first_day(row.starts_on, local_date(row.assigned_at))
    last = hours.last_day(row.ends_on, local_date(row.ended_at) if row.ended_at is not None else None)
    hours.check_day(worked_on, local_date(tx.clock.now()), first, last)


async def log_hours(work: UnitOfWork, actor: Actor, command: LogHours) -> HoursEntryView:
    scope.check_may_manage(actor)
    entry_id = new_id()
    async with work.transaction() as tx:
        row, volunteer = await _assignment(tx, actor, command.assignment_id)
        _check_day(tx, row, command.worked_on)
        already = await history.minutes_on_day(tx.session, row.volunteer_id, command.worked_on)
        hours.check_day_total(command.worked_on, already, command.minutes)
        now = tx.clock.now()
        await assignment_store.add_hours(
            tx.session,
            id=entry_id,
            assignment_id=row.id,
            volunteer_id=row.volunteer_id,
            library=row.library,
            municipality=row.municipality,
            worked_on=command.worked_on,
            month=hours.month_of(command.worked_on),
            minutes=command.minutes,
            note=command.note,
            logged_at=now,
            logged_by=actor.subject,
            version=1,
        )
        await tx.stage(
            HoursLogged(
                **_parties(row, volunteer),
                worked_on=command.worked_on,
                minutes=command.minutes,
                entry_id=entry_id,
            ),
            municipality=row.municipality,
            library=row.library,
        )
        return await _view(tx, entry_id)


def _parties(row: sa.Row, volunteer: sa.Row) -> dict[str, Any]:
    """Who and where every hours event names."""
    return {
        "volunteer_id": row.volunteer_id,
        "library": row.library,
        "municipality": row.municipality,
        "kind": VolunteerKind(volunteer.kind),
        "via_partner_id": volunteer.via_partner_id,
        "assignment_id": row.id,
    }


async def _entry_for_change(
    tx: Transaction, actor: Actor, assignment_id: UUID, entry_id: UUID, expected: int | None, step: str
) -> tuple[sa.Row, sa.Row, sa.Row]:
    row, volunteer = await _assignment(tx, actor, assignment_id)
    entry = await assignment_store.lock_hours_entry(tx.session, row.id, entry_id)
    if entry is None:
        raise NotFound(f"hours entry {entry_id} not found")
    if is_stale(expected, entry.version):
        raise version_conflict(f"hours entry {entry_id}", expected, await _view(tx, entry_id))
    hours.check_not_removed(entry.removed_at, step)
    return row, volunteer, entry


async def correct_hours(work: UnitOfWork, actor: Actor, command: CorrectHours) -> HoursEntryView:
    """Put a wrong entry right: the same rules as logging it, the day's total without the entry's old minutes."""
    scope.check_may_manage(actor)
    async with work.transaction() as tx:
        row, volunteer, entry = await _entry_for_change(
            tx, actor, command.assignment_id, command.entry_id, command.expected_version, "corrected"
        )
        worked_on = command.worked_on or entry.worked_on
        minutes = command.minutes or entry.minutes
        _check_day(tx, row, worked_on)
        already = await history.minutes_on_day(tx.session, row.volunteer_id, worked_on, besides=entry.id)
        hours.check_day_total(worked_on, already, minutes)
        now = tx.clock.now()
        await history.record_change(
            tx.session, entry, change=HoursChange.CORRECTED.value, at=now, actor=actor.subject, reason=command.reason
        )
        await assignment_store.update_hours(
            tx.session,
            entry.id,
            worked_on=worked_on,
            month=hours.month_of(worked_on),
            minutes=minutes,
            note=command.note if command.note is not None else entry.note,
            version=entry.version + 1,
        )
        await tx.stage(
            HoursCorrected(
                **_parties(row, volunteer),
                entry_id=entry.id,
                worked_on=worked_on,
                minutes=minutes,
                previous_worked_on=entry.worked_on,
                previous_minutes=entry.minutes,
            ),
            municipality=row.municipality,
            library=row.library,
        )
        return await _view(tx, entry.id)


async def remove_hours(work: UnitOfWork, actor: Actor, command: RemoveHours) -> HoursEntryView:
    """An entry logged by mistake stops counting; it stays, with who removed it and why."""
    scope.check_may_manage(actor)
    async with work.transaction() as tx:
        row, volunteer, entry = await _entry_for_change(
            tx, actor, command.assignment_id, command.entry_id, command.expected_version, "removed"
        )
        now = tx.clock.now()
        await history.record_change(
            tx.session, entry, change=HoursChange.REMOVED.value, at=now, actor=actor.subject, reason=command.reason
        )
        await assignment_store.update_hours(tx.session, entry.id, removed_at=now, version=entry.version + 1)
        await tx.stage(
            HoursRemoved(
                **_parties(row, volunteer),
                entry_id=entry.id,
                worked_on=entry.worked_on,
                minutes=entry.minutes,
            ),
            municipality=row.municipality,
            library=row.library,
        )
        return await _view(tx, entry.id)


async def _view(tx: Transaction, entry_id: UUID) -> HoursEntryView:
    entry = await store.find(tx.session, store.hours, entry_id)
    assert entry is not None
    return entry_view(entry, await history.changes_of(tx.session, entry_id))
