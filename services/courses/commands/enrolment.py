"""Use cases of enrolment: a place or the waiting list, cancellation that moves the list up (attendance:
commands/attendance.py).

No overbooking, however many enrol at once: every change to a session's places happens while its
row is locked (`SELECT … FOR UPDATE`) in the same transaction as the enrolment, and the database's
own check (`confirmed_count <= capacity`) refuses whatever would slip past.
"""

from __future__ import annotations

import base64
import os
from uuid import UUID

import msgspec
import sqlalchemy as sa

from services.courses import store
from services.courses.domain import enrolment as domain
from services.courses.domain.enrolment import EnrolmentStep, KnownReferral
from services.courses.domain.offer import (
    CourseStep,
    SessionStep,
    apply_course_step,
    apply_session_step,
    check_may_change_offer,
)
from services.courses.domain.residents import OFFER_HELD_FOR
from services.courses.queries import enrolment as queries
from services.courses.queries.enrolment import enrolment_scope
from services.courses.queries.offer import course_scope
from services.courses.store import education as education_store
from services.courses.store import enrolment as enrolment_store
from services.courses.store import residents as resident_store
from shared.clock import local_date
from shared.contracts.courses.api.courses import CourseStatus, SessionStatus
from shared.contracts.courses.api.enrolments import (
    CancelEnrolment,
    EnrolmentView,
    EnrolParticipant,
)
from shared.contracts.courses.events import (
    Audience,
    EnrolmentCancelled,
    EnrolmentConfirmed,
    EnrolmentStatus,
    EnrolmentWaitlisted,
)
from shared.contracts.referrals.api.referrals import ReferralStatus
from shared.errors import Conflict, NotFound
from shared.ids import new_id
from shared.tenancy import Actor, Role
from shared.unit_of_work import Transaction, UnitOfWork
from shared.versions import is_stale, version_conflict


def made_up_pseudonym() -> str:
    """For a participant enrolled directly, without a referral: random, so it says nothing about the person."""
    return "P-" + base64.b32encode(os.urandom(6)).decode().rstrip("=")


async def find_referral(tx: Transaction, referral_id: UUID | None) -> KnownReferral | None:
    if referral_id is None:
        return None
    row = await enrolment_store.find_known_referral(tx.session, referral_id)
    if row is None:
        return None
    return KnownReferral(
        id=row.id,
        municipality=row.municipality,
        participant_pseudonym=row.participant_pseudonym,
        library=row.library,
        referring_partner_id=row.referring_partner_id,
        receiving_partner_id=row.receiving_partner_id,
        status=ReferralStatus(row.status) if row.status is not None else None,
    )


async def enrol(work: UnitOfWork, actor: Actor, command: EnrolParticipant) -> EnrolmentView:
    check_may_change_offer(actor)
    wanted = command.enrolment
    enrolment_id = new_id()
    async with work.transaction() as tx:
        # The session's row lock is the queue: whoever holds it sees the places as they are.
        session_row = await store.find_session(tx.session, command.session_id, for_update=True)
        if session_row is None:
            raise NotFound(f"session {command.session_id} not found")
        course = await store.find_course(tx.session, session_row.course_id)
        assert course is not None
        try:
            domain.check_may_enrol(actor, course_scope(course), await store.municipality_of(tx.session, actor))
        except NotFound:
            raise NotFound(f"session {command.session_id} not found") from None
        apply_course_step(CourseStatus(course.status), CourseStep.ENROL)
        apply_session_step(SessionStatus(session_row.status), SessionStep.ENROL)
        now = tx.clock.now()
        domain.check_session_open(session_row.ends_at, now)
        scope = course_scope(course)
        if scope.audience is Audience.PARTNER_STAFF and wanted.participant_pseudonym is not None:
            issued = await enrolment_store.attendee_code_issued(
                tx.session, scope.audience_partner_id, wanted.participant_pseudonym
            )
            domain.check_attendee_code(scope, wanted.participant_pseudonym, issued)
        pseudonym = domain.participant_for(
            actor,
            referral_id=wanted.referral_id,
            referral=await find_referral(tx, wanted.referral_id),
            given_pseudonym=wanted.participant_pseudonym,
            municipality=course.municipality,
            made_up=made_up_pseudonym(),
        )
        await check_not_enrolled_yet(tx, actor, session_row.id, pseudonym)
        return await place_participant(
            tx,
            course,
            session_row,
            enrolment_id=enrolment_id,
            pseudonym=pseudonym,
            referral_id=wanted.referral_id,
            enrolled_by=actor.subject,
            enrolled_by_library=actor.library if actor.role is Role.STAFF else None,
            enrolled_by_partner_id=UUID(actor.partner) if actor.role is Role.PARTNER and actor.partner else None,
        )


