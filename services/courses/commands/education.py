"""Tailored education (maatwerkeducatie): a referrer asks a library it partners with as referrer for a course for a
group of its clients; the library's staff plan a course of their own for it, whose places are kept for that
referrer's referrals (up to the clients asked for), or decline with a reason. Each step is an event that names the
referrer, so the request's state is in its feed."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from services.courses import store
from services.courses.commands import enrolment
from services.courses.queries.education import request_view
from services.courses.store import education
from services.courses.store import offer as offer_store
from shared.clock import local_date
from shared.contracts.courses.api.courses import CourseStatus
from shared.contracts.courses.api.education import (
    AnswerEducationRequest,
    EducationDecision,
    EducationRequestStatus,
    EducationRequestView,
    ReleaseReservation,
    RequestTailoredEducation,
    ReservationEnd,
)
from shared.contracts.courses.events import (
    EducationRequestDeclined,
    EducationRequested,
    EducationRequestPlanned,
    EducationRequestReservationEnded,
)
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.ids import new_id
from shared.tenancy import Actor, Role
from shared.unit_of_work import Transaction, UnitOfWork
from shared.versions import is_stale, version_conflict


def _partner(actor: Actor) -> UUID:
    try:
        return UUID(actor.partner or "")
    except ValueError:
        raise Forbidden("the token names no partner") from None


def acting(actor: Actor) -> str:
    """Who acted: a partner's person with the partner they acted for."""
    return f"partner:{actor.partner}:{actor.subject}" if actor.role is Role.PARTNER else actor.subject


async def request_tailored_education(
    work: UnitOfWork, actor: Actor, command: RequestTailoredEducation
) -> EducationRequestView:
    partner_id = _partner(actor)
    if command.preferred_until < command.preferred_from:
        raise InvalidInput("the preferred period cannot end before it starts")
    request_id = new_id()
    async with work.transaction() as tx:
        municipality = await store.known.library_municipality(tx.session, command.library)
        if municipality is None or municipality != actor.municipality:
            raise NotFound(f"library {command.library} not found")
        if not await education.partners_as_referrer(tx.session, partner_id, command.library):
            raise Forbidden(
                f"partner {partner_id} has no running partnership with library {command.library} as referrer"
            )
        now = tx.clock.now()
        await education.add_request(
            tx.session,
            id=request_id,
            library=command.library,
            municipality=municipality,
            partner_id=partner_id,
            target_group=command.target_group,
            skill_area=command.skill_area.value,
            clients=command.clients,
            preferred_from=command.preferred_from,
            preferred_until=command.preferred_until,
            note=command.note,
            status=EducationRequestStatus.REQUESTED.value,
            requested_by=acting(actor),
            created_at=now,
            version=1,
        )
        await tx.stage(
            EducationRequested(
                request_id=request_id,
                library=command.library,
                municipality=municipality,
                referring_partner_id=partner_id,
                skill_area=command.skill_area,
                clients=command.clients,
                preferred_from=command.preferred_from,
                preferred_until=command.preferred_until,
            ),
            municipality=municipality,
            library=command.library,
        )
        row = await education.find_request(tx.session, request_id)
    assert row is not None
    return request_view(row)


async def answer_education_request(
    work: UnitOfWork, actor: Actor, command: AnswerEducationRequest
) -> EducationRequestView:
    """Only the library's own staff answer, once."""
    async with work.transaction() as tx:
        row = await education.find_request(tx.session, command.request_id, for_update=True)
        if row is None or actor.library != row.library:
            raise NotFound(f"request {command.request_id} not found")
        if is_stale(command.expected_version, row.version):
            raise version_conflict(f"request {row.id}", command.expected_version, request_view(row))
        if row.status != EducationRequestStatus.REQUESTED.value:
            raise Conflict(f"the request is {row.status} already", state=row.status)
        parties = {
            "request_id": row.id,
            "library": row.library,
            "municipality": row.municipality,
            "referring_partner_id": row.partner_id,
        }
        values: dict[str, object] = {"answered_by": acting(actor), "answered_at": tx.clock.now()}
        if command.decision is EducationDecision.PLAN:
            if command.course_id is None:
                raise InvalidInput("name the course planned for the request")
            course = await store.find_course(tx.session, command.course_id, for_update=True)
            if course is None or course.library != row.library or course.offered_by_partner_id is not None:
                raise InvalidInput(f"course {command.course_id} is not a course of library {row.library}")
            if course.status == CourseStatus.CANCELLED.value:
                raise Conflict(f"course {course.id} is cancelled", state=course.status)
            if course.reserved_for_partner_id is not None:
                raise Conflict(f"course {course.id} keeps its places for another request already")
            if command.reserved_until is not None and command.reserved_until < local_date(tx.clock.now()):
                raise InvalidInput("the places cannot be kept until a day that has passed")
            await education.reserve_places(
                tx.session, course.id, row.partner_id, row.clients, until=command.reserved_until
            )
            values |= {
                "status": EducationRequestStatus.PLANNED.value,
                "course_id": course.id,
                "reserved_places": row.clients,
                "reserved_until": command.reserved_until,
            }
            event: EducationRequestPlanned | EducationRequestDeclined = EducationRequestPlanned(
                **parties, course_id=course.id, reserved_places=row.clients, reserved_until=command.reserved_until
            )
        else:
            if not command.reason:
                raise InvalidInput("say why the request is declined")
            values |= {"status": EducationRequestStatus.DECLINED.value, "reason": command.reason}
            event = EducationRequestDeclined(**parties)
        await education.update_request(tx.session, row.id, **values, version=row.version + 1)
        await tx.stage(event, municipality=row.municipality, library=row.library)
        updated = await education.find_request(tx.session, row.id)
    assert updated is not None
    return request_view(updated)


