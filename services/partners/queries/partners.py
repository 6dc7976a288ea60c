"""Partners as the caller may see them: one, a list, the municipality's partner map, and the statistics."""

from __future__ import annotations

from collections import defaultdict
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from services.partners import domain, store
from services.partners.queries.views import map_partnership, partner_view
from services.partners.store.figures import STATISTICS, PartnerScope
from shared.contracts.partners.api.organisations import GetLibrary, GetPartner, LibraryView, ListPartners, PartnerView
from shared.contracts.partners.api.partnerships import GetPartnerMap, PartnerMapEntry, PartnershipStatus
from shared.contracts.partners.api.statistics import (
    GetPartnersStatistics,
    PartnersStatistics,
    StatisticsLibrary,
    StatisticsPartner,
)
from shared.contracts.partners.events import PartnerKind
from shared.errors import Forbidden, NotFound
from shared.pagination import Page, keyset_page
from shared.tenancy import Actor, Role
from shared.unit_of_work import UnitOfWork

P = store.partners
S = store.partnerships


async def get_partner(work: UnitOfWork, actor: Actor, query: GetPartner) -> PartnerView:
    async with work.read() as session:
        row = await store.find_partner(session, query.partner_id)
    if row is None:
        raise NotFound(f"partner {query.partner_id} not found")
    domain.check_may_read_partner(actor, row.id, row.municipality)
    return partner_view(row)


async def get_library(work: UnitOfWork, actor: Actor, query: GetLibrary) -> LibraryView:
    """Libraries are known to their whole municipality (and to operators); another municipality's is not found."""
    async with work.read() as session:
        row = await store.find_library(session, query.library)
    if row is None or (actor.role is not Role.OPERATOR and actor.municipality != row.municipality):
        raise NotFound(f"library {query.library} not found")
    return LibraryView(slug=row.slug, municipality=row.municipality, name=row.name, email=row.email, phone=row.phone)


def partners_in_scope(actor: Actor, municipality: str | None) -> list[Any]:
    """WHERE clauses: a partner sees itself, staff and coordinators their municipality, operators any."""
    if actor.role is Role.PARTNER:
        return [P.c.id == UUID(actor.partner)] if actor.partner else [sa.false()]
    if actor.role is Role.OPERATOR:
        return [P.c.municipality == municipality] if municipality else []
    if municipality is not None and municipality != actor.municipality:
        return [sa.false()]  # another municipality: nothing, as if it had no partners
    return [P.c.municipality == actor.municipality]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def list_partners(work: UnitOfWork, actor: Actor, query: ListPartners) -> Page[PartnerView]:
    conditions = partners_in_scope(actor, query.municipality)
    if query.kind is not None:
        conditions.append(P.c.kind == query.kind.value)
    if query.status is not None:
        conditions.append(P.c.status == query.status.value)
    if query.skill_area is not None:
        conditions.append(P.c.skill_areas.contains([query.skill_area.value]))
    if query.search:
        conditions.append(P.c.name.ilike(f"%{_escape_like(query.search)}%", escape="\\"))
    async with work.read() as session:
        shown, next_cursor = await keyset_page(
            session, sa.select(P).where(*conditions), [P.c.name, P.c.id], query.cursor, query.limit
        )
    return Page(items=[partner_view(r) for r in shown], next_cursor=next_cursor)


def visible_partnerships(actor: Actor) -> Any:
    """WHERE clause: the library that has it, the municipality's coordinator, the partner itself."""
    if actor.role is Role.OPERATOR:
        return sa.true()
    if actor.role is Role.COORDINATOR:
        return S.c.municipality == actor.municipality
    if actor.role is Role.STAFF:
        return S.c.library == actor.library
    if actor.role is Role.PARTNER and actor.partner:
        return S.c.partner_id == UUID(actor.partner)
    return sa.false()


