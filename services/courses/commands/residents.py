"""Use cases of residents' own sign-ups on the public calendar: sign up, confirm from the e-mail, accept a place
from the waiting list, cancel, erase; and the jobs that let an unanswered offer pass on and erase what is held
no longer. The rules are in services/courses/domain/residents.py; why the courses service holds residents is in
migration 009.

Residents appear in events only as their enrolment's made-up pseudonym: the enrolment events are the ones every
enrolment has. Their name and address are sealed; the keyed digest of the address limits sign-ups per address.
"""

from __future__ import annotations

import logging
from datetime import datetime
from uuid import UUID

import sqlalchemy as sa

from services.courses import store
from services.courses.commands import enrolment as enrolments
from services.courses.domain import enrolment as enrolment_rules
from services.courses.domain import residents as rules
from services.courses.domain.offer import CourseStep, SessionStep, apply_course_step, apply_session_step
from services.courses.domain.residents import CancelReason, Registration, RegistrationStatus
from services.courses.queries import enrolment as enrolment_queries
from services.courses.store import residents as resident_store
from services.courses.store.residents import ResidentContact, ResidentVault
from shared.contracts.courses.api.courses import CourseStatus, SessionStatus
from shared.contracts.courses.api.public import (
    OpenRegistration,
    RegisterResident,
    RegistrationReceived,
    RegistrationState,
    RegistrationStep,
    RegistrationView,
    TakeRegistrationStep,
)
from shared.contracts.courses.events import Audience, EnrolmentStatus
from shared.errors import NotFound, TooManyRequests
from shared.ids import new_id
from shared.tenancy import Actor
from shared.unit_of_work import Transaction, UnitOfWork

log = logging.getLogger(__name__)
RESIDENT = "resident"  # who enrolled them, on the enrolment: the resident themselves
JOB_BATCH = 100


