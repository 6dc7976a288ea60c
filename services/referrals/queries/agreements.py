"""The municipality's referral agreements with partners, as the coordinator and the libraries' staff see them."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import sqlalchemy as sa

from services.referrals import domain
from services.referrals.store import referral_agreements
from shared.contracts.referrals.api.agreements import AgreementStatus, ListReferralAgreements, ReferralAgreementView
from shared.errors import InvalidInput
from shared.pagination import Page, decode_cursor, encode_cursor
from shared.tenancy import Actor
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
