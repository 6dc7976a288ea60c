"""Requests for tailored education as the caller may see them: the library's staff their library's, the coordinator
the municipality's, a referrer its own."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from services.courses.store.education import education_requests
from shared.contracts.courses.api.education import (
    EducationRequestStatus,
    EducationRequestView,
    GetEducationRequest,
    ListEducationRequests,
    ReservationEnd,
)
from shared.contracts.vocabulary import SkillArea
from shared.errors import NotFound
from shared.pagination import Page, keyset_page
from shared.tenancy import Actor, Role
from shared.unit_of_work import UnitOfWork


def request_view(row: Any) -> EducationRequestView:
    return EducationRequestView(
        id=row.id,
        library=row.library,
        municipality=row.municipality,
        partner_id=row.partner_id,
        target_group=row.target_group,
        skill_area=SkillArea(row.skill_area),
        clients=row.clients,
        preferred_from=row.preferred_from,
        preferred_until=row.preferred_until,
        note=row.note,
        status=EducationRequestStatus(row.status),
        course_id=row.course_id,
        reserved_places=row.reserved_places,
        reason=row.reason,
        requested_by=row.requested_by,
        answered_by=row.answered_by,
        created_at=row.created_at,
        answered_at=row.answered_at,
        version=row.version,
        reserved_until=row.reserved_until,
        reservation_ended_at=row.reservation_ended_at,
        reservation_end=ReservationEnd(row.reservation_end) if row.reservation_end else None,
    )


def _in_scope(actor: Actor) -> sa.ColumnElement[bool]:
    r = education_requests
    if actor.role is Role.STAFF:
        return r.c.library == actor.library
    if actor.role is Role.COORDINATOR:
        return r.c.municipality == actor.municipality
    if actor.role is Role.PARTNER:
        return sa.cast(r.c.partner_id, sa.Text) == (actor.partner or "")
    return sa.true()


async def get_education_request(work: UnitOfWork, actor: Actor, query: GetEducationRequest) -> EducationRequestView:
    r = education_requests
    async with work.read() as session:
        row = (await session.execute(sa.select(r).where(r.c.id == query.request_id, _in_scope(actor)))).first()
    if row is None:
        raise NotFound(f"request {query.request_id} not found")
    return request_view(row)


async def list_education_requests(
    work: UnitOfWork, actor: Actor, query: ListEducationRequests
) -> Page[EducationRequestView]:
    r = education_requests
    statement = sa.select(r).where(_in_scope(actor))
    if query.status is not None:
        statement = statement.where(r.c.status == query.status.value)
    async with work.read() as session:
        rows, next_cursor = await keyset_page(session, statement, [r.c.created_at, r.c.id], query.cursor, query.limit)
    return Page(items=[request_view(row) for row in rows], next_cursor=next_cursor)
