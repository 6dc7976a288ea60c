"""What the courses service's domain tests share (no servers): actors of one municipality and one elsewhere, a
course's scope, and the outcome of a check by the error's name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from services.courses.domain.offer import CourseScope
from shared.contracts.courses.api.courses import CourseStatus
from shared.contracts.courses.events import Audience
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.tenancy import Actor, Role

MUNICIPALITY = "utrecht"
LIBRARY = "centrale"
OTHER_LIBRARY = "overvecht"
PARTNER_ID = UUID("0190a000-0000-7000-8000-00000000000a")
OTHER_PARTNER_ID = UUID("0190a000-0000-7000-8000-00000000000b")
COURSE_ID = UUID("0190a000-0000-7000-8000-0000000000c0")

OPERATOR = Actor(subject="op", role=Role.OPERATOR)
COORDINATOR = Actor(subject="co", role=Role.COORDINATOR, municipality=MUNICIPALITY)
COORDINATOR_ELSEWHERE = Actor(subject="co2", role=Role.COORDINATOR, municipality="amersfoort")
STAFF = Actor(subject="st", role=Role.STAFF, municipality=MUNICIPALITY, library=LIBRARY)
OTHER_STAFF = Actor(subject="st2", role=Role.STAFF, municipality=MUNICIPALITY, library=OTHER_LIBRARY)
STAFF_ELSEWHERE = Actor(subject="st3", role=Role.STAFF, municipality="amersfoort", library="eemland")
PARTNER = Actor(subject="pa", role=Role.PARTNER, partner=str(PARTNER_ID), municipality=MUNICIPALITY)
OTHER_PARTNER = Actor(subject="pa2", role=Role.PARTNER, partner=str(OTHER_PARTNER_ID), municipality=MUNICIPALITY)


def municipality_of(actor: Actor) -> str | None:
    return actor.municipality


def outcome(check: Callable[..., Any], *args: Any, **kwargs: Any) -> str:
    """`allowed`, or the name of the error the check raised."""
    try:
        check(*args, **kwargs)
    except (Forbidden, NotFound, InvalidInput, Conflict) as exc:
        return type(exc).__name__
    return "allowed"


def course(
    status: CourseStatus = CourseStatus.PUBLISHED,
    *,
    library: str | None = LIBRARY,
    partner: UUID | None = None,
    audience: Audience = Audience.JOB_SEEKERS,
    audience_partner_id: UUID | None = None,
) -> CourseScope:
    return CourseScope(
        id=COURSE_ID,
        municipality=MUNICIPALITY,
        library=library,
        offered_by_partner_id=partner,
        status=status,
        audience=audience,
        audience_partner_id=audience_partner_id,
    )
