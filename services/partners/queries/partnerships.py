"""Partnerships as the caller may see them: its library's, the municipality's, or the partner's own."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.partners import store
from services.partners.domain.access import may_see_partnership
from services.partners.queries.partners import visible_partnerships
from services.partners.queries.views import partnership_view
from shared.contracts.partners.api.partnerships import GetPartnership, ListPartnerships, PartnershipView
from shared.errors import Forbidden, NotFound
from shared.pagination import Page, keyset_page
from shared.tenancy import Actor, Role
from shared.unit_of_work import UnitOfWork

S = store.partnerships
P = store.partners


def check_role_may_read_partnerships(actor: Actor) -> None:
    if actor.role not in (Role.OPERATOR, Role.COORDINATOR, Role.STAFF, Role.PARTNER):
        raise Forbidden(f"{actor.role.value} may not read partnerships")


async def visible_partnership(session: AsyncSession, actor: Actor, partnership_id: UUID) -> sa.Row:
    """The partnership if the caller may see it; otherwise (or if there is none) NotFound, alike."""
    check_role_may_read_partnerships(actor)
    row = await store.find_partnership(session, partnership_id)
    if row is None or not may_see_partnership(
        actor, library=row.library, municipality=row.municipality, partner_id=row.partner_id
    ):
        raise NotFound(f"partnership {partnership_id} not found")
    return row


async def get_partnership(work: UnitOfWork, actor: Actor, query: GetPartnership) -> PartnershipView:
    async with work.read() as session:
        return partnership_view(await visible_partnership(session, actor, query.partnership_id))


async def list_partnerships(work: UnitOfWork, actor: Actor, query: ListPartnerships) -> Page[PartnershipView]:
    check_role_may_read_partnerships(actor)
    conditions: list[Any] = [visible_partnerships(actor)]
    if query.library is not None:
        conditions.append(S.c.library == query.library)
    if query.partner_id is not None:
        conditions.append(S.c.partner_id == query.partner_id)
    if query.status is not None:
        conditions.append(S.c.status == query.status.value)
    if query.role is not None:
        conditions.append(S.c.roles.contains([query.role.value]))
    if query.review_before is not None:
        conditions.append(S.c.review_on < query.review_before)
    L = store.libraries
    statement = (
        sa.select(S, P.c.name.label("partner_name"), L.c.name.label("library_name"))
        .join(P, P.c.id == S.c.partner_id)
        .join(L, L.c.slug == S.c.library)
        .where(*conditions)
    )
    async with work.read() as session:
        shown, next_cursor = await keyset_page(session, statement, [S.c.created_at, S.c.id], query.cursor, query.limit)
    return Page(items=[partnership_view(r) for r in shown], next_cursor=next_cursor)
