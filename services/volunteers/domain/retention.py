"""How long a library keeps the personal data of people who left, and who handles a person's rights. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.contracts.volunteers.api.volunteers import VolunteerStatus, VolunteerStep
from shared.contracts.volunteers.events import VolunteerKind
from shared.errors import Forbidden, NotFound
from shared.tenancy import Actor, Role, library_meant

V = VolunteerStatus


@dataclass(frozen=True)
class RetentionPolicy:
    applicant_days: int  # after an application ended without service (withdrawn, rejected)
    volunteer_days: int  # after someone who served left (inactive, ended, withdrawn later)


# Applicants: the Dutch data protection authority's guidance for application data is four weeks after the
# procedure ends. Former volunteers: two years, so a reference or a return can still be handled.
DEFAULT_POLICY = RetentionPolicy(applicant_days=28, volunteer_days=730)

# Where someone still in service goes when they ask to be erased: out first, with the step's own event.
STEPS_OUT: dict[tuple[VolunteerKind, VolunteerStatus], VolunteerStep] = {
    (VolunteerKind.VOLUNTEER, V.APPLIED): VolunteerStep.WITHDRAW,
    (VolunteerKind.VOLUNTEER, V.INTAKE): VolunteerStep.WITHDRAW,
    (VolunteerKind.VOLUNTEER, V.SCREENING): VolunteerStep.WITHDRAW,
    (VolunteerKind.VOLUNTEER, V.ACTIVE): VolunteerStep.DEACTIVATE,
    (VolunteerKind.INTERN, V.INTAKE): VolunteerStep.END,
    (VolunteerKind.INTERN, V.SCREENING): VolunteerStep.END,
    (VolunteerKind.INTERN, V.ACTIVE): VolunteerStep.END,
}
ERASURE_REASON = "erasure requested"


def erase_after(left_service_at: datetime | None, served: bool, policy: RetentionPolicy) -> datetime | None:
    """When the personal data of someone who left goes; None while they are in service."""
    if left_service_at is None:
        return None
    return left_service_at + timedelta(days=policy.volunteer_days if served else policy.applicant_days)


def check_may_handle_personal_data(actor: Actor) -> str:
    """Export and erasure are for the staff of the person's library (checked before anything is looked up):
    the library holds the data. A coordinator sees no names; a supplying partner keeps its own records."""
    if actor.role is not Role.STAFF or actor.library is None:
        raise Forbidden("only staff of the person's library export or erase their personal data")
    return actor.library


def check_is_theirs(actor: Actor, library: str, what: str) -> None:
    if actor.library != library:
        raise NotFound(f"{what} not found")


def check_may_read_policy(actor: Actor, library: str | None) -> str:
    """The library whose policy is meant: staff their own; coordinators and operators name one."""
    return library_meant(actor, library, "a library's retention policy")


def check_may_set_policy(actor: Actor, library: str | None) -> str:
    """Staff for their library, a coordinator for the libraries of their municipality (checked after the
    lookup, with `Actor.can_see_library`), operators for any."""
    return check_may_read_policy(actor, library)
