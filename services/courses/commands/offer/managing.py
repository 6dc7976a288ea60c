"""What every change to the offer starts with: the course or session loaded, locked and checked against the actor
and the version they saw; and the cancellation of one session, which cancelling a course repeats for each."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import sqlalchemy as sa

from services.courses import store
from services.courses.commands.enrolment import cancel_active_enrolments
from services.courses.domain import offer as domain
from services.courses.domain.offer import SessionStep
from services.courses.queries import offer as queries
from services.courses.store import offer as offer_store
from shared.contracts.courses.api.courses import (
    SessionStatus,
)
from shared.contracts.courses.events import (
    SessionCancelled,
)
from shared.errors import NotFound
from shared.tenancy import Actor
from shared.unit_of_work import Transaction
from shared.versions import is_stale, version_conflict


async def load_course_to_manage(
    tx: Transaction, actor: Actor, course_id: UUID, *, what: str, expected_version: int | None
) -> sa.Row:
    """The course, locked, if the actor runs it and saw its current version."""
    row = await store.find_course(tx.session, course_id, for_update=True)
    if row is None:
        raise NotFound(f"course {course_id} not found")
    municipality = await store.municipality_of(tx.session, actor)
    domain.check_manages(actor, queries.course_scope(row), municipality, what=what)
    if is_stale(expected_version, row.version):
        raise version_conflict(
            f"course {course_id}",
            expected_version,
            await queries.load_course_view(tx.session, course_id, tx.clock.now()),
        )
    return row


async def load_session_to_manage(
    tx: Transaction, actor: Actor, session_id: UUID, *, what: str, expected_version: int | None
) -> tuple[sa.Row, sa.Row]:
    """The session (locked: every change to its places goes through this lock) and its course."""
    row = await store.find_session(tx.session, session_id, for_update=True)
    if row is None:
        raise NotFound(f"session {session_id} not found")
    course = await store.find_course(tx.session, row.course_id)
    assert course is not None
    municipality = await store.municipality_of(tx.session, actor)
    try:
        domain.check_manages(actor, queries.course_scope(course), municipality, what=what)
    except NotFound:
        raise NotFound(f"session {session_id} not found") from None
    if is_stale(expected_version, row.version):
        raise version_conflict(
            f"session {session_id}", expected_version, await queries.load_session_view(tx.session, session_id)
        )
    return row, course


async def cancel_one_session(tx: Transaction, course: sa.Row, session_id: UUID, *, reason: str) -> None:
    row = await store.find_session(tx.session, session_id, for_update=True)
    assert row is not None
    status = domain.apply_session_step(SessionStatus(row.status), SessionStep.CANCEL)
    await cancel_active_enrolments(tx, course, row.id, reason=f"the session was cancelled: {reason}")
    now: datetime = tx.clock.now()
    await offer_store.update_session(
        tx.session,
        row.id,
        status=status.value,
        version=row.version + 1,
        updated_at=now,
        confirmed_count=0,
        waitlisted_count=0,
    )
    await tx.stage(
        SessionCancelled(
            session_id=row.id,
            **queries.course_parties(course),
            reason=reason,
        ),
        municipality=course.municipality,
        library=course.library,
    )
