"""Referral rules: who may refer to whom and who may take which step, the lifecycle as a table of legal
transitions, and the deadlines of the library's policy (consent and what each party is shown: domain/consent.py).
Pure: no I/O, no clock reads."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from shared.contracts.referrals.api.referrals import Arrival, ReferralDirection, ReferralStatus
from shared.contracts.referrals.events import DeclineReason
from shared.errors import Conflict, Forbidden, IllegalTransition, InvalidInput, NotFound
from shared.tenancy import Actor, Role, library_meant


class Step(enum.StrEnum):
    ACCEPT = "accept"
    DECLINE = "decline"
    PLAN_INTAKE = "plan_intake"
    RECORD_INTAKE_HELD = "record_intake_held"
    ENROL = "enrol"
    COMPLETE = "complete"
    WITHDRAW = "withdraw"
    MARK_NO_SHOW = "mark_no_show"
    EXPIRE = "expire"


S = ReferralStatus
TRANSITIONS: dict[tuple[ReferralStatus, Step], ReferralStatus] = {
    (S.SUBMITTED, Step.ACCEPT): S.ACCEPTED,
    (S.SUBMITTED, Step.DECLINE): S.DECLINED,
    (S.SUBMITTED, Step.WITHDRAW): S.WITHDRAWN,
    (S.SUBMITTED, Step.EXPIRE): S.EXPIRED,
    (S.ACCEPTED, Step.PLAN_INTAKE): S.INTAKE_PLANNED,
    # A library often enrols an accepted participant straight into a course whose first meeting is the intake.
    (S.ACCEPTED, Step.ENROL): S.ENROLLED,
    (S.ACCEPTED, Step.WITHDRAW): S.WITHDRAWN,
    (S.INTAKE_PLANNED, Step.PLAN_INTAKE): S.INTAKE_PLANNED,  # a new date replaces the old one
    (S.INTAKE_PLANNED, Step.RECORD_INTAKE_HELD): S.INTAKE_HELD,
    (S.INTAKE_PLANNED, Step.ENROL): S.ENROLLED,
    (S.INTAKE_PLANNED, Step.WITHDRAW): S.WITHDRAWN,
    (S.INTAKE_PLANNED, Step.MARK_NO_SHOW): S.NO_SHOW,
    # Outcomes only once the participant came: the intake took place, or a course began from the referral.
    (S.INTAKE_HELD, Step.ENROL): S.ENROLLED,
    (S.INTAKE_HELD, Step.COMPLETE): S.COMPLETED,
    (S.INTAKE_HELD, Step.WITHDRAW): S.WITHDRAWN,
    (S.ENROLLED, Step.ENROL): S.ENROLLED,  # a second course (language and digital skills) is recorded too
    (S.ENROLLED, Step.COMPLETE): S.COMPLETED,
    (S.ENROLLED, Step.WITHDRAW): S.WITHDRAWN,
    (S.ENROLLED, Step.MARK_NO_SHOW): S.NO_SHOW,
    # Someone who missed the intake gets another appointment rather than a new referral.
    (S.NO_SHOW, Step.PLAN_INTAKE): S.INTAKE_PLANNED,
}

# A referral in one of these is closed: the retention period for its personal data starts. A no-show is
# closed until an intake is planned again, which opens it (and stops the retention period).
CLOSED: frozenset[ReferralStatus] = frozenset({S.DECLINED, S.COMPLETED, S.WITHDRAWN, S.NO_SHOW, S.EXPIRED})


def apply_step(status: ReferralStatus, step: Step) -> ReferralStatus:
    try:
        return TRANSITIONS[(status, step)]
    except KeyError:
        raise IllegalTransition(
            f"a referral that is {status.value} cannot {step.value}", state=status.value, step=step.value
        ) from None


def check_decline(reason: DeclineReason, note: str | None) -> None:
    """The referrer reads the reason code only; `other` says nothing unless the note says what it was."""
    if reason is DeclineReason.OTHER and not (note or "").strip():
        raise InvalidInput("a decline for another reason needs a note that says which")


def check_may_reopen(anonymised_at: datetime | None) -> None:
    """A no-show is planned again only while the participant's personal data is still there to invite them."""
    if anonymised_at is not None:
        raise Conflict("the participant's personal data is erased: submit a new referral to invite them again")


