"""Counts over referrals, which need no personal data and so survive its erasure."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from services.referrals.queries.lists import scope, submitted_between
from services.referrals.store import referrals
from shared.contracts.referrals.api.referrals import ReferralDirection, ReferralStatus
from shared.contracts.referrals.api.statistics import (
    GetReferralsOverviewStatistics,
    GetReferralStatistics,
    LibraryReferralFigures,
    PartnerReferralFigures,
    ReferralFigures,
    ReferralsOverviewStatistics,
    ReferralStatistics,
)
from shared.errors import Forbidden
from shared.tenancy import Actor, Role
from shared.unit_of_work import UnitOfWork


async def statistics(work: UnitOfWork, actor: Actor, query: GetReferralStatistics) -> ReferralStatistics:
    """Counts over the referrals in the caller's scope; no personal data is needed, so erasure changes none."""
    conditions = scope(actor)
    if query.library is not None:
        conditions.append(referrals.c.library == query.library)
    conditions += submitted_between(query.submitted_from, query.submitted_until)
    completed = referrals.c.status == ReferralStatus.COMPLETED.value

    def count_where(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
        return sa.func.count().filter(condition)

    def outcome_is(field: str) -> sa.ColumnElement[bool]:
        return sa.and_(completed, referrals.c.outcome[field].as_boolean().is_(True))

    to_partner = referrals.c.receiving_partner_id.is_not(None)
    totals = sa.select(
        sa.func.count().label("total"),
        count_where(to_partner).label("to_partner"),
        count_where(referrals.c.overdue).label("overdue_now"),
        count_where(
            sa.and_(referrals.c.overdue_at.is_not(None), referrals.c.status != ReferralStatus.SUBMITTED.value)
        ).label("answered_late"),
        count_where(outcome_is("course_finished")).label("course_finished"),
        count_where(outcome_is("moved_to_work")).label("moved_to_work"),
        count_where(outcome_is("further_education")).label("further_education"),
        count_where(referrals.c.anonymised_at.is_not(None)).label("anonymised"),
    ).where(*conditions)
    by_status = sa.select(referrals.c.status, sa.func.count()).where(*conditions).group_by(referrals.c.status)
    need = sa.func.jsonb_array_elements(referrals.c.needs).table_valued(sa.column("value", JSONB)).alias("need")
    area = need.c.value["area"].astext
    by_need = sa.select(area, sa.func.count()).select_from(referrals).join(need, sa.true()).where(*conditions)
    async with work.read() as session:
        row = (await session.execute(totals)).one()
        statuses = {status: count for status, count in (await session.execute(by_status)).all()}
        needs = {name: count for name, count in (await session.execute(by_need.group_by(area))).all()}
    return ReferralStatistics(
        total=row.total,
        by_status=statuses,
        by_direction={
            ReferralDirection.TO_LIBRARY.value: row.total - row.to_partner,
            ReferralDirection.TO_PARTNER.value: row.to_partner,
        },
        by_need_area=needs,
        overdue_now=row.overdue_now,
        answered_late=row.answered_late,
        completed_with_course_finished=row.course_finished,
        completed_moved_to_work=row.moved_to_work,
        completed_further_education=row.further_education,
        anonymised=row.anonymised,
    )


async def overview_statistics(
    work: UnitOfWork, actor: Actor, query: GetReferralsOverviewStatistics
) -> ReferralsOverviewStatistics:
    """Figures per library and per partner taking part (either direction) for the municipality overview."""
    if actor.role is Role.PARTNER:
        raise Forbidden("the overview is for coordinators, library staff and operators")
    conditions = scope(actor)
    if actor.role is Role.OPERATOR and query.municipality is not None:
        conditions.append(referrals.c.municipality == query.municipality)
    if query.library is not None:
        conditions.append(referrals.c.library == query.library)
    # A partner takes part in a referral by referring it or by receiving it: one row per (partner, referral).
    referring = referrals.c.referring_partner_id
    receiving = referrals.c.receiving_partner_id
    # Each arm filtered by the caller's scope too, so it reads the scope's referrals through their index and not
    # every referral of every municipality (the join below keeps the same rows either way).
    party = sa.union_all(
        sa.select(
            referrals.c.id.label("referral_id"), referring.label("partner_id"), sa.literal(True).label("by")
        ).where(referring.is_not(None), *conditions),
        sa.select(referrals.c.id, receiving, sa.literal(False)).where(receiving.is_not(None), *conditions),
    ).subquery("party")
    async with work.read() as session:
        by_library = await _figures(session, referrals, referrals.c.library, conditions)
        by_partner = await _figures(
            session, referrals.join(party, party.c.referral_id == referrals.c.id), party.c.partner_id, conditions
        )
        directions = {
            (partner_id, by): count
            for partner_id, by, count in (
                await session.execute(
                    sa.select(party.c.partner_id, party.c.by, sa.func.count())
                    .select_from(referrals.join(party, party.c.referral_id == referrals.c.id))
                    .where(*conditions)
                    .group_by(party.c.partner_id, party.c.by)
                )
            ).all()
        }
    return ReferralsOverviewStatistics(
        libraries=[LibraryReferralFigures(library=key, figures=figures) for key, figures in sorted(by_library.items())],
        partners=[
            PartnerReferralFigures(
                partner_id=key,
                figures=figures,
                referred_by_partner=directions.get((key, True), 0),
                referred_to_partner=directions.get((key, False), 0),
            )
            for key, figures in sorted(by_partner.items(), key=lambda item: str(item[0]))
        ],
    )


async def _figures(
    session: Any, source: sa.FromClause, key: sa.ColumnElement[Any], conditions: list[sa.ColumnElement[bool]]
) -> dict[Any, ReferralFigures]:
    held = referrals.c.intake_held_at
    # Until the intake took place, not until it was planned: a planned (or missed) intake counts for nothing. A
    # referral registered after its warm handover had taken place counts 0 hours, not less.
    hours_to_intake = sa.func.greatest(sa.extract("epoch", held - referrals.c.submitted_at) / 3600.0, 0.0)
    statuses = (
        await session.execute(
            sa.select(key, referrals.c.status, sa.func.count())
            .select_from(source)
            .where(*conditions)
            .group_by(key, referrals.c.status)
        )
    ).all()
    totals = (
        await session.execute(
            sa.select(
                key,
                sa.func.count().filter(referrals.c.overdue),
                sa.func.count(held),
                sa.func.percentile_cont(0.5).within_group(hours_to_intake).filter(held.is_not(None)),
            )
            .select_from(source)
            .where(*conditions)
            .group_by(key)
        )
    ).all()
    by_status: dict[Any, dict[str, int]] = {}
    for value, status, count in statuses:
        by_status.setdefault(value, {})[status] = count
    return {
        value: ReferralFigures(
            by_status=by_status.get(value, {}),
            overdue=overdue,
            intakes=intakes,
            median_hours_to_intake=round(float(median), 1) if median is not None else None,
        )
        for value, overdue, intakes, median in totals
    }
