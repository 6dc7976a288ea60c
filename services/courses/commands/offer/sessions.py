"""Use cases of a course's sessions: schedule, change (more places fill from the waiting list) and cancel."""

from __future__ import annotations

import msgspec

from services.courses.commands.enrolment import fill_places
from services.courses.commands.offer.managing import cancel_one_session, load_course_to_manage, load_session_to_manage
from services.courses.domain import offer as domain
from services.courses.domain.offer import CourseStep, SessionStep
from services.courses.queries import offer as queries
from services.courses.store import offer as offer_store
from shared.contracts.courses.api.courses import (
    CancelSession,
    CourseStatus,
    ScheduleSession,
    SessionStatus,
    SessionView,
    UpdateSession,
)
from shared.contracts.courses.events import (
    SessionScheduled,
)
from shared.ids import new_id
from shared.tenancy import Actor
from shared.unit_of_work import UnitOfWork


async def schedule_session(work: UnitOfWork, actor: Actor, command: ScheduleSession) -> SessionView:
    domain.check_may_change_offer(actor)
    details = command.details
    starts_at, ends_at = domain.check_meetings(details.meetings)
    session_id = new_id()
    async with work.transaction() as tx:
        row = await load_course_to_manage(
            tx, actor, command.course_id, what="schedule its sessions", expected_version=None
        )
        domain.apply_course_step(CourseStatus(row.status), CourseStep.SCHEDULE_SESSION)
        now = tx.clock.now()
        await offer_store.add_session(
            tx.session,
            id=session_id,
            course_id=row.id,
            meetings=msgspec.to_builtins(details.meetings),
            starts_at=starts_at,
            ends_at=ends_at,
            place=details.place,
            capacity=details.capacity,
            status=SessionStatus.SCHEDULED.value,
            version=1,
            created_at=now,
            updated_at=now,
        )
        await tx.stage(
            SessionScheduled(
                session_id=session_id,
                **queries.course_parties(row),
                starts_at=starts_at,
                ends_at=ends_at,
                capacity=details.capacity,
                place=details.place,
            ),
            municipality=row.municipality,
            library=row.library,
        )
        return await queries.load_session_view(tx.session, session_id)


async def update_session(work: UnitOfWork, actor: Actor, command: UpdateSession) -> SessionView:
    """Version counts edits of the session itself; places taken and freed do not make an edit stale."""
    domain.check_may_change_offer(actor)
    changes = command.changes
    async with work.transaction() as tx:
        row, course = await load_session_to_manage(
            tx, actor, command.session_id, what="change its sessions", expected_version=changes.expected_version
        )
        domain.apply_session_step(SessionStatus(row.status), SessionStep.UPDATE)
        values: dict[str, object] = {"version": row.version + 1, "updated_at": tx.clock.now()}
        if changes.meetings is not None:
            values["starts_at"], values["ends_at"] = domain.check_meetings(changes.meetings)
            values["meetings"] = msgspec.to_builtins(changes.meetings)
        if changes.capacity is not None:
            domain.check_new_capacity(changes.capacity, row.confirmed_count)
            values["capacity"] = changes.capacity
        if changes.place is not None:
            values["place"] = changes.place
        await offer_store.update_session(tx.session, row.id, **values)
        if changes.capacity is not None and changes.capacity > row.capacity:
            await fill_places(tx, row.id, course)
        return await queries.load_session_view(tx.session, row.id)


async def cancel_session(work: UnitOfWork, actor: Actor, command: CancelSession) -> SessionView:
    domain.check_may_change_offer(actor)
    async with work.transaction() as tx:
        row, course = await load_session_to_manage(
            tx, actor, command.session_id, what="cancel its sessions", expected_version=command.expected_version
        )
        await cancel_one_session(tx, course, row.id, reason=command.reason)
        return await queries.load_session_view(tx.session, row.id)
