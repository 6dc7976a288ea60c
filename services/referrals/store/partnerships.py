"""Which partners take part in a library's referrals: the partnerships the partners service announces
(`known_partnerships`) and the municipality-wide referral agreements this service records and ends."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.ext.asyncio import AsyncSession

from services.referrals.store import history_json, known_partners, known_partnerships, referral_agreements, referrals
from shared.db import Prepared


def partnership_standing(
    partner: sa.ColumnElement[Any], library: sa.ColumnElement[Any], municipality: sa.ColumnElement[Any]
) -> tuple[sa.ColumnElement[bool], sa.ColumnElement[bool]]:
    """Whether the partner may take part in new referrals with the library (an active partnership with it, or the
    municipality's agreement in force), and whether one that was there has ended (then it sees pseudonyms only)."""
    p, a = known_partnerships, referral_agreements
    with_library = [p.c.partner_id == partner, p.c.library == library]
    in_municipality = [a.c.partner_id == partner, a.c.municipality == municipality]
    partnered = sa.or_(
        sa.exists().where(*with_library, p.c.activated, sa.not_(p.c.ended)),
        sa.exists().where(*in_municipality, a.c.ended_at.is_(None)),
    )
    # A suspended partnership counts as one that stopped, until it is resumed (then it is partnered again).
    ended = sa.or_(
        sa.exists().where(*with_library, sa.or_(p.c.ended, sa.not_(p.c.activated))),
        sa.exists().where(*in_municipality, a.c.ended_at.is_not(None)),
    )
    return partnered, ended


async def partnership_stopped_at(
    session: AsyncSession, partner_id: UUID, library: str, municipality: str
) -> datetime | None:
    """When the partner's last partnership with the library (or the municipality's agreement) stopped: the latest
    end or suspension of one; None where that time is not known (stopped before it was kept)."""
    p, a = known_partnerships, referral_agreements
    stopped = sa.func.coalesce(p.c.ended_at, p.c.changed_at)
    statement = sa.select(
        sa.func.greatest(
            sa.select(sa.func.max(stopped))
            .where(p.c.partner_id == partner_id, p.c.library == library, sa.or_(p.c.ended, sa.not_(p.c.activated)))
            .scalar_subquery(),
            sa.select(sa.func.max(a.c.ended_at))
            .where(a.c.partner_id == partner_id, a.c.municipality == municipality)
            .scalar_subquery(),
        )
    )
    return (await session.execute(statement)).scalar_one_or_none()


def _standing(
    partner: sa.ColumnElement[Any], library: sa.ColumnElement[Any], municipality: sa.ColumnElement[Any], prefix: str
) -> list[sa.Label[Any]]:
    """A partner's status, whether it partners with the library now, and whether a partnership or agreement it had
    has ended: `<prefix>status`, `partnered`, `partnership_ended`."""
    partnered, ended = partnership_standing(partner, library, municipality)
    status = sa.select(known_partners.c.status).where(known_partners.c.id == partner).scalar_subquery()
    return [status.label(f"{prefix}status"), partnered.label("partnered"), ended.label("partnership_ended")]


async def partner_standing(session: AsyncSession, partner_id: UUID, library: str, municipality: str) -> sa.Row:
    """A partner as a party of a referral of `library` (`status`, `partnered`, `partnership_ended`): one round trip,
    for a use case that changes the referral."""
    standing = _standing(sa.literal(partner_id), sa.literal(library), sa.literal(municipality), "")
    return (await session.execute(sa.select(*standing))).one()


# A referral and its history as a partner reads it, with the partner's standing towards the referral's library
# (`partner_status`, `partnered`, `partnership_ended`): the partner's read on a direct connection in one round trip,
# as the coordinator's and the staff's are (store.READ_REFERRAL; queries/referral.py).
_PARTNER = sa.bindparam("partner_id", type_=PgUUID(as_uuid=True))
READ_REFERRAL_AS_PARTNER = Prepared(
    "SELECT referral as partner",
    sa.select(
        referrals, history_json(), *_standing(_PARTNER, referrals.c.library, referrals.c.municipality, "partner_")
    ).where(referrals.c.id == sa.bindparam("referral_id")),
)


# --- the municipality's referral agreements ------------------------------------------------------


async def add_agreement(session: AsyncSession, **values: Any) -> sa.Row:
    """Raises IntegrityError where the partner has an agreement in force in the municipality already."""
    a = referral_agreements
    return (await session.execute(a.insert().values(**values).returning(a))).one()


async def lock_agreement(session: AsyncSession, agreement_id: UUID) -> sa.Row | None:
    a = referral_agreements
    return (await session.execute(sa.select(a).where(a.c.id == agreement_id).with_for_update())).first()


async def end_agreement(session: AsyncSession, agreement_id: UUID, *, at: datetime, by: str) -> sa.Row:
    a = referral_agreements
    statement = (
        a.update().where(a.c.id == agreement_id).values(ended_at=at, ended_by=by, version=a.c.version + 1).returning(a)
    )
    return (await session.execute(statement)).one()
