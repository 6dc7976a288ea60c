"""The municipality's referral agreements with partners, as the coordinator and the libraries' staff see them."""

from __future__ import annotations

from datetime import datetime
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
    ReferralCounterparts,
)
from shared.errors import Forbidden, InvalidInput
from shared.pagination import Page, decode_cursor, encode_cursor
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


async def list_counterparts(work: UnitOfWork, actor: Actor, query: ListReferralCounterparts) -> ReferralCounterparts:
    """Whom the caller may refer to now, by the rule a submission is checked by (store/partnerships.py
    partnership_standing): the other side of each active partnership, and under the municipality's agreement with a
    partner every library of the municipality (for that partner) or that partner (for a library's staff). Active
    partners only."""
    p, a, lib, partner = known_partnerships, referral_agreements, known_libraries, known_partners
    found: dict[str, tuple[str | None, UUID | None, str, set[CounterpartBasis]]] = {}
    async with work.read() as session:
        if actor.role is Role.STAFF and actor.library is not None:
            active = partner.c.status == PartnerStatus.ACTIVE.value
            via_partnership = sa.select(partner.c.id, partner.c.name).where(
                active,
                partner.c.id.in_(
                    sa.select(p.c.partner_id).where(p.c.library == actor.library, p.c.activated, sa.not_(p.c.ended))
                ),
            )
            via_agreement = sa.select(partner.c.id, partner.c.name).where(
                active,
                partner.c.id.in_(
                    sa.select(a.c.partner_id).where(a.c.municipality == actor.municipality, a.c.ended_at.is_(None))
                ),
            )
            for basis, statement in (
                (CounterpartBasis.PARTNERSHIP, via_partnership),
                (CounterpartBasis.AGREEMENT, via_agreement),
            ):
                for id_, name in (await session.execute(statement)).all():
                    found.setdefault(str(id_), (None, id_, name or str(id_), set()))[3].add(basis)
        elif actor.role is Role.PARTNER and actor.partner is not None:
            me = UUID(actor.partner)
            own = (await session.execute(sa.select(partner).where(partner.c.id == me))).first()
            if own is not None and own.status == PartnerStatus.ACTIVE.value:
                via_partnership = sa.select(lib.c.slug, lib.c.name).where(
                    lib.c.slug.in_(
                        sa.select(p.c.library).where(p.c.partner_id == me, p.c.activated, sa.not_(p.c.ended))
                    )
                )
                in_force = sa.exists().where(
                    a.c.partner_id == me, a.c.municipality == own.municipality, a.c.ended_at.is_(None)
                )
                via_agreement = sa.select(lib.c.slug, lib.c.name).where(
                    lib.c.municipality == own.municipality, in_force
                )
                for basis, statement in (
                    (CounterpartBasis.PARTNERSHIP, via_partnership),
                    (CounterpartBasis.AGREEMENT, via_agreement),
                ):
                    for slug, name in (await session.execute(statement)).all():
                        found.setdefault(slug, (slug, None, name or slug, set()))[3].add(basis)
        else:
            raise Forbidden("only a library's staff and partners refer")
    items = [
        ReferralCounterpart(library=library, partner_id=partner_id, name=name, through=sorted(through))
        for library, partner_id, name, through in found.values()
    ]
    return ReferralCounterparts(
        items=sorted(items, key=lambda item: (item.name.casefold(), str(item.library or item.partner_id)))
    )
