"""Residents who sign up on the public calendar: which courses they see, their registration's lifecycle, the link
that is their key, and how long their data stays. Pure: no I/O, no clock reads.

A registration takes nothing until the resident confirms from the e-mail (so an address that is not theirs
takes no place); then it is an enrolment like any other (a place or the waiting list, under the session's lock),
for a pseudonym the platform makes up. A place that comes free from the waiting list is held for the resident
for `OFFER_HELD_FOR`: they accept from their link, or it passes to the next in line.
"""

from __future__ import annotations

import base64
import enum
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from services.courses.domain.offer import CourseScope, may_read_course
from shared.contracts.courses.api.public import RegistrationState, RegistrationStep
from shared.contracts.courses.api.residents import ResidentDetail
from shared.contracts.courses.events import Audience, EnrolmentStatus
from shared.errors import Conflict, Forbidden, NotFound
from shared.personal_data import KeyedDigests
from shared.tenancy import Actor, Role

CONFIRM_WITHIN = timedelta(hours=24)  # an unconfirmed sign-up lapses (and its data goes) after this
OFFER_HELD_FOR = timedelta(hours=48)  # a place from the waiting list waits this long for the resident's yes
# The resident's name and address stay this long after the session ended or the registration closed: long
# enough for the library to answer a question about it, no longer. Then they are erased.
RETAINED_FOR = timedelta(days=30)
SIGN_UPS_PER_ADDRESS = 5  # sign-ups one e-mail address makes within SIGN_UP_WINDOW (any session)
SIGN_UP_WINDOW = timedelta(hours=1)


def kept_until(closed_at: datetime | None, session_ends_at: datetime) -> datetime:
    """When name and address go at the latest: `RETAINED_FOR` after the registration closed or its session ended,
    whichever came first (what the retention job erases by; the export tells the resident)."""
    ended = session_ends_at if closed_at is None else min(closed_at, session_ends_at)
    return ended + RETAINED_FOR


# Training for a partner's or the library's own staff, and for volunteers, is internal: never on the calendar.
INTERNAL_AUDIENCES = frozenset({Audience.PARTNER_STAFF, Audience.LIBRARY_STAFF, Audience.VOLUNTEERS})
PUBLIC_AUDIENCES = tuple(a for a in Audience if a not in INTERNAL_AUDIENCES)


class RegistrationStatus(enum.StrEnum):
    UNCONFIRMED = "unconfirmed"
    CONFIRMED = "confirmed"  # holds an enrolment: its status says place or waiting list
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class CancelReason(enum.StrEnum):
    BY_RESIDENT = "by_resident"
    OFFER_LAPSED = "offer_lapsed"
    SESSION_CANCELLED = "session_cancelled"  # the enrolment was cancelled by those who run the course


R = RegistrationStatus
TRANSITIONS: dict[tuple[RegistrationStatus, RegistrationStep], RegistrationStatus] = {
    (R.UNCONFIRMED, RegistrationStep.CONFIRM): R.CONFIRMED,
    (R.UNCONFIRMED, RegistrationStep.CANCEL): R.CANCELLED,
    (R.CONFIRMED, RegistrationStep.ACCEPT): R.CONFIRMED,
    (R.CONFIRMED, RegistrationStep.CANCEL): R.CANCELLED,
}


@dataclass(frozen=True)
class Registration:
    status: RegistrationStatus
    created_at: datetime
    enrolment_status: EnrolmentStatus | None
    offer_expires_at: datetime | None

    def state(self, now: datetime) -> RegistrationState:
        if self.status is R.UNCONFIRMED:
            return (
                RegistrationState.EXPIRED if now >= self.created_at + CONFIRM_WITHIN else RegistrationState.UNCONFIRMED
            )
        if self.status is R.EXPIRED:
            return RegistrationState.EXPIRED
        if self.status is R.CANCELLED or self.enrolment_status is EnrolmentStatus.CANCELLED:
            return RegistrationState.CANCELLED
        if self.enrolment_status is EnrolmentStatus.WAITLISTED:
            return RegistrationState.WAITING_LIST
        return RegistrationState.OFFERED if self.offer_expires_at is not None else RegistrationState.PLACE


def apply_step(registration: Registration, step: RegistrationStep, now: datetime) -> RegistrationStatus:
    """The registration's next status; a step that does not fit where it stands is a 409 naming both."""
    state = registration.state(now)
    if step is RegistrationStep.ACCEPT and state is not RegistrationState.OFFERED:
        raise Conflict(f"there is no place on offer to accept: the registration is {state.value}", state=state.value)
    if state in (RegistrationState.EXPIRED, RegistrationState.CANCELLED):
        raise Conflict(f"the registration is {state.value}", state=state.value)
    try:
        return TRANSITIONS[(registration.status, step)]
    except KeyError:
        raise Conflict(f"a registration that is {state.value} cannot {step.value}", state=state.value) from None


def offer_lapsed(offer_expires_at: datetime | None, now: datetime) -> bool:
    return offer_expires_at is not None and now >= offer_expires_at


class RegistrationLinks:
    """The link in a resident's e-mail is their key: the registration's id and a keyed digest of it, so it cannot
    be guessed, needs nothing stored to check, and can be written into each message again when it is sent."""

    def __init__(self, key: str) -> None:
        self._digests = KeyedDigests(key, "resident registration links")

    def _mac(self, registration_id: UUID) -> str:
        digest = self._digests.digest("registration", registration_id.hex)[:18]
        return base64.urlsafe_b64encode(digest).decode()

    def token(self, registration_id: UUID) -> str:
        return registration_id.hex + self._mac(registration_id)

    def registration_of(self, token: str) -> UUID:
        """The registration a token names; any other token is not found, like a registration that is not there."""
        try:
            registration_id = UUID(hex=token[:32])
        except ValueError:
            raise NotFound("no registration for this link") from None
        if not hmac.compare_digest(token[32:], self._mac(registration_id)):
            raise NotFound("no registration for this link")
        return registration_id


# --- who sees a resident's name and address ----------------------------------------------------------------


def resident_detail(actor: Actor, course: CourseScope) -> ResidentDetail | None:
    """The library that runs (or hosts) the course reaches its residents: name, e-mail, phone. The partner that
    gives it sees who is in the room (names, for its register), no way to reach them: the library and the
    platform's messages do that. Nobody else: coordinators, other libraries, other partners and operators see
    pseudonyms only (an actor without a partner, such as the public calendar's, is no partner)."""
    if actor.role is Role.STAFF and course.library is not None and actor.library == course.library:
        return ResidentDetail.CONTACT
    if (
        actor.role is Role.PARTNER
        and actor.partner is not None
        and course.offered_by_partner_id is not None
        and actor.partner == str(course.offered_by_partner_id)
    ):
        return ResidentDetail.NAME
    return None


def check_resident_detail(actor: Actor, course: CourseScope, actor_municipality: str | None) -> ResidentDetail:
    """How much the actor sees of the course's residents; a course out of sight is not found, one in sight that
    they do not run is forbidden."""
    detail = resident_detail(actor, course)
    if detail is not None:
        return detail
    if may_read_course(actor, course, actor_municipality):
        raise Forbidden(f"only those who run course {course.id} see who signed up for it")
    raise NotFound(f"course {course.id} not found")


def check_may_erase(actor: Actor, course: CourseScope, actor_municipality: str | None) -> None:
    """Erasure on a resident's request goes through the library's staff (the partner sees names, not requests)."""
    if check_resident_detail(actor, course, actor_municipality) is not ResidentDetail.CONTACT:
        raise Forbidden(f"only the staff of the library that runs course {course.id} erase a resident's data")
