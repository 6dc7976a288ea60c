"""Assignment: open assignments from courses that need guidance, assigning volunteers and interns, hours."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import sqlalchemy as sa

from services.volunteers import store
from services.volunteers.domain import assignment, buddies, scope
from services.volunteers.domain.pipeline import apply_assignment_step
from services.volunteers.queries.assignments import assignment_view, opening_view
from services.volunteers.queries.recruitment import certificates_of
from services.volunteers.store import assignment as assignment_store
from services.volunteers.store import referrals
from shared.clock import local_date
from shared.contracts import Envelope
from shared.contracts.courses.events import CourseCancelled, CoursePublished, CourseUpdated
from shared.contracts.volunteers.api.assignments import (
    AssignmentStatus,
    AssignmentView,
    AssignVolunteer,
    EndAssignment,
    OpeningView,
    UpdateOpening,
)
from shared.contracts.volunteers.api.volunteers import VolunteerStatus
from shared.contracts.volunteers.events import (
    AssignmentEnded,
    AssignmentKind,
    BuddyAssigned,
    BuddyEnded,
    VolunteerAssigned,
    VolunteerKind,
)
from shared.errors import Conflict, InvalidInput, NotFound
from shared.ids import new_id
from shared.tenancy import Actor
from shared.unit_of_work import Transaction, UnitOfWork
from shared.versions import is_stale, version_conflict

# --- open assignments ---------------------------------------------------------------------------


async def open_assignments_for_course(tx: Transaction, envelope: Envelope, event: CoursePublished) -> None:
    """A course that needs volunteers as guides appears as an open assignment of its library."""
    await _follow_course(tx, envelope, event)


async def follow_course_update(tx: Transaction, envelope: Envelope, event: CourseUpdated) -> None:
    """A course's title or the number of guides it needs changed: the open assignment follows."""
    await _follow_course(tx, envelope, event)


async def _follow_course(tx: Transaction, envelope: Envelope, event: CoursePublished | CourseUpdated) -> None:
    """Open, or bring up to date, the course's open assignment; the library's own requirements stay.

    A partner's course held elsewhere (no library) has no library to recruit for, so it opens nothing;
    a cancelled course is not reopened by a late update.
    """
    if event.library is None:
        return
    existing = await assignment_store.lock_opening_of_course(tx.session, event.course_id)
    now = tx.clock.now()
    if existing is not None:
        await assignment_store.update_opening(
            tx.session,
            existing.id,
            title=event.title,
            skill_area=event.skill_area.value,
            volunteers_needed=max(event.volunteers_needed, 0),
            version=existing.version + 1,
            updated_at=now,
        )
        return
    if event.volunteers_needed <= 0:
        return
    await assignment_store.add_opening(
        tx.session,
        id=new_id(),
        course_id=event.course_id,
        library=event.library,
        municipality=event.municipality,
        title=event.title,
        skill_area=event.skill_area.value,
        volunteers_needed=event.volunteers_needed,
        qualifications_needed=[],
        certificate_of_conduct_required=False,
        version=1,
        opened_at=envelope.time,
        updated_at=now,
    )


async def close_cancelled_course(tx: Transaction, envelope: Envelope, event: CourseCancelled) -> None:
    """A cancelled course needs no guides: its open assignment closes and its assignments end."""
    opening = await assignment_store.lock_opening_of_course(tx.session, event.course_id)
    if opening is None or opening.cancelled_at is not None:
        return
    now = tx.clock.now()
    await assignment_store.update_opening(
        tx.session, opening.id, cancelled_at=now, version=opening.version + 1, updated_at=now
    )
    for row in await assignment_store.active_assignments(tx.session, opening_id=opening.id):
        volunteer = await store.find(tx.session, store.volunteers, row.volunteer_id)
        assert volunteer is not None
        await _end(tx, row, volunteer)


async def update_opening(work: UnitOfWork, actor: Actor, command: UpdateOpening) -> OpeningView:
    """What the library asks of the guides of this course: qualifications, a certificate of conduct."""
    scope.check_may_manage(actor)
    async with work.transaction() as tx:
        row = await store.find(tx.session, store.openings, command.opening_id, for_update=True)
        if row is None:
            raise NotFound(f"open assignment {command.opening_id} not found")
        scope.check_may_act(actor, row.library, row.municipality, f"open assignment {command.opening_id}")
        assigned = await assignment_store.count_active_assignments(tx.session, row.id)
        if is_stale(command.expected_version, row.version):
            raise version_conflict(f"open assignment {row.id}", command.expected_version, opening_view(row, assigned))
        changes: dict[str, object] = {}
        if command.qualifications_needed is not None:
            changes["qualifications_needed"] = sorted(set(command.qualifications_needed))
        if command.certificate_of_conduct_required is not None:
            changes["certificate_of_conduct_required"] = command.certificate_of_conduct_required
        await assignment_store.update_opening(
            tx.session, row.id, **changes, version=row.version + 1, updated_at=tx.clock.now()
        )
        updated = await store.find(tx.session, store.openings, row.id)
    assert updated is not None
    return opening_view(updated, assigned)


