"""Language buddies (taalmaatjes): a volunteer matched to a participant the library knows from a referral it
received and took on; one buddy at a time per participant. Pure."""

from __future__ import annotations

from collections.abc import Collection
from uuid import UUID

from shared.contracts import EVENT_TYPE_PREFIX
from shared.contracts.referrals.api.referrals import ReferralStatus
from shared.contracts.referrals.events import (
    ReferralAccepted,
    ReferralAnonymised,
    ReferralCompleted,
    ReferralDeclined,
    ReferralEnrolled,
    ReferralExpired,
    ReferralIntakeHeld,
    ReferralIntakePlanned,
    ReferralNoShowRecorded,
    ReferralSubmitted,
    ReferralWithdrawn,
)
from shared.errors import Conflict, InvalidInput

S = ReferralStatus
# The referral's state as its newest event says. An event not listed (an overdue marker, a waiting list, a type
# added later) leaves the state as it was. Erased personal data closes the referral for a buddy too.
ANONYMISED = "anonymised"
STATUS_OF: dict[str, str] = {
    ReferralSubmitted.type: S.SUBMITTED,
    ReferralAccepted.type: S.ACCEPTED,
    ReferralDeclined.type: S.DECLINED,
    ReferralIntakePlanned.type: S.INTAKE_PLANNED,
    ReferralIntakeHeld.type: S.INTAKE_HELD,
    ReferralEnrolled.type: S.ENROLLED,
    ReferralCompleted.type: S.COMPLETED,
    ReferralWithdrawn.type: S.WITHDRAWN,
    ReferralNoShowRecorded.type: S.NO_SHOW,
    ReferralExpired.type: S.EXPIRED,
    ReferralAnonymised.type: ANONYMISED,
}
# A buddy is matched once the library took the participant on, until the referral is closed: not to a referral
# still waiting for an answer, nor to one declined, withdrawn, expired, completed or erased, nor after a no-show
# (until a new intake is planned).
MATCHABLE = frozenset({S.ACCEPTED, S.INTAKE_PLANNED, S.INTAKE_HELD, S.ENROLLED})


def status_of(qualified_type: str) -> str | None:
    """`nl.partnernet.referral.accepted.v1` → `accepted`; None for an event that says nothing of the state."""
    name = qualified_type.removeprefix(EVENT_TYPE_PREFIX).rsplit(".v", 1)[0]
    return STATUS_OF.get(name)


def check_target(referral_id: UUID | None, pseudonym: str | None, *, opening_id: UUID | None) -> None:
    if referral_id is None and pseudonym is None:
        raise InvalidInput("a buddy assignment names the participant: the referral's pseudonym or the referral")
    if opening_id is not None:
        raise InvalidInput("a buddy assignment names a participant, not a course")


def check_participant(
    referral_status: str | None, referral_pseudonym: str | None, *, named_pseudonym: str | None, library: str
) -> None:
    """The participant must be known to the library from a referral it took on (the referral's pseudonym)."""
    if referral_status is None or (named_pseudonym is not None and named_pseudonym != referral_pseudonym):
        who = named_pseudonym or "the referral's participant"
        raise InvalidInput(
            f"{who} is not a participant library {library} knows from a referral (a new referral may take a moment "
            f"to arrive here)",
        )
    if referral_status not in MATCHABLE:
        raise Conflict(
            f"the referral is {referral_status}: a buddy is matched once the library took the participant on and "
            f"until the referral is closed",
            state=referral_status,
        )


def check_one_buddy(volunteer_id: UUID, active_buddies: Collection[UUID]) -> None:
    """One buddy at a time per participant; the same buddy is not matched again while the match runs."""
    if volunteer_id in active_buddies:
        raise Conflict(f"volunteer {volunteer_id} is this participant's buddy already")
    if active_buddies:
        raise Conflict("this participant has a buddy already: end that match first", buddies=len(active_buddies))