def intake_held_at(intake_at: datetime | None, held_at: datetime | None, now: datetime) -> datetime:
    """When the intake took place (the planned time unless told otherwise): never later than now."""
    assert intake_at is not None, "an intake is planned in every status that records it held"
    at = held_at or intake_at
    if at > now:
        raise Conflict(
            f"the intake is planned for {intake_at.isoformat()}: record that it took place once it has",
            intake_at=intake_at.isoformat(),
        )
    return at


def check_intake_passed(step: Step, intake_at: datetime | None, held: bool, now: datetime) -> None:
    """Outcomes and no-shows are about an intake that has taken place: not before its time."""
    if intake_at is not None and not held and intake_at > now:
        raise Conflict(
            f"the intake is planned for {intake_at.isoformat()}: it has not taken place yet, so no "
            f"{step.value.replace('_', ' ')} before then",
            intake_at=intake_at.isoformat(),
        )


# --- the parties --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Parties:
    """Who referred and who receives. The library is always one of them: the referral's tenant."""

    library: str
    municipality: str
    referring_partner_id: UUID | None
    receiving_partner_id: UUID | None = None

    @property
    def direction(self) -> ReferralDirection:
        return ReferralDirection.TO_PARTNER if self.receiving_partner_id is not None else ReferralDirection.TO_LIBRARY

    @property
    def without_partner(self) -> bool:
        """A walk-in or self-referral: the library is both the side that logged it and the one that receives."""
        return self.referring_partner_id is None and self.receiving_partner_id is None

    @property
    def referring_library(self) -> str | None:
        return self.library if self.direction is ReferralDirection.TO_PARTNER else None


class Side(enum.StrEnum):
    RECEIVING = "receiving"
    REFERRING = "referring"


# Who takes which step over the API. ENROL comes only from the courses service's enrolment event,
# EXPIRE only from the clock: nobody takes them by hand.
STEP_SIDE: dict[Step, Side] = {
    Step.ACCEPT: Side.RECEIVING,
    Step.DECLINE: Side.RECEIVING,
    Step.PLAN_INTAKE: Side.RECEIVING,
    Step.RECORD_INTAKE_HELD: Side.RECEIVING,
    Step.COMPLETE: Side.RECEIVING,
    Step.MARK_NO_SHOW: Side.RECEIVING,
    Step.WITHDRAW: Side.REFERRING,
}


def sides_of(actor: Actor, parties: Parties) -> set[Side]:
    """The sides of a referral the actor stands on: staff for their library, a partner for itself."""
    sides: set[Side] = set()
    library_side = Side.REFERRING if parties.direction is ReferralDirection.TO_PARTNER else Side.RECEIVING
    if actor.role is Role.STAFF and actor.library == parties.library:
        sides.add(library_side)
        if parties.without_partner:
            sides.add(Side.REFERRING)
    if actor.role is Role.PARTNER and actor.partner is not None:
        if actor.partner == str(parties.referring_partner_id):
            sides.add(Side.REFERRING)
        if actor.partner == str(parties.receiving_partner_id):
            sides.add(Side.RECEIVING)
    return sides


def check_may_take_steps(actor: Actor) -> None:
    """Checked before the referral is looked up: only the parties themselves act on a referral."""
    if actor.role not in (Role.STAFF, Role.PARTNER):
        raise Forbidden(f"{actor.role.value} may not change referrals; the library and partners involved do")