async def place_participant(
    tx: Transaction,
    course: sa.Row,
    session_row: sa.Row,
    *,
    enrolment_id: UUID,
    pseudonym: str,
    referral_id: UUID | None,
    enrolled_by: str,
    enrolled_by_library: str | None = None,
    enrolled_by_partner_id: UUID | None = None,
) -> EnrolmentView:
    """A place if one is free, else the end of the waiting list, with its event. The caller holds the session's
    lock and checked that the participant may enrol (staff and partners here, residents in commands/residents.py)."""
    now = tx.clock.now()
    status = domain.place_for_newcomer(session_row.capacity, session_row.confirmed_count)
    if status is EnrolmentStatus.CONFIRMED and await _place_kept_for_another(tx, course, session_row, referral_id):
        status = EnrolmentStatus.WAITLISTED
    confirmed = status is EnrolmentStatus.CONFIRMED
    await enrolment_store.take_place(tx.session, session_row.id, confirmed=confirmed)
    await enrolment_store.add_enrolment(
        tx.session,
        id=enrolment_id,
        session_id=session_row.id,
        course_id=course.id,
        participant_pseudonym=pseudonym,
        referral_id=referral_id,
        status=status.value,
        sequence=session_row.next_sequence,
        enrolled_by=enrolled_by,
        enrolled_by_library=enrolled_by_library,
        enrolled_by_partner_id=enrolled_by_partner_id,
        enrolled_at=now,
        confirmed_at=now if confirmed else None,
        version=1,
        updated_at=now,
    )
    view = await queries.load_enrolment_view(tx.session, enrolment_id)
    if confirmed:
        await stage_confirmed(tx, course, session_row, view, promoted=False)
    else:
        assert view.waiting_list_position is not None
        await tx.stage(
            EnrolmentWaitlisted(
                enrolment_id=view.id,
                course_id=course.id,
                session_id=session_row.id,
                participant_pseudonym=pseudonym,
                referral_id=view.referral_id,
                municipality=course.municipality,
                library=course.library,
                offered_by_partner_id=course.offered_by_partner_id,
                waiting_list_position=view.waiting_list_position,
            ),
            municipality=course.municipality,
            library=course.library,
        )
    return view


async def _place_kept_for_another(
    tx: Transaction, course: sa.Row, session_row: sa.Row, referral_id: UUID | None
) -> bool:
    """A course planned for a referrer's request for tailored education keeps places for that referrer's referrals:
    anyone else waits when the free places are only those still kept."""
    partner_id = course.reserved_for_partner_id
    if partner_id is None or await education_store.is_referrer_of(tx.session, referral_id, partner_id):
        return False
    kept = await places_kept(tx, course, session_row.id)
    return session_row.capacity - session_row.confirmed_count <= kept


async def places_kept(tx: Transaction, course: sa.Row, session_id: UUID) -> int:
    """How many of the session's places are still kept for the reserving referrer's referrals: none once the
    reservation ended (services/courses/domain/enrolment.py, reservation_runs)."""
    running = domain.reservation_runs(
        course.reserved_for_partner_id,
        course.reservation_ended_at,
        course.reserved_until,
        local_date(tx.clock.now()),
    )
    if not running:
        return 0
    taken = await education_store.places_taken_by_partner(tx.session, session_id, course.reserved_for_partner_id)
    return max(0, course.reserved_places - taken)


async def check_not_enrolled_yet(tx: Transaction, actor: Actor, session_id: UUID, pseudonym: str) -> None:
    """A participant holds one place (or one spot on the waiting list) per session. The 409 shows the enrolment
    there only to a caller who may read it: another party's enrolment (its id, referral, status) stays unseen."""
    already = await queries.active_enrolment_of(tx.session, session_id, pseudonym)
    if already is None:
        return
    municipality = await store.municipality_of(tx.session, actor)
    if not domain.may_read_enrolment(actor, enrolment_scope(already), municipality):
        raise Conflict(f"the participant is already enrolled for session {session_id}")
    current = await queries.load_enrolment_view(tx.session, already.id)
    raise Conflict(
        f"{pseudonym} is already {current.status.value} for session {session_id}", current=msgspec.to_builtins(current)
    )


async def stage_confirmed(
    tx: Transaction, course: sa.Row, session_row: sa.Row, view: EnrolmentView, *, promoted: bool
) -> None:
    await tx.stage(
        EnrolmentConfirmed(
            enrolment_id=view.id,
            course_id=course.id,
            session_id=session_row.id,
            participant_pseudonym=view.participant_pseudonym,
            referral_id=view.referral_id,
            municipality=course.municipality,
            library=course.library,
            offered_by_partner_id=course.offered_by_partner_id,
            promoted_from_waiting_list=promoted,
            course_title=course.title,
            session_starts_at=session_row.starts_at,
        ),
        municipality=course.municipality,
        library=course.library,
    )