async def release_reservation(work: UnitOfWork, actor: Actor, command: ReleaseReservation) -> EducationRequestView:
    """The referrer needs the kept places no more (only its own request's): the unused ones go to the waiting lists."""
    partner_id = _partner(actor)
    async with work.transaction() as tx:
        row = await education.find_request(tx.session, command.request_id, for_update=True)
        if row is None or row.partner_id != partner_id:
            raise NotFound(f"request {command.request_id} not found")
        if is_stale(command.expected_version, row.version):
            raise version_conflict(f"request {row.id}", command.expected_version, request_view(row))
        if row.status != EducationRequestStatus.PLANNED.value:
            raise Conflict(f"the request is {row.status}: no places are kept for it", state=row.status)
        if row.reservation_ended_at is not None:
            raise Conflict("the places kept for the request were given up already", state=row.reservation_end)
        await end_reservation(tx, row, ReservationEnd.RELEASED)
        updated = await education.find_request(tx.session, row.id)
    assert updated is not None
    return request_view(updated)


async def release_lapsed_reservations(work: UnitOfWork) -> int:
    """The periodic job: every reservation whose last day has passed ends, its unused places to the waiting lists.
    Safe on every replica at once: each is ended under its request's lock, once."""
    ended = 0
    async with work.read() as session:
        due = await education.lapsed_reservations(session, local_date(work.clock.now()))
    for request_id in due:
        async with work.transaction() as tx:
            row = await education.find_request(tx.session, request_id, for_update=True)
            if row is None or row.reservation_ended_at is not None:
                continue  # another replica ended it
            await end_reservation(tx, row, ReservationEnd.DATE_PASSED)
            ended += 1
    return ended


async def end_reservation(tx: Transaction, row: Any, reason: ReservationEnd) -> None:
    """Give up the course's kept places: each session still to come fills its free places from its waiting list in
    order, as though nothing had been kept; the request and an event say so (in the referrer's feed)."""
    now = tx.clock.now()
    course = await store.find_course(tx.session, row.course_id, for_update=True)
    assert course is not None
    released, promoted = 0, 0
    session_ids = await offer_store.scheduled_sessions_of(tx.session, course.id)
    to_come = []
    for session_id in session_ids:  # locked in a fixed order, as a cancellation does
        session_row = await store.find_session(tx.session, session_id, for_update=True)
        if session_row is not None and session_row.ends_at > now:
            taken = await education.places_taken_by_partner(tx.session, session_id, row.partner_id)
            released += max(0, course.reserved_places - taken)
            to_come.append(session_id)
    await offer_store.update_course(tx.session, course.id, reservation_ended_at=now, updated_at=now)
    course = await store.find_course(tx.session, course.id)
    assert course is not None
    for session_id in to_come:
        promoted += len(await enrolment.fill_places(tx, session_id, course))
    await education.update_request(
        tx.session,
        row.id,
        reservation_ended_at=now,
        reservation_end=reason.value,
        version=row.version + 1,
    )
    await tx.stage(
        EducationRequestReservationEnded(
            request_id=row.id,
            library=row.library,
            municipality=row.municipality,
            referring_partner_id=row.partner_id,
            course_id=course.id,
            reason=reason.value,
            places_released=released,
            promoted=promoted,
        ),
        municipality=row.municipality,
        library=row.library,
    )
