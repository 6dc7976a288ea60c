"""Counts over referrals, which need no personal data and so survive its erasure."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from services.referrals import store
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
    """Figures per library and per referring partner for the municipality overview, within the actor's scope."""
    if actor.role is Role.PARTNER:
        raise Forbidden("the overview is for coordinators, library staff and operators")
    conditions = scope(actor)
    if actor.role is Role.OPERATOR and query.municipality is not None:
        conditions.append(referrals.c.municipality == query.municipality)
    if query.library is not None:
        conditions.append(referrals.c.library == query.library)
    history = store.referral_history
    first_intake = (
        sa.select(history.c.referral_id, sa.func.min(history.c.at).label("planned_at"))
        .where(history.c.step == "plan_intake")
        .group_by(history.c.referral_id)
        .subquery()
    )
    hours_to_intake = sa.extract("epoch", first_intake.c.planned_at - referrals.c.submitted_at) / 3600.0
    async with work.read() as session:
        by_library = await _figures(session, referrals.c.library, conditions, first_intake, hours_to_intake)
        by_partner = await _figures(
            session,
            referrals.c.referring_partner_id,
            [*conditions, referrals.c.referring_partner_id.is_not(None)],
            first_intake,
            hours_to_intake,
        )
    return ReferralsOverviewStatistics(
        libraries=[LibraryReferralFigures(library=key, figures=figures) for key, figures in sorted(by_library.items())],
        partners=[
            PartnerReferralFigures(partner_id=key, figures=figures)
            for key, figures in sorted(by_partner.items(), key=lambda item: str(item[0]))
        ],
    )


async def _figures(
    session: Any,
    key: sa.ColumnElement[Any],
    conditions: list[sa.ColumnElement[bool]],
    first_intake: Any,
    hours_to_intake: sa.ColumnElement[Any],
) -> dict[Any, ReferralFigures]:
    statuses = (
        await session.execute(
            sa.select(key, referrals.c.status, sa.func.count()).where(*conditions).group_by(key, referrals.c.status)
        )
    ).all()
    totals = (
        await session.execute(
            sa.select(
                key,
                sa.func.count().filter(referrals.c.overdue),
                sa.func.count(first_intake.c.planned_at),
                sa.func.percentile_cont(0.5).within_group(hours_to_intake),
            )
            .select_from(referrals.outerjoin(first_intake, first_intake.c.referral_id == referrals.c.id))
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
