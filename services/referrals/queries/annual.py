"""The referrals part of the annual report: the year's referrals by library, partner, direction and status, summed
over the counters per month of submission (store/figures.py `referral_month_counts`, kept by a trigger), and the
time to their intake, counted over the year's referrals whose intake took place (found by the municipality and the
submission time: `referrals_intakes_by_municipality`)."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa

from services.referrals.store import referrals
from services.referrals.store.figures import referral_month_counts
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
    m = referral_month_counts
    counted = sa.func.coalesce(m.c.receiving_partner_id, m.c.referring_partner_id).label("partner")
    outgoing = m.c.receiving_partner_id.is_not(None).label("outgoing")
    counts = (
        sa.select(m.c.library, counted, outgoing, m.c.status, sa.func.sum(m.c.count).label("number"))
        .where(
            *annual_scope(actor, m.c.municipality, m.c.library, municipality=query.municipality, library=query.library),
            # The months of the year (a month is its first day, in Dutch time, as the year's bounds are).
            m.c.month >= date(query.year, 1, 1),
            m.c.month <= date(query.year, 12, 1),
        )
        .group_by(m.c.library, counted, outgoing, m.c.status)
        .having(sa.func.sum(m.c.count) > 0)
    )
    partner = sa.func.coalesce(r.c.receiving_partner_id, r.c.referring_partner_id).label("partner")
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