# --- assignments --------------------------------------------------------------------------------


async def candidate(tx: Transaction, volunteer: sa.Row) -> assignment.Candidate:
    internship = await store.find_internship(tx.session, volunteer.id)
    return assignment.Candidate(
        kind=VolunteerKind(volunteer.kind),
        status=VolunteerStatus(volunteer.status),
        certificates=certificates_of(await store.find_certificates(tx.session, volunteer.id)),
        qualifications={q.code: q.valid_until for q in await store.find_qualifications(tx.session, volunteer.id)},
        internship=(internship.starts_on, internship.ends_on) if internship is not None else None,
    )


async def assign_volunteer(work: UnitOfWork, actor: Actor, command: AssignVolunteer) -> AssignmentView:
    """Only someone active, screened where required and qualified; a refusal names what is missing."""
    scope.check_may_manage(actor)
    assignment.check_target(
        command.kind,
        opening_id=command.opening_id,
        participant_pseudonym=command.participant_pseudonym,
        referral_id=command.referral_id,
    )
    assignment.check_period(command.starts_on, command.ends_on)
    assignment_id = new_id()
    async with work.transaction() as tx:
        # Locked, so a step out of service cannot slip in between the check and the assignment.
        volunteer = await store.find(tx.session, store.volunteers, command.volunteer_id, for_update=True)
        if volunteer is None:
            raise NotFound(f"volunteer {command.volunteer_id} not found")
        scope.check_may_act(actor, volunteer.library, volunteer.municipality, f"volunteer {command.volunteer_id}")
        opening = None
        if command.opening_id is not None:
            # Locked, so two assignments at once cannot both take the last place.
            opening = await store.find(tx.session, store.openings, command.opening_id, for_update=True)
            if opening is None or not scope.may_see(actor, opening.library, opening.municipality):
                raise NotFound(f"open assignment {command.opening_id} not found")
            if opening.library != volunteer.library:
                raise InvalidInput("the course is not at the volunteer's library")
            if opening.cancelled_at is not None:
                raise Conflict(f"the course of open assignment {opening.id} was cancelled")
        referral = None
        if command.kind is AssignmentKind.BUDDY:
            referral = await _participant(tx, volunteer, command)
        role_qualifications: list[str] = []
        if volunteer.vacancy_id is not None:
            vacancy = await store.find(tx.session, store.vacancies, volunteer.vacancy_id)
            assert vacancy is not None
            role_qualifications = list(vacancy.qualifications_needed)
        needed = assignment.requirements(
            command.kind,
            role_qualifications=role_qualifications,
            role_certificate=volunteer.certificate_of_conduct_required,
            opening_qualifications=opening.qualifications_needed if opening is not None else (),
            opening_certificate=opening.certificate_of_conduct_required if opening is not None else False,
            extra_qualifications=command.qualifications_needed,
        )
        period = assignment.period_of(command.starts_on, command.ends_on, local_date(tx.clock.now()))
        assignment.check_assignable(volunteer.id, await candidate(tx, volunteer), needed, period)
        if opening is not None:
            active = await assignment_store.active_assignments(
                tx.session, opening_id=opening.id, volunteer_id=volunteer.id
            )
            if active:
                raise Conflict(
                    f"volunteer {volunteer.id} is assigned to this course already", assignment_id=str(active[0].id)
                )
            assignment.check_places(
                opening.volunteers_needed, await assignment_store.count_active_assignments(tx.session, opening.id)
            )
        now = tx.clock.now()
        await assignment_store.add_assignment(
            tx.session,
            id=assignment_id,
            volunteer_id=volunteer.id,
            library=volunteer.library,
            municipality=volunteer.municipality,
            kind=command.kind.value,
            status=AssignmentStatus.ACTIVE.value,
            opening_id=command.opening_id,
            course_id=opening.course_id if opening is not None else None,
            course_session_id=command.course_session_id,
            participant_pseudonym=referral.participant_pseudonym if referral is not None else None,
            referral_id=referral.id if referral is not None else None,
            starts_on=command.starts_on,
            ends_on=command.ends_on,
            version=1,
            assigned_at=now,
            assigned_by=actor.subject,
        )
        await tx.stage(
            VolunteerAssigned(
                volunteer_id=volunteer.id,
                library=volunteer.library,
                municipality=volunteer.municipality,
                kind=VolunteerKind(volunteer.kind),
                via_partner_id=volunteer.via_partner_id,
                assignment_id=assignment_id,
                assignment_kind=command.kind,
                course_id=opening.course_id if opening is not None else None,
                course_session_id=command.course_session_id,
                participant_pseudonym=referral.participant_pseudonym if referral is not None else None,
                referral_id=referral.id if referral is not None else None,
            ),
            municipality=volunteer.municipality,
            library=volunteer.library,
        )
        if referral is not None:
            await tx.stage(
                BuddyAssigned(
                    **_buddy_parties(referral, assignment_id), starts_on=period.first_day, ends_on=period.last_day
                ),
                municipality=referral.municipality,
                library=referral.library,
            )
        row = await store.find(tx.session, store.assignments, assignment_id)
    assert row is not None
    return assignment_view(row, 0)


