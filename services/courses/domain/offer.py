"""Courses and sessions: who offers and manages them, who sees them, and their lifecycles. Pure: no I/O."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from shared.contracts.courses.api.courses import CourseDetails, CourseStatus, Location, Meeting, SessionStatus
from shared.contracts.courses.events import Audience, LocationKind
from shared.errors import Forbidden, IllegalTransition, InvalidInput, NotFound
from shared.tenancy import Actor, Role


@dataclass(frozen=True)
class CourseScope:
    """What the rules need to know of a course to decide who may see and change it."""

    id: UUID
    municipality: str
    library: str | None  # offering or hosting library
    offered_by_partner_id: UUID | None
    status: CourseStatus
    audience: Audience = Audience.GENERAL_PUBLIC
    audience_partner_id: UUID | None = None


# --- lifecycles ------------------------------------------------------------------------------------


class CourseStep(enum.StrEnum):
    UPDATE = "update"
    PUBLISH = "publish"
    CANCEL = "cancel"
    SCHEDULE_SESSION = "schedule_session"
    ENROL = "enrol"


C = CourseStatus
COURSE_TRANSITIONS: dict[tuple[CourseStatus, CourseStep], CourseStatus] = {
    (C.DRAFT, CourseStep.UPDATE): C.DRAFT,
    (C.DRAFT, CourseStep.PUBLISH): C.PUBLISHED,
    (C.DRAFT, CourseStep.CANCEL): C.CANCELLED,
    (C.DRAFT, CourseStep.SCHEDULE_SESSION): C.DRAFT,
    (C.PUBLISHED, CourseStep.UPDATE): C.PUBLISHED,
    (C.PUBLISHED, CourseStep.CANCEL): C.CANCELLED,
    (C.PUBLISHED, CourseStep.SCHEDULE_SESSION): C.PUBLISHED,
    (C.PUBLISHED, CourseStep.ENROL): C.PUBLISHED,  # only a published course takes participants
}


def apply_course_step(status: CourseStatus, step: CourseStep) -> CourseStatus:
    try:
        return COURSE_TRANSITIONS[(status, step)]
    except KeyError:
        raise IllegalTransition(
            f"a course that is {status.value} cannot {step.value.replace('_', ' ')}",
            state=status.value,
            step=step.value,
        ) from None


class SessionStep(enum.StrEnum):
    UPDATE = "update"
    CANCEL = "cancel"
    ENROL = "enrol"


S = SessionStatus
SESSION_TRANSITIONS: dict[tuple[SessionStatus, SessionStep], SessionStatus] = {
    (S.SCHEDULED, SessionStep.UPDATE): S.SCHEDULED,
    (S.SCHEDULED, SessionStep.CANCEL): S.CANCELLED,
    (S.SCHEDULED, SessionStep.ENROL): S.SCHEDULED,
}


def apply_session_step(status: SessionStatus, step: SessionStep) -> SessionStatus:
    try:
        return SESSION_TRANSITIONS[(status, step)]
    except KeyError:
        raise IllegalTransition(
            f"a session that is {status.value} cannot {step.value}", state=status.value, step=step.value
        ) from None


# --- who offers a new course -----------------------------------------------------------------------


@dataclass(frozen=True)
class Offerer:
    library: str | None
    offered_by_partner_id: UUID | None


def check_may_create_course(actor: Actor, *, library: str | None, offered_by_partner_id: UUID | None) -> Offerer:
    """Staff offer for their own library (also a partner's course it hosts); a partner offers its own courses.

    Checked before anything is looked up; coordinators read the offer but do not write it.
    """
    if actor.role is Role.STAFF:
        if library not in (None, actor.library):
            raise Forbidden(f"staff may only offer courses of their own library, not of {library}")
        return Offerer(library=actor.library, offered_by_partner_id=offered_by_partner_id)
    if actor.role is Role.PARTNER:
        if offered_by_partner_id is not None and str(offered_by_partner_id) != actor.partner:
            raise Forbidden("a partner can only offer courses of its own")
        assert actor.partner is not None
        return Offerer(library=library, offered_by_partner_id=UUID(actor.partner))
    if actor.role is Role.OPERATOR:
        if library is None and offered_by_partner_id is None:
            raise InvalidInput("a course is offered by a library or a partner: name one")
        return Offerer(library=library, offered_by_partner_id=offered_by_partner_id)
    raise Forbidden(f"{actor.role.value} may not offer courses")


def check_partner_may_host_at(actor: Actor, offerer: Offerer, *, partnered: bool) -> None:
    """A partner offers a course at a library (hosted there, the library's name on it) only while the two have an
    active partnership: the library agreed to work with it. Its own premises need nobody's agreement."""
    if actor.role is Role.PARTNER and offerer.library is not None and not partnered:
        raise Forbidden(
            f"a partner offers courses at library {offerer.library} only with an active partnership with it"
        )


def course_municipality(offerer: Offerer, *, library_municipality: str | None, partner_municipality: str | None) -> str:
    """Both the library and the partner must be known, and in one municipality."""
    if offerer.library is not None and library_municipality is None:
        raise InvalidInput(f"library {offerer.library} is not known to the courses service")
    if offerer.offered_by_partner_id is not None and partner_municipality is None:
        raise InvalidInput(f"partner {offerer.offered_by_partner_id} is not known to the courses service")
    if library_municipality and partner_municipality and library_municipality != partner_municipality:
        raise InvalidInput(
            f"library {offerer.library} and partner {offerer.offered_by_partner_id} are not in the same municipality"
        )
    municipality = library_municipality or partner_municipality
    assert municipality is not None
    return municipality


def check_course_details(
    details: CourseDetails,
    offerer: Offerer,
    *,
    municipality: str,
    known_municipality: dict[str, str | None],
) -> Location:
    """Consistency of a course's details; returns the location with its library filled in.

    `known_municipality` maps every library slug and partner id (as text) the details name to the
    municipality the service knows it in (None: unknown).
    """
    if details.audience is Audience.PARTNER_STAFF:
        if details.audience_partner_id is None:
            raise InvalidInput("a course for partner staff names the partner (audience_partner_id)")
        if known_municipality.get(str(details.audience_partner_id)) != municipality:
            raise InvalidInput(f"partner {details.audience_partner_id} is not known in municipality {municipality}")
    elif details.audience_partner_id is not None:
        raise InvalidInput("audience_partner_id belongs only to a course for partner staff")
    if details.library_contributions and not (offerer.library and offerer.offered_by_partner_id):
        raise InvalidInput("library contributions belong to a partner's course that a library hosts")
    if len(set(details.library_contributions)) != len(details.library_contributions):
        raise InvalidInput("a library contribution is named twice")
    return check_location(details.location, offerer, municipality=municipality, known_municipality=known_municipality)


def check_location(
    location: Location, offerer: Offerer, *, municipality: str, known_municipality: dict[str, str | None]
) -> Location:
    kind = location.kind
    if kind is LocationKind.LIBRARY_BRANCH:
        library = location.library or offerer.library
        if library is None:
            raise InvalidInput("a course at a library branch names the library")
        if library != offerer.library:
            # A library's branch hosts a course only when that library offers or hosts it.
            raise InvalidInput(f"the course is held at library {library}, so that library must offer or host it")
        if location.partner_id is not None:
            raise InvalidInput("a library branch has no partner_id")
        return Location(
            kind=kind,
            library=library,
            branch=location.branch,
            address=location.address,
            place=location.place,
        )
    if location.library is not None:
        raise InvalidInput(f"only a library branch names a library, not a {kind.value} location")
    if kind is LocationKind.PARTNER_PREMISES:
        partner_id = location.partner_id or offerer.offered_by_partner_id
        if partner_id is None:
            raise InvalidInput("a course at a partner's premises names the partner")
        # The offering partner is known here already (its municipality is the course's).
        if partner_id != offerer.offered_by_partner_id and known_municipality.get(str(partner_id)) != municipality:
            raise InvalidInput(f"partner {partner_id} is not known in municipality {municipality}")
        return Location(
            kind=kind, partner_id=partner_id, branch=location.branch, address=location.address, place=location.place
        )
    if location.partner_id is not None:
        raise InvalidInput(f"only a partner's premises name a partner, not a {kind.value} location")
    if kind is LocationKind.ELSEWHERE and not (location.address or location.place):
        raise InvalidInput("a course held elsewhere needs an address or a place")
    return location


# --- who sees and manages a course -----------------------------------------------------------------


def manages(actor: Actor, course: CourseScope) -> bool:
    """The offering partner and the offering or hosting library's staff run a course together."""
    if actor.role is Role.OPERATOR:
        return True
    if actor.role is Role.STAFF:
        return course.library is not None and actor.library == course.library
    if actor.role is Role.PARTNER:
        return course.offered_by_partner_id is not None and actor.partner == str(course.offered_by_partner_id)
    return False


def may_read_course(actor: Actor, course: CourseScope, actor_municipality: str | None) -> bool:
    """The offer is visible to the whole municipality; a draft only to those who run it and the coordinators."""
    if actor.role is Role.OPERATOR or manages(actor, course):
        return True
    if actor_municipality is None or actor_municipality != course.municipality:
        return False
    return actor.role is Role.COORDINATOR or course.status is not CourseStatus.DRAFT


def check_may_change_offer(actor: Actor) -> None:
    """The role first: only staff, partners (and operators) change courses and sessions."""
    actor.require(Role.STAFF, Role.PARTNER, Role.OPERATOR)


def check_manages(actor: Actor, course: CourseScope, actor_municipality: str | None, *, what: str) -> None:
    """Out of sight answers like missing; visible but someone else's is forbidden."""
    if manages(actor, course):
        return
    if not may_read_course(actor, course, actor_municipality):
        raise NotFound(f"course {course.id} not found")
    raise Forbidden(f"only the library or partner that runs course {course.id} may {what}")


# --- sessions --------------------------------------------------------------------------------------


def check_meetings(meetings: list[Meeting]) -> tuple[datetime, datetime]:
    """Meetings in order, each ending after it starts, none overlapping; returns the session's span."""
    previous_end: datetime | None = None
    for number, meeting in enumerate(meetings, start=1):
        if meeting.ends_at <= meeting.starts_at:
            raise InvalidInput(f"meeting {number} ends before it starts")
        if previous_end is not None and meeting.starts_at < previous_end:
            raise InvalidInput(f"meeting {number} starts before meeting {number - 1} ends")
        previous_end = meeting.ends_at
    return meetings[0].starts_at, meetings[-1].ends_at


def check_new_capacity(capacity: int, confirmed: int) -> None:
    if capacity < confirmed:
        raise InvalidInput(
            f"capacity {capacity} is below the {confirmed} confirmed enrolments; cancel enrolments first",
            capacity=capacity,
            confirmed=confirmed,
        )


# --- who does what on a partner's course hosted at a library (the SeniorWeb model) ---------------------------------

# What a partnership's side may bring to a course it runs or hosts (a partnership's `training` is the volunteers').
COURSE_CONTRIBUTIONS = ("content", "guidance", "location", "recruitment", "promotion")
# What the library brings that its staff tick off as a task; the rest (`volunteers` as guides) only the course says.
PARTNERSHIP_DECIDES = frozenset({"location", "recruitment", "promotion"})


@dataclass(frozen=True)
class Division:
    partner_brings: list[str]
    library_contributions: list[str]


def division_of_work(
    *,
    partner_course_hosted: bool,
    course_says: list[str],
    partnership_library: list[str] | None,
    partnership_partner: list[str] | None,
) -> Division:
    """Who does what on a partner's course in a library, taken from their partnership's recorded contributions:
    the partner brings what its side of the partnership brings (content, guidance, ...), the library what its side
    brings of location, recruitment and promotion, plus the volunteers the course asks of it. The course follows the
    partnership as it is now: a change of the partnership's contributions shows on its courses at once (ticked-off
    tasks stay recorded; a task the library no longer brings is not listed, and is listed ticked again if it
    returns). Without a partnership whose contributions are known (none, or announced before contributions were),
    the course says what the library brings, and nothing is said of the partner."""
    if not partner_course_hosted:
        return Division(partner_brings=[], library_contributions=list(course_says))
    if partnership_library is None or partnership_partner is None:
        return Division(partner_brings=[], library_contributions=list(course_says))
    library = [x for x in partnership_library if x in PARTNERSHIP_DECIDES]
    library += [x for x in course_says if x not in PARTNERSHIP_DECIDES and x not in library]
    return Division(
        partner_brings=[x for x in partnership_partner if x in COURSE_CONTRIBUTIONS],
        library_contributions=library,
    )