async def partner_map(work: UnitOfWork, actor: Actor, query: GetPartnerMap) -> Page[PartnerMapEntry]:
    if actor.role not in (Role.OPERATOR, Role.COORDINATOR, Role.STAFF, Role.PARTNER):
        raise Forbidden(f"{actor.role.value} may not read the partner map")
    conditions = partners_in_scope(actor, query.municipality)
    if query.kind is not None:
        conditions.append(P.c.kind == query.kind.value)
    if query.skill_area is not None:
        conditions.append(P.c.skill_areas.contains([query.skill_area.value]))
    shown_partnerships = [visible_partnerships(actor)]
    if not query.include_ended:
        shown_partnerships.append(S.c.status != PartnershipStatus.ENDED.value)
    if query.role is not None or query.library is not None:
        # Filter on partnerships the caller may see only: a role elsewhere must not show through.
        matching = [*shown_partnerships, S.c.partner_id == P.c.id]
        if query.role is not None:
            matching.append(S.c.roles.contains([query.role.value]))
        if query.library is not None:
            matching.append(S.c.library == query.library)
        conditions.append(sa.exists(sa.select(S.c.id).where(*matching)))
    async with work.read() as session:
        shown, next_cursor = await keyset_page(
            session, sa.select(P).where(*conditions), [P.c.name, P.c.id], query.cursor, query.limit
        )
        partnerships = (
            await session.execute(
                sa.select(S)
                .where(S.c.partner_id.in_([r.id for r in shown]), *shown_partnerships)
                .order_by(S.c.library, S.c.created_at)
            )
        ).all()
    by_partner = defaultdict(list)
    for partnership in partnerships:
        by_partner[partnership.partner_id].append(map_partnership(partnership))
    items = [PartnerMapEntry(partner=partner_view(r), partnerships=by_partner[r.id]) for r in shown]
    return Page(items=items, next_cursor=next_cursor)


async def statistics(work: UnitOfWork, actor: Actor, query: GetPartnersStatistics) -> PartnersStatistics:
    """Libraries and partners of the caller's scope with their active partnerships, for the overview: one statement
    on a direct connection (store/figures.py STATISTICS)."""
    if actor.role is Role.PARTNER:
        raise Forbidden("the municipality's overview is not for partners")
    if actor.role not in (Role.OPERATOR, Role.COORDINATOR, Role.STAFF):
        raise Forbidden(f"{actor.role.value} may not read the overview")
    municipality = query.municipality if actor.role is Role.OPERATOR else actor.municipality
    library = actor.library if actor.role is Role.STAFF else query.library
    values: dict[str, Any] = {}
    if municipality:
        values["municipality"] = municipality
    if library:
        # Staff asking for another library than their own see none of the libraries.
        values["library"] = library if actor.role is not Role.STAFF or query.library in (None, library) else None
    partners: PartnerScope
    if actor.role is Role.STAFF:
        # Every partner of the municipality (staff read them all): the library's figures may name one it has no
        # partnership with (a referral to it), or one that has ended; the gateway keeps those it needs.
        partners = "municipality"
    elif query.library:
        partners = "library"  # a narrowed overview sees the partners the library works with
    elif municipality:
        partners = "municipality"
    else:
        partners = "all"
    async with work.direct() as db:
        rows = await db.fetch(STATISTICS[(bool(municipality), bool(library), partners)], **values)
    return PartnersStatistics(
        libraries=[
            StatisticsLibrary(
                library=row.key,
                municipality=row.municipality,
                name=row.name,
                active_partnerships=int(row.active),
                partnership_reviews_due=int(row.due),
            )
            for row in rows
            if row.side == "library"
        ],
        partners=[
            StatisticsPartner(
                partner_id=UUID(row.key),
                municipality=row.municipality,
                name=row.name,
                kind=PartnerKind(row.kind),
                status=row.status,
                active_partnerships=int(row.active),
            )
            for row in rows
            if row.side == "partner"
        ],
    )
