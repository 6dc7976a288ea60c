"""Enrolment: a place or the waiting list, moving up when a place frees, cancellation, attendance. Pure."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeVar
from uuid import UUID

from services.courses.domain.offer import CourseScope, manages, may_read_course
from shared.contracts.courses.events import Audience, EnrolmentStatus
from shared.contracts.referrals.api.referrals import ReferralStatus
from shared.errors import Conflict, Forbidden, IllegalTransition, InvalidInput, NotFound
from shared.tenancy import Actor, Role

T = TypeVar("T")


class EnrolmentStep(enum.StrEnum):
    PROMOTE = "promote"  # from the waiting list to a place
    CANCEL = "cancel"
    RECORD_ATTENDANCE = "record_attendance"


E = EnrolmentStatus
TRANSITIONS: dict[tuple[EnrolmentStatus, EnrolmentStep], EnrolmentStatus] = {
    (E.WAITLISTED, EnrolmentStep.PROMOTE): E.CONFIRMED,
    (E.WAITLISTED, EnrolmentStep.CANCEL): E.CANCELLED,
    (E.CONFIRMED, EnrolmentStep.CANCEL): E.CANCELLED,
    (E.CONFIRMED, EnrolmentStep.RECORD_ATTENDANCE): E.CONFIRMED,
}


def apply_step(status: EnrolmentStatus, step: EnrolmentStep) -> EnrolmentStatus:
    try:
        return TRANSITIONS[(status, step)]
    except KeyError:
        raise IllegalTransition(
            f"an enrolment that is {status.value} cannot {step.value.replace('_', ' ')}",
            state=status.value,
            step=step.value,
        ) from None


def place_for_newcomer(capacity: int, confirmed: int) -> EnrolmentStatus:
    """A free place is taken at once; otherwise the waiting list, at its end."""
    return EnrolmentStatus.CONFIRMED if confirmed < capacity else EnrolmentStatus.WAITLISTED


def places_to_fill(capacity: int, confirmed: int, waitlisted: int) -> int:
    """How many from the top of the waiting list move up now (after a cancellation or more capacity)."""
    return max(0, min(capacity - confirmed, waitlisted))


def reservation_runs(
    reserved_for_partner_id: UUID | None, ended_at: datetime | None, reserved_until: date | None, today: date
) -> bool:
    """Places kept for a referrer's referrals (a course planned for its request for tailored education) are kept
    until the reservation ends: through its last day (`reserved_until`, set by the library when planning), or
    until the referrer says it needs no more (`ended_at`). A reservation without a last day runs until then."""
    if reserved_for_partner_id is None or ended_at is not None:
        return False
    return reserved_until is None or today <= reserved_until


def choose_promotions(free: int, kept: int, waiting: Sequence[tuple[T, bool]]) -> list[T]:
    """Who on the waiting list (in its order; each with whether they are the reserving referrer's referral) moves
    up into `free` places, of which `kept` are kept for that referrer's referrals: its referrals take any free place
    first come, others only the places beyond those kept. Everyone moves up in order once nothing is kept."""
    chosen: list[T] = []
    for candidate, reserved_for_them in waiting:
        if free <= 0:
            break
        if reserved_for_them:
            kept = max(0, kept - 1)
        elif free <= kept:
            continue
        chosen.append(candidate)
        free -= 1
    return chosen


def check_session_open(ends_at: datetime, now: datetime) -> None:
    if ends_at <= now:
        raise Conflict("the session has ended; it takes no more enrolments", ends_at=ends_at.isoformat())


# --- the participant ----------------------------------------------------------------------------


@dataclass(frozen=True)
class KnownReferral:
    id: UUID
    municipality: str
    participant_pseudonym: str
    library: str = ""
    referring_partner_id: UUID | None = None
    receiving_partner_id: UUID | None = None
    status: ReferralStatus | None = None  # None: kept before statuses were (the referrals service decides)

    def has_party(self, actor: Actor) -> bool:
        """Its library's staff and its partners enrol it; nobody else may move it on (or learn it exists)."""
        if actor.role is Role.OPERATOR:
            return True
        if actor.role is Role.STAFF:
            return actor.library == self.library
        if actor.role is Role.PARTNER:
            parties = {str(p) for p in (self.referring_partner_id, self.receiving_partner_id) if p is not None}
            return actor.partner in parties
        return False


# A referral takes an enrolment once it is accepted and until it closes: before or after the intake, and a
# second course beside the first. The referrals service records each on the referral and tells the referrer.
ENROLS: frozenset[ReferralStatus] = frozenset(
    {ReferralStatus.ACCEPTED, ReferralStatus.INTAKE_PLANNED, ReferralStatus.INTAKE_HELD, ReferralStatus.ENROLLED}
)


def check_referral_enrols(referral: KnownReferral) -> None:
    if referral.status is None or referral.status in ENROLS:
        return
    if referral.status is ReferralStatus.SUBMITTED:
        why = "the library or partner it was sent to accepts it first"
    else:
        why = "it is closed; refer the participant again, or enrol them without the referral"
    raise Conflict(
        f"referral {referral.id} is {referral.status.value}: {why}",
        referral_id=str(referral.id),
        referral_status=referral.status.value,
    )


def participant_for(
    actor: Actor,
    *,
    referral_id: UUID | None,
    referral: KnownReferral | None,
    given_pseudonym: str | None,
    municipality: str,
    made_up: str,
) -> str:
    """Whom an enrolment is for: the referral's participant, the given pseudonym, or a new one.

    A referral must be known in the course's municipality, the caller a party to it and, where a pseudonym is
    given too, be about that participant: otherwise the enrolment event would move someone else's referral on.
    A referral the caller is no party to is answered like an unknown one, so the answer says nothing about it.
    """
    if referral_id is not None:
        if referral is None or referral.municipality != municipality or not referral.has_party(actor):
            raise InvalidInput(
                f"referral {referral_id} is not known in municipality {municipality} "
                "(a referral just submitted may take a moment to arrive)"
            )
        if given_pseudonym is not None and given_pseudonym != referral.participant_pseudonym:
            raise InvalidInput(f"referral {referral_id} is about another participant than {given_pseudonym}")
        check_referral_enrols(referral)
        return referral.participant_pseudonym
    return given_pseudonym or made_up


def check_attendee_code(course: CourseScope, given_pseudonym: str | None, issued_before: bool) -> None:
    """A course for one partner's staff holds no one's identity: each attendee gets a code the platform makes up,
    and the partner keeps who it stands for in its own staff records (it employs them; the library only needs
    places and attendance). A typed code could be a name, so only one made up for an earlier enrolment in a
    course for the same partner's staff is taken, to enrol the same employee again."""
    if course.audience is Audience.PARTNER_STAFF and given_pseudonym is not None and not issued_before:
        raise InvalidInput(
            "a course for a partner's staff takes no typed codes: leave the code out and one is made up (keep it "
            "with your own staff records), or give the code made up for the same person's earlier enrolment"
        )


# --- who may do what ------------------------------------------------------------------------------


def check_may_enrol(actor: Actor, course: CourseScope, actor_municipality: str | None) -> None:
    """Anyone of the municipality who refers warmly enrols into its offer; coordinators only read.

    A course for one partner's staff takes enrolments from that partner and from those who run it.
    """
    actor.require(Role.STAFF, Role.PARTNER, Role.OPERATOR)
    if not may_read_course(actor, course, actor_municipality):
        raise NotFound(f"course {course.id} not found")
    if (
        course.audience is Audience.PARTNER_STAFF
        and not manages(actor, course)
        and actor.partner != str(course.audience_partner_id)
    ):
        raise Forbidden(f"course {course.id} is for the staff of partner {course.audience_partner_id} only")


@dataclass(frozen=True)
class EnrolmentScope:
    course: CourseScope
    enrolled_by_library: str | None
    enrolled_by_partner_id: UUID | None


def enrolled_it(actor: Actor, enrolment: EnrolmentScope) -> bool:
    if actor.role is Role.STAFF:
        return enrolment.enrolled_by_library is not None and actor.library == enrolment.enrolled_by_library
    if actor.role is Role.PARTNER:
        return enrolment.enrolled_by_partner_id is not None and actor.partner == str(enrolment.enrolled_by_partner_id)
    return False


def may_read_enrolment(actor: Actor, enrolment: EnrolmentScope, actor_municipality: str | None) -> bool:
    """Those who run the course, whoever enrolled the participant, and the municipality's coordinators."""
    if manages(actor, enrolment.course) or enrolled_it(actor, enrolment):
        return True
    return actor.role is Role.COORDINATOR and actor_municipality == enrolment.course.municipality


def check_may_cancel(actor: Actor, enrolment: EnrolmentScope, actor_municipality: str | None) -> None:
    if manages(actor, enrolment.course) or enrolled_it(actor, enrolment):
        return
    if not may_read_enrolment(actor, enrolment, actor_municipality):
        raise NotFound("enrolment not found")
    raise Forbidden("only those who run the course or who enrolled the participant may cancel an enrolment")


def check_may_record_attendance(actor: Actor, enrolment: EnrolmentScope, actor_municipality: str | None) -> None:
    if manages(actor, enrolment.course):
        return
    if not may_read_enrolment(actor, enrolment, actor_municipality):
        raise NotFound("enrolment not found")
    raise Forbidden("only those who run the course record attendance")


def check_meeting_number(meeting: int, meetings: int) -> None:
    if meeting > meetings:
        raise InvalidInput(f"the session has {meetings} meetings; there is no meeting {meeting}")