async def fill_places(tx: Transaction, session_id: UUID, course: sa.Row) -> list[UUID]:
    """Move the waiting list up into the free places, in its order, except that places still kept for a referrer's
    referrals go to those referrals on the list first (domain.choose_promotions). The caller holds the session's
    lock."""
    session_row = await store.find_session(tx.session, session_id, for_update=True)
    assert session_row is not None
    count = domain.places_to_fill(session_row.capacity, session_row.confirmed_count, session_row.waitlisted_count)
    if count == 0:
        return []
    now = tx.clock.now()
    kept = await places_kept(tx, course, session_id)
    if kept == 0:
        next_in_line = await enrolment_store.waiting_list_head(tx.session, session_id, count)
    else:
        waiting = await enrolment_store.waiting_list_with_referrers(tx.session, session_id)
        reserving = course.reserved_for_partner_id
        next_in_line = domain.choose_promotions(
            session_row.capacity - session_row.confirmed_count,
            kept,
            [(row, row.referring_partner_id == reserving) for row in waiting],
        )
    for row in next_in_line:
        status = domain.apply_step(EnrolmentStatus(row.status), EnrolmentStep.PROMOTE)
        await enrolment_store.update_enrolment(
            tx.session, row.id, status=status.value, confirmed_at=now, version=row.version + 1, updated_at=now
        )
    await enrolment_store.move_up(tx.session, session_id, len(next_in_line))
    for row in next_in_line:
        await stage_confirmed(
            tx, course, session_row, await queries.load_enrolment_view(tx.session, row.id), promoted=True
        )
    promoted = [row.id for row in next_in_line]
    # A resident's place is held for them until they accept it (services/courses/domain/residents.py).
    await resident_store.hold_offers(tx.session, promoted, until=now + OFFER_HELD_FOR, now=now)
    return promoted


async def cancel_enrolment(work: UnitOfWork, actor: Actor, command: CancelEnrolment) -> EnrolmentView:
    check_may_change_offer(actor)
    cancellation = command.cancellation
    async with work.transaction() as tx:
        found = await store.find_enrolment(tx.session, command.enrolment_id)
        if found is None:
            raise NotFound(f"enrolment {command.enrolment_id} not found")
        # Lock order: the session first, then its enrolments, as everywhere else.
        session_row = await store.find_session(tx.session, found.session_id, for_update=True)
        assert session_row is not None
        row = await queries.enrolment_row(tx.session, found.id)
        try:
            domain.check_may_cancel(actor, enrolment_scope(row), await store.municipality_of(tx.session, actor))
        except NotFound:
            raise NotFound(f"enrolment {command.enrolment_id} not found") from None
        if is_stale(cancellation.expected_version, row.version):
            raise version_conflict(
                f"enrolment {row.id}",
                cancellation.expected_version,
                await queries.load_enrolment_view(tx.session, row.id),
            )
        was = EnrolmentStatus(row.status)
        status = domain.apply_step(was, EnrolmentStep.CANCEL)
        await cancel_one(tx, row.id, was, status, reason=cancellation.reason)
        course = await store.find_course(tx.session, row.course_id)
        assert course is not None
        await stage_cancelled(tx, course, row, was, cancellation.reason)
        await resident_store.tell_cancelled(tx.session, [row.id], now=tx.clock.now())
        if was is EnrolmentStatus.CONFIRMED:
            await fill_places(tx, session_row.id, course)
        return await queries.load_enrolment_view(tx.session, row.id)


async def cancel_one(
    tx: Transaction, enrolment_id: UUID, was: EnrolmentStatus, status: EnrolmentStatus, *, reason: str | None
) -> None:
    row = await store.find_enrolment(tx.session, enrolment_id, for_update=True)
    assert row is not None
    now = tx.clock.now()
    await enrolment_store.update_enrolment(
        tx.session,
        enrolment_id,
        status=status.value,
        cancelled_at=now,
        cancellation_reason=reason,
        version=row.version + 1,
        updated_at=now,
    )
    await enrolment_store.free_one(tx.session, row.session_id, was)


async def stage_cancelled(
    tx: Transaction, course: sa.Row, row: sa.Row, was: EnrolmentStatus, reason: str | None
) -> None:
    await tx.stage(
        EnrolmentCancelled(
            enrolment_id=row.id,
            course_id=course.id,
            session_id=row.session_id,
            participant_pseudonym=row.participant_pseudonym,
            referral_id=row.referral_id,
            municipality=course.municipality,
            library=course.library,
            offered_by_partner_id=course.offered_by_partner_id,
            was=was,
            reason=reason,
        ),
        municipality=course.municipality,
        library=course.library,
    )


async def cancel_active_enrolments(tx: Transaction, course: sa.Row, session_id: UUID, *, reason: str) -> None:
    """A cancelled session takes its places and waiting list with it. The caller holds the session's lock."""
    for row in await enrolment_store.active_enrolments_of(tx.session, session_id):
        was = EnrolmentStatus(row.status)
        await cancel_one(tx, row.id, was, domain.apply_step(was, EnrolmentStep.CANCEL), reason=reason)
        await stage_cancelled(tx, course, row, was, reason)
        await resident_store.tell_cancelled(tx.session, [row.id], now=tx.clock.now())
