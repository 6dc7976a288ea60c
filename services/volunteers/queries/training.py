"""Training modules and sessions (with attendance) as the caller may see them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from services.volunteers import store
from services.volunteers.domain import scope
from services.volunteers.domain.training import holds_on
from services.volunteers.store import training as training_store
from shared.clock import local_date
from shared.contracts.volunteers.api.training import (
    AttendanceView,
    GetTrainingModule,
    GetTrainingSession,
    ListTrainingModules,
    ListTrainingSessions,
    TrainingModuleView,
    TrainingSessionView,
)
from shared.contracts.volunteers.api.volunteers import HeldQualificationView, ListQualifications
from shared.contracts.volunteers.events import ModuleDelivery
from shared.errors import NotFound
from shared.pagination import Page, keyset_page
from shared.tenancy import Actor, Role
from shared.unit_of_work import UnitOfWork


def module_view(row: Any) -> TrainingModuleView:
    return TrainingModuleView(
        id=row.id,
        library=row.library,
        municipality=row.municipality,
        title=row.title,
        description=row.description,
        delivered_by=ModuleDelivery(row.delivered_by),
        provider_partner_id=row.provider_partner_id,
        purchase_id=row.purchase_id,
        qualification=row.qualification,
        validity_months=row.validity_months,
        version=row.version,
        created_at=row.created_at,
    )


def session_view(row: Any, attendance: Sequence[Any]) -> TrainingSessionView:
    return TrainingSessionView(
        id=row.id,
        module_id=row.module_id,
        library=row.library,
        municipality=row.municipality,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        place=row.place,
        capacity=row.capacity,
        attendance=[
            AttendanceView(
                volunteer_id=a.volunteer_id, attended=a.attended, completed=a.completed, recorded_at=a.recorded_at
            )
            for a in attendance
        ],
        created_at=row.created_at,
    )


def may_see_module(actor: Actor, library: str, municipality: str, provider_partner_id: UUID | None) -> bool:
    """Library scope; a volunteer organisation also sees the modules it gives."""
    if actor.role is Role.PARTNER:
        return provider_partner_id is not None and actor.partner == str(provider_partner_id)
    return scope.may_see(actor, library, municipality)


def _scoped(statement: sa.Select, actor: Actor, table: sa.Table, provider: sa.ColumnElement[Any]) -> sa.Select:
    if actor.role is Role.PARTNER:
        return statement.where(store.is_partner(provider, scope.partner_of(actor)))
    if actor.role is Role.STAFF:
        return statement.where(table.c.library == actor.library)
    if actor.role is Role.COORDINATOR:
        return statement.where(table.c.municipality == actor.municipality)
    return statement


async def get_training_module(work: UnitOfWork, actor: Actor, query: GetTrainingModule) -> TrainingModuleView:
    async with work.read() as session:
        row = await store.find(session, store.training_modules, query.module_id)
    if row is None or not may_see_module(actor, row.library, row.municipality, row.provider_partner_id):
        raise NotFound(f"training module {query.module_id} not found")
    return module_view(row)


async def list_training_modules(work: UnitOfWork, actor: Actor, query: ListTrainingModules) -> Page[TrainingModuleView]:
    m = store.training_modules
    statement = _scoped(sa.select(m), actor, m, m.c.provider_partner_id)
    if query.library is not None:
        statement = statement.where(m.c.library == query.library)
    if query.delivered_by is not None:
        statement = statement.where(m.c.delivered_by == query.delivered_by.value)
    async with work.read() as session:
        rows, next_cursor = await keyset_page(session, statement, [m.c.created_at, m.c.id], query.cursor, query.limit)
    return Page(items=[module_view(row) for row in rows], next_cursor=next_cursor)


async def get_training_session(work: UnitOfWork, actor: Actor, query: GetTrainingSession) -> TrainingSessionView:
    s, m = store.training_sessions, store.training_modules
    async with work.read() as session:
        row = (
            await session.execute(
                sa.select(s, m.c.provider_partner_id).join(m, m.c.id == s.c.module_id).where(s.c.id == query.session_id)
            )
        ).first()
        if row is None or not may_see_module(actor, row.library, row.municipality, row.provider_partner_id):
            raise NotFound(f"training session {query.session_id} not found")
        return session_view(row, await training_store.find_attendance(session, row.id))


async def list_training_sessions(
    work: UnitOfWork, actor: Actor, query: ListTrainingSessions
) -> Page[TrainingSessionView]:
    s, m, a = store.training_sessions, store.training_modules, store.attendance
    statement = _scoped(sa.select(s).join(m, m.c.id == s.c.module_id), actor, s, m.c.provider_partner_id)
    if query.module_id is not None:
        statement = statement.where(s.c.module_id == query.module_id)
    if query.library is not None:
        statement = statement.where(s.c.library == query.library)
    async with work.read() as session:
        rows, next_cursor = await keyset_page(session, statement, [s.c.starts_at, s.c.id], query.cursor, query.limit)
        attendance: dict[UUID, list[Any]] = {row.id: [] for row in rows}
        if rows:
            found = await session.execute(
                sa.select(a).where(a.c.session_id.in_(list(attendance))).order_by(a.c.recorded_at, a.c.volunteer_id)
            )
            for entry in found:
                attendance[entry.session_id].append(entry)
    return Page(items=[session_view(row, attendance[row.id]) for row in rows], next_cursor=next_cursor)


async def list_qualifications(work: UnitOfWork, actor: Actor, query: ListQualifications) -> Page[HeldQualificationView]:
    scope.check_may_read(actor, "qualifications")
    q = store.qualifications
    statement = sa.select(q)
    if actor.role is Role.STAFF:
        statement = statement.where(q.c.library == actor.library)
    elif actor.role is Role.COORDINATOR:
        statement = statement.where(q.c.municipality == actor.municipality)
    for column, value in ((q.c.volunteer_id, query.volunteer_id), (q.c.code, query.code), (q.c.library, query.library)):
        if value is not None:
            statement = statement.where(column == value)
    today = local_date(work.clock.now())
    if query.valid_only:
        statement = statement.where(sa.or_(q.c.valid_until.is_(None), q.c.valid_until >= today))
    async with work.read() as session:
        rows, next_cursor = await keyset_page(
            session, statement, [q.c.code, q.c.volunteer_id], query.cursor, query.limit
        )
    return Page(
        items=[
            HeldQualificationView(
                volunteer_id=r.volunteer_id,
                library=r.library,
                code=r.code,
                module_id=r.module_id,
                obtained_on=r.obtained_on,
                valid_until=r.valid_until,
                valid=holds_on(r.valid_until, today),
            )
            for r in rows
        ],
        next_cursor=next_cursor,
    )
