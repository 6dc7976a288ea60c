"""Use cases of attendance: one person's presence at a meeting, or a meeting's whole register in one go.

A mark locks the enrolment's row, checks its version and that the meeting has started, and stages
AttendanceRecorded in the same transaction.
"""

from __future__ import annotations

from uuid import UUID

import msgspec
import sqlalchemy as sa

from services.courses import store
from services.courses.domain import enrolment as domain
from services.courses.domain.enrolment import EnrolmentStep
from services.courses.domain.offer import check_may_change_offer
from services.courses.queries import enrolment as queries
from services.courses.queries.enrolment import enrolment_scope
from services.courses.store import enrolment as enrolment_store
from shared.contracts.courses.api.courses import Meeting
from shared.contracts.courses.api.enrolments import EnrolmentView, RecordAttendance, RecordRegister, RegisterView
from shared.contracts.courses.events import AttendanceRecorded, EnrolmentStatus
from shared.errors import InvalidInput, NotFound
from shared.tenancy import Actor
from shared.unit_of_work import Transaction, UnitOfWork
from shared.versions import is_stale, version_conflict


async def record_attendance(work: UnitOfWork, actor: Actor, command: RecordAttendance) -> EnrolmentView:
    check_may_change_offer(actor)
    mark = command.attendance
    async with work.transaction() as tx:
        row = await _mark(tx, actor, command.enrolment_id, mark.meeting, mark.present, mark.expected_version)
        return await queries.load_enrolment_view(tx.session, row.id)


async def record_register(work: UnitOfWork, actor: Actor, command: RecordRegister) -> RegisterView:
    """A meeting's whole register in one transaction: a problem with anyone on it (not of this session, stale,
    not confirmed, twice on it, not the caller's to record) rolls everyone back and names the mark."""
    check_may_change_offer(actor)
    register = command.register
    ids = [mark.enrolment_id for mark in register.marks]
    if len(set(ids)) != len(ids):
        twice = next(i for i, enrolment_id in enumerate(ids) if ids.index(enrolment_id) != i)
        raise InvalidInput(f"enrolment {ids[twice]} is on the register twice - at `$.marks[{twice}]`")
    async with work.transaction() as tx:
        # Locked in one order, so two registers of the same session saved at once cannot deadlock.
        for enrolment_id in sorted(ids):
            await store.find_enrolment(tx.session, enrolment_id, for_update=True)
        for index, mark in enumerate(register.marks):
            try:
                await _mark(
                    tx,
                    actor,
                    mark.enrolment_id,
                    register.meeting,
                    mark.present,
                    mark.expected_version,
                    session_id=command.session_id,
                )
            except (InvalidInput, NotFound) as exc:
                exc.detail = f"{exc.detail} - at `$.marks[{index}]`"
                exc.args = (exc.detail,)
                raise
        views = [await queries.load_enrolment_view(tx.session, enrolment_id) for enrolment_id in ids]
        return RegisterView(session_id=command.session_id, meeting=register.meeting, enrolments=views)


async def _mark(
    tx: Transaction,
    actor: Actor,
    enrolment_id: UUID,
    meeting: int,
    present: bool,
    expected_version: int | None,
    *,
    session_id: UUID | None = None,
) -> sa.Row:
    """One person's presence at one meeting, checked and staged; `session_id`: it must be of that session."""
    found = await store.find_enrolment(tx.session, enrolment_id, for_update=True)
    if session_id is not None and (found is None or found.session_id != session_id):
        raise InvalidInput(f"enrolment {enrolment_id} is not one of this session's")
    if found is None:
        raise NotFound(f"enrolment {enrolment_id} not found")
    row = await queries.enrolment_row(tx.session, found.id)
    try:
        domain.check_may_record_attendance(actor, enrolment_scope(row), await store.municipality_of(tx.session, actor))
    except NotFound:
        raise NotFound(f"enrolment {enrolment_id} not found") from None
    if is_stale(expected_version, row.version):
        raise version_conflict(
            f"enrolment {row.id}", expected_version, await queries.load_enrolment_view(tx.session, row.id)
        )
    domain.apply_step(EnrolmentStatus(row.status), EnrolmentStep.RECORD_ATTENDANCE)
    session_row = await store.find_session(tx.session, row.session_id)
    assert session_row is not None
    meetings = msgspec.convert(session_row.meetings, list[Meeting])
    domain.check_meeting_number(meeting, len(meetings))
    now = tx.clock.now()
    if meetings[meeting - 1].starts_at > now:
        raise InvalidInput(f"meeting {meeting} has not started yet; attendance is recorded once it has")
    await enrolment_store.mark_attendance(
        tx.session, row.id, meeting, present=present, recorded_by=actor.subject, recorded_at=now
    )
    await enrolment_store.update_enrolment(tx.session, row.id, version=row.version + 1, updated_at=now)
    await tx.stage(
        AttendanceRecorded(
            enrolment_id=row.id,
            course_id=row.course_id,
            session_id=row.session_id,
            participant_pseudonym=row.participant_pseudonym,
            referral_id=row.referral_id,
            municipality=row.municipality,
            library=row.library,
            meeting=meeting,
            present=present,
        ),
        municipality=row.municipality,
        library=row.library,
    )
    return row