async def _participant(tx: Transaction, volunteer: sa.Row, command: AssignVolunteer) -> sa.Row:
    """The referral a buddy's participant is known by (locked: one match per participant at a time), checked."""
    found = await referrals.find_for_buddy(
        tx.session, volunteer.library, referral_id=command.referral_id, pseudonym=command.participant_pseudonym
    )
    buddies.check_participant(
        found.status if found is not None else None,
        found.participant_pseudonym if found is not None else None,
        named_pseudonym=command.participant_pseudonym,
        library=volunteer.library,
    )
    assert found is not None
    buddies.check_one_buddy(volunteer.id, await referrals.active_buddies(tx.session, found.id))
    return found


def _buddy_parties(referral: sa.Row, assignment_id: UUID) -> dict[str, Any]:
    return {
        "referral_id": referral.id,
        "participant_pseudonym": referral.participant_pseudonym,
        "referring_partner_id": referral.referring_partner_id,
        "receiving_partner_id": referral.receiving_partner_id,
        "library": referral.library,
        "municipality": referral.municipality,
        "assignment_id": assignment_id,
    }


async def end_assignment(work: UnitOfWork, actor: Actor, command: EndAssignment) -> AssignmentView:
    scope.check_may_manage(actor)
    async with work.transaction() as tx:
        row = await store.find(tx.session, store.assignments, command.assignment_id, for_update=True)
        if row is None:
            raise NotFound(f"assignment {command.assignment_id} not found")
        scope.check_may_act(actor, row.library, row.municipality, f"assignment {command.assignment_id}")
        minutes = await assignment_store.minutes_logged(tx.session, row.id)
        if is_stale(command.expected_version, row.version):
            raise version_conflict(f"assignment {row.id}", command.expected_version, assignment_view(row, minutes))
        apply_assignment_step(AssignmentStatus(row.status), "end")
        volunteer = await store.find(tx.session, store.volunteers, row.volunteer_id)
        assert volunteer is not None
        await _end(tx, row, volunteer)
        updated = await store.find(tx.session, store.assignments, row.id)
    assert updated is not None
    return assignment_view(updated, minutes)


async def end_active_assignments(tx: Transaction, volunteer: sa.Row) -> None:
    """Someone who leaves service (inactive, withdrawn, an intern's period over) guides nothing any more."""
    for row in await assignment_store.active_assignments(tx.session, volunteer_id=volunteer.id):
        await _end(tx, row, volunteer)


async def _end(tx: Transaction, row: sa.Row, volunteer: sa.Row) -> None:
    """End one assignment; the referrer of a buddy's participant is told too."""
    now = tx.clock.now()
    await assignment_store.update_assignment(
        tx.session, row.id, status=AssignmentStatus.ENDED.value, ended_at=now, version=row.version + 1
    )
    await tx.stage(
        AssignmentEnded(
            volunteer_id=volunteer.id,
            library=row.library,
            municipality=row.municipality,
            kind=VolunteerKind(volunteer.kind),
            via_partner_id=volunteer.via_partner_id,
            assignment_id=row.id,
            course_id=row.course_id,
        ),
        municipality=row.municipality,
        library=row.library,
    )
    if row.referral_id is not None:
        referral = await store.find(tx.session, referrals.known_referrals, row.referral_id)
        assert referral is not None
        await tx.stage(
            BuddyEnded(**_buddy_parties(referral, row.id), ended_on=local_date(now)),
            municipality=referral.municipality,
            library=referral.library,
        )
