"""Open assignments and assignments, as the caller may see them (hours: queries/hours.py)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import sqlalchemy as sa

from services.volunteers import store
from services.volunteers.domain import scope
from services.volunteers.store import assignment as assignment_store
from shared.contracts.vocabulary import SkillArea
from shared.contracts.volunteers.api.assignments import (
    AssignmentStatus,
    AssignmentView,
    GetAssignment,
    GetOpening,
    ListAssignments,
    ListOpenings,
    OpeningView,
)
from shared.contracts.volunteers.events import AssignmentKind
from shared.errors import NotFound
from shared.pagination import Page, keyset_page
from shared.tenancy import Actor, Role
from shared.unit_of_work import UnitOfWork


def opening_view(row: Any, assigned: int) -> OpeningView:
    return OpeningView(
        id=row.id,
        course_id=row.course_id,
        library=row.library,
        municipality=row.municipality,
        title=row.title,
        skill_area=SkillArea(row.skill_area),
        volunteers_needed=row.volunteers_needed,
        assigned=assigned,
        places_left=0 if row.cancelled_at is not None else max(row.volunteers_needed - assigned, 0),
        qualifications_needed=list(row.qualifications_needed),
        certificate_of_conduct_required=row.certificate_of_conduct_required,
        version=row.version,
        opened_at=row.opened_at,
        cancelled_at=row.cancelled_at,
    )


def assignment_view(row: Any, minutes_logged: int) -> AssignmentView:
    return AssignmentView(
        id=row.id,
        volunteer_id=row.volunteer_id,
        library=row.library,
        municipality=row.municipality,
        kind=AssignmentKind(row.kind),
        status=AssignmentStatus(row.status),
        opening_id=row.opening_id,
        course_id=row.course_id,
        course_session_id=row.course_session_id,
        participant_pseudonym=row.participant_pseudonym,
        starts_on=row.starts_on,
        ends_on=row.ends_on,
        minutes_logged=minutes_logged,
        version=row.version,
        assigned_at=row.assigned_at,
        ended_at=row.ended_at,
        referral_id=row.referral_id,
    )


def in_scope(statement: sa.Select, actor: Actor, table: sa.Table) -> sa.Select:
    if actor.role is Role.STAFF:
        return statement.where(table.c.library == actor.library)
    if actor.role is Role.COORDINATOR:
        return statement.where(table.c.municipality == actor.municipality)
    return statement


# --- open assignments ---------------------------------------------------------------------------


async def get_opening(work: UnitOfWork, actor: Actor, query: GetOpening) -> OpeningView:
    scope.check_may_read(actor, "open assignments")
    async with work.read() as session:
        row = await store.find(session, store.openings, query.opening_id)
        if row is None or not scope.may_see(actor, row.library, row.municipality):
            raise NotFound(f"open assignment {query.opening_id} not found")
        return opening_view(row, await assignment_store.count_active_assignments(session, row.id))


async def list_openings(work: UnitOfWork, actor: Actor, query: ListOpenings) -> Page[OpeningView]:
    scope.check_may_read(actor, "open assignments")
    o = store.openings
    assigned = assignment_store.assigned_count().label("assigned")
    statement = in_scope(sa.select(o, assigned), actor, o)
    if query.library is not None:
        statement = statement.where(o.c.library == query.library)
    if query.open_only:
        statement = statement.where(
            o.c.volunteers_needed > assignment_store.assigned_count(), o.c.cancelled_at.is_(None)
        )
    async with work.read() as session:
        rows, next_cursor = await keyset_page(session, statement, [o.c.opened_at, o.c.id], query.cursor, query.limit)
    return Page(items=[opening_view(row, row.assigned) for row in rows], next_cursor=next_cursor)


# --- assignments --------------------------------------------------------------------------------


def _partner_may_see(actor: Actor, via_partner_id: UUID | None) -> bool:
    return actor.role is Role.PARTNER and via_partner_id is not None and actor.partner == str(via_partner_id)


async def get_assignment(work: UnitOfWork, actor: Actor, query: GetAssignment) -> AssignmentView:
    """Library scope; a supplying partner also sees where the people it supplied are assigned."""
    a, v = store.assignments, store.volunteers
    async with work.read() as session:
        row = (
            await session.execute(
                sa.select(a, v.c.via_partner_id, assignment_store.minutes_logged_column().label("minutes"))
                .join(v, v.c.id == a.c.volunteer_id)
                .where(a.c.id == query.assignment_id)
            )
        ).first()
    visible = row is not None and (
        _partner_may_see(actor, row.via_partner_id)
        if actor.role is Role.PARTNER
        else scope.may_see(actor, row.library, row.municipality)
    )
    if row is None or not visible:
        raise NotFound(f"assignment {query.assignment_id} not found")
    return assignment_view(row, row.minutes)


async def list_assignments(work: UnitOfWork, actor: Actor, query: ListAssignments) -> Page[AssignmentView]:
    a, v = store.assignments, store.volunteers
    statement = sa.select(a, assignment_store.minutes_logged_column().label("minutes"))
    if actor.role is Role.PARTNER:
        statement = statement.join(v, v.c.id == a.c.volunteer_id).where(
            store.is_partner(v.c.via_partner_id, scope.partner_of(actor))
        )
    else:
        statement = in_scope(statement, actor, a)
    for column, value in (
        (a.c.volunteer_id, query.volunteer_id),
        (a.c.opening_id, query.opening_id),
        (a.c.status, query.status),
        (a.c.library, query.library),
    ):
        if value is not None:
            statement = statement.where(column == value)
    async with work.read() as session:
        rows, next_cursor = await keyset_page(session, statement, [a.c.assigned_at, a.c.id], query.cursor, query.limit)
    return Page(items=[assignment_view(row, row.minutes) for row in rows], next_cursor=next_cursor)
