"""The history of a partner and of a partnership: who changed what, when, as far as the caller may see it."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from services.partners import domain, store
from services.partners.domain.access import may_see_partnership
from services.partners.queries.partnerships import visible_partnership
from shared.contracts.partners.api.partnerships import (
    GetPartnerHistory,
    GetPartnershipHistory,
    History,
    HistoryEntry,
)
from shared.errors import NotFound
from shared.tenancy import Actor
from shared.unit_of_work import UnitOfWork

H = store.partner_history
S = store.partnerships


def entry(row: Any) -> HistoryEntry:
    return HistoryEntry(
        at=row.at,
        actor=row.actor,
        action=row.action,
        version=row.version,
        changes=dict(row.changes),
        partnership_id=row.partnership_id,
        reason=row.reason,
    )


async def partnership_history(work: UnitOfWork, actor: Actor, query: GetPartnershipHistory) -> History:
    async with work.read() as session:
        row = await visible_partnership(session, actor, query.partnership_id)
        rows = (await session.execute(sa.select(H).where(H.c.partnership_id == row.id).order_by(H.c.id))).all()
    return History(items=[entry(r) for r in rows])


async def partner_history(work: UnitOfWork, actor: Actor, query: GetPartnerHistory) -> History:
    """The partner's own changes, and those of its partnerships the caller may see (a library sees its own)."""
    async with work.read() as session:
        partner = await store.find_partner(session, query.partner_id)
        if partner is None:
            raise NotFound(f"partner {query.partner_id} not found")
        domain.check_may_read_partner(actor, partner.id, partner.municipality)
        rows = (
            await session.execute(
                sa.select(H, S.c.library, S.c.municipality.label("partnership_municipality"))
                .outerjoin(S, S.c.id == H.c.partnership_id)
                .where(H.c.partner_id == partner.id)
                .order_by(H.c.id)
            )
        ).all()
    shown = [
        r
        for r in rows
        if r.partnership_id is None
        or may_see_partnership(actor, library=r.library, municipality=r.partnership_municipality, partner_id=partner.id)
    ]
    return History(items=[entry(r) for r in shown])
