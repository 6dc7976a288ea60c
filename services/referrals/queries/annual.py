"""The referrals part of the annual report: the year's referrals by library, partner, direction and status, and
the time to their intake. Counted over the referrals themselves (the read models keep no dates): a report is
asked for seldom, and the year's referrals of a municipality are found by their submission time."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from services.referrals.store import referrals
from shared.contracts.referrals.api.annual import (
    AnnualReferralFigures,
    GetAnnualReferralFigures,
    IntakeYearFigures,
    ReferralYearCount,
)
from shared.contracts.referrals.api.referrals import ReferralDirection
from shared.reporting import annual_scope, year_bounds
from shared.tenancy import Actor
from shared.unit_of_work import UnitOfWork

r = referrals


async def annual_figures(work: UnitOfWork, actor: Actor, query: GetAnnualReferralFigures) -> AnnualReferralFigures:
    start, end = year_bounds(query.year)
    where = [
        *annual_scope(actor, r.c.municipality, r.c.library, municipality=query.municipality, library=query.library),
        r.c.submitted_at >= start,
        r.c.submitted_at < end,
    ]
    partner = sa.func.coalesce(r.c.receiving_partner_id, r.c.referring_partner_id).label("partner")
    outgoing = r.c.receiving_partner_id.is_not(None).label("outgoing")
    counts = (
        sa.select(r.c.library, partner, outgoing, r.c.status, sa.func.count().label("number"))
        .where(*where)
        .group_by(r.c.library, partner, outgoing, r.c.status)
    )
    # As the overview counts it: until the intake took place, and 0 for one registered after it.
    hours = sa.func.greatest(sa.extract("epoch", r.c.intake_held_at - r.c.submitted_at) / 3600.0, 0.0)
    held = [*where, r.c.intake_held_at.is_not(None)]

    def intakes(*group: Any) -> sa.Select[Any]:
        return (
            sa.select(*group, sa.func.count().label("intakes"), sa.func.percentile_cont(0.5).within_group(hours))
            .where(*held)
            .group_by(*group)
        )

    async with work.read() as session:
        rows = (await session.execute(counts)).all()
        by_library = (await session.execute(intakes(r.c.library))).all()
        by_partner = (await session.execute(intakes(partner).having(partner.is_not(None)))).all()
        overall = (await session.execute(intakes())).one()
    return AnnualReferralFigures(
        year=query.year,
        counts=[
            ReferralYearCount(
                library=row.library,
                partner_id=row.partner,
                direction=ReferralDirection.TO_PARTNER if row.outgoing else ReferralDirection.TO_LIBRARY,
                status=row.status,
                count=int(row.number),
            )
            for row in rows
        ],
        intakes=[
            *(
                IntakeYearFigures(library=row[0], intakes=int(row[1]), median_hours=_hours(row[2]))
                for row in by_library
            ),
            *(
                IntakeYearFigures(partner_id=row[0], intakes=int(row[1]), median_hours=_hours(row[2]))
                for row in by_partner
            ),
            IntakeYearFigures(intakes=int(overall[0]), median_hours=_hours(overall[1])),
        ],
    )


def _hours(value: Any) -> float | None:
    return None if value is None else round(float(value), 2)