async def register_resident(
    work: UnitOfWork, vault: ResidentVault, actor: Actor, command: RegisterResident
) -> RegistrationReceived:
    digest = vault.addresses.email(command.email)
    async with work.transaction() as tx:
        session_row, course = await _public_session(tx, command.municipality, command.session_id)
        now = tx.clock.now()
        enrolment_rules.check_session_open(session_row.ends_at, now)
        received = RegistrationReceived(
            session_id=session_row.id,
            course_title=course.title,
            starts_at=session_row.starts_at,
            confirm_within_hours=int(rules.CONFIRM_WITHIN.total_seconds() // 3600),
        )
        # The same answer for an address that signed up already: the first e-mail holds its link, and the
        # answer tells nobody whether this address is on the course.
        if await resident_store.open_registration_of(tx.session, session_row.id, digest) is not None:
            return received
        recent = await resident_store.sign_ups_since(tx.session, digest, now - rules.SIGN_UP_WINDOW)
        if recent >= rules.SIGN_UPS_PER_ADDRESS:
            raise TooManyRequests(
                "this e-mail address signed up for many courses just now; try again later",
                retry_after=int(rules.SIGN_UP_WINDOW.total_seconds()),
            )
        registration_id = new_id()
        contact = ResidentContact(name=command.name, email=command.email, phone=command.phone)
        await resident_store.add_registration(
            tx.session,
            id=registration_id,
            session_id=session_row.id,
            course_id=course.id,
            municipality=course.municipality,
            language=command.language,
            status=RegistrationStatus.UNCONFIRMED.value,
            sealed=vault.seal(contact),
            email_digest=digest,
            created_at=now,
            version=1,
        )
        await resident_store.add_mail(tx.session, registration_id, "confirm", now)
        return received


async def _public_session(tx: Transaction, municipality: str, session_id: UUID) -> tuple[sa.Row, sa.Row]:
    """The session, locked, if residents of the municipality may sign up for it; otherwise not found."""
    session_row = await store.find_session(tx.session, session_id, for_update=True)
    course = None if session_row is None else await store.find_course(tx.session, session_row.course_id)
    if (
        session_row is None
        or course is None
        or course.municipality != municipality
        or course.status == CourseStatus.DRAFT.value
        or Audience(course.audience) in rules.INTERNAL_AUDIENCES
    ):
        raise NotFound(f"session {session_id} is not on the calendar of {municipality}")
    apply_course_step(CourseStatus(course.status), CourseStep.ENROL)
    apply_session_step(SessionStatus(session_row.status), SessionStep.ENROL)
    return session_row, course


def _registration(row: sa.Row) -> Registration:
    return Registration(
        status=RegistrationStatus(row.status),
        created_at=row.created_at,
        enrolment_status=EnrolmentStatus(row.enrolment_status) if row.enrolment_status else None,
        offer_expires_at=row.offer_expires_at,
    )


async def registration_view(tx: Transaction, registration_id: UUID) -> RegistrationView:
    row = await resident_store.find_registration(tx.session, registration_id)
    assert row is not None
    session_row = await store.find_session(tx.session, row.session_id)
    course = await store.find_course(tx.session, row.course_id)
    assert session_row is not None and course is not None
    state = _registration(row).state(tx.clock.now())
    position = None
    if state is RegistrationState.WAITING_LIST:
        position = (await enrolment_queries.load_enrolment_view(tx.session, row.enrolment_id)).waiting_list_position
    cancel_reason = row.cancel_reason
    if state is RegistrationState.CANCELLED and cancel_reason is None:
        cancel_reason = CancelReason.SESSION_CANCELLED.value
    return RegistrationView(
        municipality=row.municipality,
        session_id=row.session_id,
        course_title=course.title,
        starts_at=session_row.starts_at,
        ends_at=session_row.ends_at,
        state=state,
        language=row.language,
        waiting_list_position=position,
        offer_expires_at=row.offer_expires_at if state is RegistrationState.OFFERED else None,
        confirm_by=row.created_at + rules.CONFIRM_WITHIN if state is RegistrationState.UNCONFIRMED else None,
        cancel_reason=cancel_reason,
        erased=row.erased_at is not None,
    )


async def registration_by_link(tx: Transaction, vault: ResidentVault, token: str, municipality: str) -> sa.Row:
    """The registration a resident's link names, if it is one of `municipality` (whose pages the link came
    through); else NotFound, before anything is read for it, logged or changed: another municipality's link is no
    link there."""
    found = await resident_store.find_registration(tx.session, vault.links.registration_of(token))
    if found is None or found.municipality != municipality:
        raise NotFound("no registration for this link")
    return found


async def open_registration(
    work: UnitOfWork, vault: ResidentVault, actor: Actor, query: OpenRegistration
) -> RegistrationView:
    async with work.transaction() as tx:
        found = await registration_by_link(tx, vault, query.token, query.municipality)
        return await registration_view(tx, found.id)


async def take_registration_step(
    work: UnitOfWork, vault: ResidentVault, actor: Actor, command: TakeRegistrationStep
) -> RegistrationView:
    async with work.transaction() as tx:
        found = await registration_by_link(tx, vault, command.token, command.municipality)
        registration_id = found.id
        # Lock order as everywhere: the session first, then its enrolments and registrations.
        session_row = await store.find_session(tx.session, found.session_id, for_update=True)
        row = await resident_store.find_registration(tx.session, registration_id, for_update=True)
        assert session_row is not None and row is not None
        now = tx.clock.now()
        if command.step is RegistrationStep.ERASE:
            await erase_registration(tx, row)
        else:
            status = rules.apply_step(_registration(row), command.step, now)
            if command.step is RegistrationStep.CONFIRM:
                await _confirm(tx, row, session_row)
            elif command.step is RegistrationStep.ACCEPT:
                await resident_store.update_registration(
                    tx.session, row.id, offer_expires_at=None, version=row.version + 1
                )
            else:
                await _cancel(tx, row, CancelReason.BY_RESIDENT)
            assert status in (RegistrationStatus.CONFIRMED, RegistrationStatus.CANCELLED)
        return await registration_view(tx, registration_id)


async def _confirm(tx: Transaction, row: sa.Row, session_row: sa.Row) -> None:
    course = await store.find_course(tx.session, row.course_id)
    assert course is not None
    now = tx.clock.now()
    apply_course_step(CourseStatus(course.status), CourseStep.ENROL)
    apply_session_step(SessionStatus(session_row.status), SessionStep.ENROL)
    enrolment_rules.check_session_open(session_row.ends_at, now)
    enrolment_id = new_id()
    view = await enrolments.place_participant(
        tx,
        course,
        session_row,
        enrolment_id=enrolment_id,
        pseudonym=enrolments.made_up_pseudonym(),
        referral_id=None,
        enrolled_by=RESIDENT,
    )
    await resident_store.update_registration(
        tx.session,
        row.id,
        status=RegistrationStatus.CONFIRMED.value,
        enrolment_id=enrolment_id,
        confirmed_at=now,
        version=row.version + 1,
    )
    kind = "place" if view.status is EnrolmentStatus.CONFIRMED else "waiting_list"
    await resident_store.add_mail(tx.session, row.id, kind, now)


async def _cancel(tx: Transaction, row: sa.Row, reason: CancelReason) -> None:
    """The registration closes; its place or spot goes, and a freed place moves the waiting list up."""
    now = tx.clock.now()
    if row.enrolment_id is not None and row.enrolment_status in (
        EnrolmentStatus.CONFIRMED.value,
        EnrolmentStatus.WAITLISTED.value,
    ):
        enrolment = await store.find_enrolment(tx.session, row.enrolment_id)
        assert enrolment is not None
        was = EnrolmentStatus(enrolment.status)
        cancelled = enrolment_rules.apply_step(was, enrolment_rules.EnrolmentStep.CANCEL)
        await enrolments.cancel_one(tx, enrolment.id, was, cancelled, reason=reason.value)
        course = await store.find_course(tx.session, row.course_id)
        assert course is not None
        await enrolments.stage_cancelled(tx, course, enrolment, was, reason.value)
        await _close(tx, row, reason, now)
        if was is EnrolmentStatus.CONFIRMED:
            await enrolments.fill_places(tx, row.session_id, course)
        return
    await _close(tx, row, reason, now)


async def _close(tx: Transaction, row: sa.Row, reason: CancelReason, now: datetime) -> None:
    await resident_store.update_registration(
        tx.session,
        row.id,
        status=RegistrationStatus.CANCELLED.value,
        cancel_reason=reason.value,
        offer_expires_at=None,
        closed_at=now,
        version=row.version + 1,
    )


async def erase_registration(tx: Transaction, row: sa.Row) -> None:
    """On the resident's word (through their link or the library's staff): whatever stands is cancelled, and the
    name and address are gone at once. `row` is locked, after its session."""
    if row.status in (RegistrationStatus.UNCONFIRMED.value, RegistrationStatus.CONFIRMED.value):
        await _cancel(tx, row, CancelReason.BY_RESIDENT)
    now = tx.clock.now()
    await resident_store.update_registration(tx.session, row.id, sealed=None, email_digest=None, erased_at=now)
    await resident_store.forget_mail(tx.session, row.id)


# --- jobs --------------------------------------------------------------------------------------------


async def pass_on_lapsed_offers(work: UnitOfWork) -> int:
    """An offered place not accepted in time goes to the next on the waiting list (who may be a resident too,
    with an offer of their own). One transaction per registration, each under its session's lock."""
    async with work.read() as session:
        due = await resident_store.lapsed_offers(session, work.clock.now(), JOB_BATCH)
    passed = 0
    for registration_id, session_id in due:
        async with work.transaction() as tx:
            await store.find_session(tx.session, session_id, for_update=True)
            row = await resident_store.find_registration(tx.session, registration_id, for_update=True)
            assert row is not None
            if row.status != RegistrationStatus.CONFIRMED.value or not rules.offer_lapsed(
                row.offer_expires_at, tx.clock.now()
            ):
                continue  # accepted or cancelled meanwhile
            await _cancel(tx, row, CancelReason.OFFER_LAPSED)
            if row.enrolment_status == EnrolmentStatus.CONFIRMED.value:  # not cancelled by the course meanwhile
                await resident_store.add_mail(tx.session, row.id, "lapsed", tx.clock.now())
                passed += 1
    if passed:
        log.info("%d offered places not accepted in time passed on", passed)
    return passed


async def erase_after_retention(work: UnitOfWork) -> int:
    """Unconfirmed sign-ups lapse after a day; the rest are kept `RETAINED_FOR` after they close or their session
    ends. Erased, the registration keeps only what the course's figures need (its status, its dates)."""
    async with work.transaction() as tx:
        now = tx.clock.now()
        expired = await resident_store.expire_unconfirmed(tx.session, now - rules.CONFIRM_WITHIN, now)
        erased = await resident_store.erase_retained(tx.session, now - rules.RETAINED_FOR, now)
    if expired or erased:
        log.info("residents' registrations: %d unconfirmed lapsed, %d erased after retention", expired, erased)
    return expired + erased
