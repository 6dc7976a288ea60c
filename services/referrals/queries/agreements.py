"""The municipality's referral agreements with partners, as the coordinator and the libraries' staff see them."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from services.referrals import domain
from services.referrals.store import known_libraries, known_partners, known_partnerships, referral_agreements
from shared.contracts.partners.api.organisations import PartnerStatus
from shared.contracts.referrals.api.agreements import (
    AgreementStatus,
    CounterpartBasis,
    ListReferralAgreements,
    ListReferralCounterparts,
    ReferralAgreementView,
    ReferralCounterpart,
)
from shared.errors import Forbidden, InvalidInput
from shared.pagination import Page, decode_cursor, encode_cursor, keyset_page
from shared.tenancy import Actor, Role
from shared.unit_of_work import UnitOfWork


def agreement_view(row: sa.Row) -> ReferralAgreementView:
    return ReferralAgreementView(
        id=row.id,
        municipality=row.municipality,
        partner_id=row.partner_id,
        status=AgreementStatus.ENDED if row.ended_at is not None else AgreementStatus.IN_FORCE,
        recorded_at=row.recorded_at,
        recorded_by=row.recorded_by,
        note=row.note,
        ended_at=row.ended_at,
        ended_by=row.ended_by,
        version=row.version,
    )


async def list_agreements(work: UnitOfWork, actor: Actor, query: ListReferralAgreements) -> Page[ReferralAgreementView]:
    """Newest first."""
    a = referral_agreements
    municipality = domain.check_may_read_agreements(actor, query.municipality)
    conditions: list[sa.ColumnElement[bool]] = [a.c.municipality == municipality]
    if query.partner_id is not None:
        conditions.append(a.c.partner_id == query.partner_id)
    if query.status is not None:
        ended = a.c.ended_at.is_not(None)
        conditions.append(ended if query.status is AgreementStatus.ENDED else sa.not_(ended))
    if (key := decode_cursor(query.cursor)) is not None:
        try:
            recorded_at, last_id = datetime.fromisoformat(key[0]), UUID(key[1])
        except (IndexError, TypeError, ValueError) as exc:
            raise InvalidInput("the cursor is not valid") from exc
        conditions.append(sa.tuple_(a.c.recorded_at, a.c.id) < sa.tuple_(sa.literal(recorded_at), sa.literal(last_id)))
    statement = sa.select(a).where(*conditions).order_by(a.c.recorded_at.desc(), a.c.id.desc()).limit(query.limit + 1)
    async with work.read() as session:
        rows = list((await session.execute(statement)).all())
    page = rows[: query.limit]
    more = len(rows) > query.limit
    next_cursor = encode_cursor(page[-1].recorded_at.isoformat(), str(page[-1].id)) if more else None
    return Page(items=[agreement_view(row) for row in page], next_cursor=next_cursor)


async def list_counterparts(
    work: UnitOfWork, actor: Actor, query: ListReferralCounterparts
) -> Page[ReferralCounterpart]:
    """Whom the caller may refer to now, by the rule a submission is checked by (store/partnerships.py
    partnership_standing): the other side of each active partnership, and under the municipality's agreement with a
    partner every library of the municipality (for that partner) or that partner (for a library's staff). Active
    partners only. By name (case aside), then id or slug: a keyset over one statement, so pages never overlap. The
    indexes find the candidates (the library's or partner's partnerships, the municipality's agreements, migration
    015) and the page is a top-N sort of those few; an index by name would walk every partner of the country."""
    p, a, lib, partner = known_partnerships, referral_agreements, known_libraries, known_partners
    by_partnership: sa.ColumnElement[bool]
    by_agreement: sa.ColumnElement[bool]
    if actor.role is Role.STAFF and actor.library is not None:
        by_partnership = partner.c.id.in_(
            sa.select(p.c.partner_id).where(p.c.library == actor.library, p.c.activated, sa.not_(p.c.ended))
        )
        by_agreement = partner.c.id.in_(
            sa.select(a.c.partner_id).where(a.c.municipality == actor.municipality, a.c.ended_at.is_(None))
        )
        name = _name_key(partner.c.name, sa.cast(partner.c.id, sa.Text))
        bases = (by_partnership.label("by_partnership"), by_agreement.label("by_agreement"))
        statement = sa.select(partner.c.id, partner.c.name, name, *bases).where(
            partner.c.status == PartnerStatus.ACTIVE.value, sa.or_(by_partnership, by_agreement)
        )
        key: list[sa.ColumnElement[Any]] = [name, partner.c.id]
    elif actor.role is Role.PARTNER and actor.partner is not None:
        me = UUID(actor.partner)
        async with work.read() as session:
            own = (await session.execute(sa.select(partner).where(partner.c.id == me))).first()
        if own is None or own.status != PartnerStatus.ACTIVE.value:
            return Page(items=[])
        by_partnership = lib.c.slug.in_(
            sa.select(p.c.library).where(p.c.partner_id == me, p.c.activated, sa.not_(p.c.ended))
        )
        in_force = sa.exists().where(a.c.partner_id == me, a.c.municipality == own.municipality, a.c.ended_at.is_(None))
        by_agreement = sa.and_(lib.c.municipality == own.municipality, in_force)
        name = _name_key(lib.c.name, lib.c.slug)
        bases = (by_partnership.label("by_partnership"), by_agreement.label("by_agreement"))
        statement = sa.select(lib.c.slug, lib.c.name, name, *bases).where(sa.or_(by_partnership, by_agreement))
        key = [name, lib.c.slug]
    else:
        raise Forbidden("only a library's staff and partners refer")
    async with work.read() as session:
        rows, following = await keyset_page(session, statement, key, query.cursor, query.limit)
    items = []
    for row in rows:
        through = [CounterpartBasis.PARTNERSHIP] if row.by_partnership else []
        through += [CounterpartBasis.AGREEMENT] if row.by_agreement else []
        named = row.name or str(row[0])  # "" until the party's registration arrives
        if actor.role is Role.STAFF:
            items.append(ReferralCounterpart(partner_id=row.id, name=named, through=sorted(through)))
        else:
            items.append(ReferralCounterpart(library=row.slug, name=named, through=sorted(through)))
    return Page(items=items, next_cursor=following)


def _name_key(name: sa.ColumnElement[str], fallback: sa.ColumnElement[str]) -> sa.Label[str]:
    """The order a person reads the list in: the name case aside, the id or slug where no name arrived yet."""
    return sa.func.lower(sa.func.coalesce(sa.func.nullif(name, ""), fallback), type_=sa.Text).label("name_key")