def check_may_take_step(actor: Actor, parties: Parties, step: Step) -> None:
    side = STEP_SIDE.get(step)
    if side is None:
        raise Forbidden(f"nobody may {step.value} a referral by hand")
    if side not in sides_of(actor, parties):
        raise Forbidden(f"only the {side.value} side may {step.value} this referral")


# --- who may submit -----------------------------------------------------------------------------


class PartnerStatus(enum.StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    ENDED = "ended"


def check_may_submit(
    actor: Actor,
    *,
    library: str,
    library_municipality: str | None,
    referring_partner_id: UUID | None,
    partner_municipality: str | None,
    receiving_partner_id: UUID | None = None,
    partner_status: PartnerStatus = PartnerStatus.ACTIVE,
    partnered: bool = True,
    arrival: Arrival | None = None,
) -> None:
    """A partner refers on its own behalf; staff record referrals for their own library, and refer from it.

    The role is checked before anything is looked up, and a library or partner outside the caller's
    reach answers like a missing one, so trying referrals never tells what exists elsewhere.
    `partner_municipality` and `partner_status` are those of the partner on the other side; `partnered`, whether
    it has an active partnership with the library or the municipality's referral agreement: new referrals only
    within one (an ended partnership stops them).
    """
    if arrival is not None:
        check_may_log_arrival(actor, library, library_municipality, referring_partner_id, receiving_partner_id)
        return
    if (referring_partner_id is None) == (receiving_partner_id is None):
        raise InvalidInput(
            "name either the referring partner (a referral to the library) "
            "or the receiving partner (the library refers to a partner)"
        )
    to_library = referring_partner_id is not None
    if actor.role is Role.PARTNER and to_library:
        if actor.partner != str(referring_partner_id):
            raise Forbidden("a partner can only submit referrals on its own behalf")
    elif actor.role is Role.STAFF:
        if actor.library != library:
            raise Forbidden(f"staff may only submit referrals to and from their own library, not to {library}")
    elif actor.role is Role.PARTNER:
        raise Forbidden("only staff of a library refer a participant to a partner")
    elif actor.role is not Role.OPERATOR:
        raise Forbidden(f"{actor.role.value} may not submit referrals")
    reachable = library_municipality is not None and (
        actor.role is not Role.PARTNER or actor.municipality in (None, library_municipality)
    )
    if not reachable:
        raise NotFound(f"library {library} not found")
    partner_id = referring_partner_id if to_library else receiving_partner_id
    role = "referring" if to_library else "receiving"
    if partner_municipality is None or partner_municipality != library_municipality:
        raise InvalidInput(f"{role} partner {partner_id} is not known in the library's municipality")
    if partner_status is not PartnerStatus.ACTIVE:
        raise Conflict(
            f"{role} partner {partner_id} is {partner_status.value}: it takes part in no new referrals",
            partner_id=str(partner_id),
            partner_status=partner_status.value,
        )
    if not partnered:
        raise Conflict(
            f"{role} partner {partner_id} has no active partnership with library {library} and no "
            "municipality-wide referral agreement: no new referrals between them",
            partner_id=str(partner_id),
            library=library,
        )


def check_may_log_arrival(
    actor: Actor,
    library: str,
    library_municipality: str | None,
    referring_partner_id: UUID | None,
    receiving_partner_id: UUID | None,
) -> None:
    """A walk-in or self-referral: the library's own staff log it, naming no partner (none sees it or hears of it)."""
    if actor.role is not Role.STAFF:
        raise Forbidden("only the library's staff log a walk-in or self-referral")
    if actor.library != library:
        raise Forbidden(f"staff may only log walk-ins at their own library, not at {library}")
    if referring_partner_id is not None or receiving_partner_id is not None:
        raise InvalidInput("a walk-in or self-referral names no partner: the participant came without one")
    if library_municipality is None:
        raise NotFound(f"library {library} not found")


# --- who may read -------------------------------------------------------------------------------


def may_read(
    actor: Actor,
    *,
    library: str,
    municipality: str,
    referring_partner_id: UUID | None,
    receiving_partner_id: UUID | None = None,
) -> bool:
    if actor.role is Role.PARTNER:
        return actor.partner is not None and actor.partner in (str(referring_partner_id), str(receiving_partner_id))
    return actor.can_see_library(library, municipality)


def may_read_personal_data(
    actor: Actor, *, library: str, referring_partner_id: UUID | None, receiving_partner_id: UUID | None = None
) -> bool:
    """Only the library's staff and the partner involved (who meets the person) see who it is."""
    if actor.role is Role.STAFF:
        return actor.library == library
    if actor.role is Role.PARTNER and actor.partner is not None:
        return actor.partner in (str(referring_partner_id), str(receiving_partner_id))
    return False


def check_may_manage_personal_data(actor: Actor, library: str | None = None) -> None:
    """Export, erasure and the access log are for the library's staff (the controller of the data)."""
    if actor.role is not Role.STAFF:
        raise Forbidden("only staff of the library export, erase or audit a participant's personal data")
    if library is not None and library != actor.library:
        raise NotFound("referral not found")  # another library's referral: as if it did not exist


# --- the library's policy: response time, expiry, retention --------------------------------------


@dataclass(frozen=True)
class Policy:
    response_days: int
    expiry_days: int
    retention_days: int

    def __post_init__(self) -> None:
        if self.expiry_days <= self.response_days:
            raise InvalidInput("a referral can only expire after the response time has passed")

    def respond_by(self, submitted_at: datetime) -> datetime:
        return submitted_at + timedelta(days=self.response_days)

    def expires_at(self, submitted_at: datetime) -> datetime:
        return submitted_at + timedelta(days=self.expiry_days)

    def erase_after(self, closed_at: datetime) -> datetime:
        return closed_at + timedelta(days=self.retention_days)


# Two working weeks to answer, a month before an unanswered referral lapses, a year of records after closure.
# Migration 002 backfills older referrals with the same numbers.
DEFAULT_POLICY = Policy(response_days=10, expiry_days=30, retention_days=365)


def check_may_read_policy(actor: Actor, library: str | None) -> str:
    """The library whose policy is asked for; staff read their own, coordinators and operators name one."""
    return library_meant(actor, library, "a library's referral policy")


def check_may_set_policy(actor: Actor, library: str | None) -> str:
    if actor.role is Role.STAFF:
        return check_may_read_policy(actor, library)
    if actor.role is Role.OPERATOR:
        if library is None:
            raise InvalidInput("name the library")
        return library
    raise Forbidden(f"{actor.role.value} may not set a library's referral policy")


# --- municipality-wide referral agreements ------------------------------------------------------


def check_may_record_agreement(actor: Actor, partner_municipality: str | None) -> str:
    """The municipality's coordinator (or an operator) records and ends an agreement with a partner known in the
    municipality; the agreement is the partner's municipality's."""
    if actor.role is Role.OPERATOR:
        if partner_municipality is None:
            raise NotFound("partner not found")
        return partner_municipality
    if actor.role is not Role.COORDINATOR or actor.municipality is None:
        raise Forbidden("only the municipality's coordinator records a municipality-wide referral agreement")
    if partner_municipality != actor.municipality:
        raise NotFound("partner not found")  # another municipality's partner: as if it did not exist
    return actor.municipality


def check_may_read_agreements(actor: Actor, municipality: str | None) -> str:
    """Coordinators and staff read their municipality's agreements; operators name the municipality."""
    if actor.role is Role.OPERATOR:
        if municipality is None:
            raise InvalidInput("name the municipality")
        return municipality
    if actor.role in (Role.COORDINATOR, Role.STAFF) and actor.municipality is not None:
        if municipality not in (None, actor.municipality):
            raise NotFound(f"municipality {municipality} not found")
        return actor.municipality
    raise Forbidden(f"{actor.role.value} may not read the municipality's referral agreements")
