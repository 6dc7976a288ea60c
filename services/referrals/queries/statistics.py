"""Counts over referrals, which need no personal data and so survive its erasure."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from services.referrals.queries.referral_list import scope, submitted_between
from services.referrals.store import referrals
from services.referrals.store.figures import OVERVIEW, PERIOD_STATISTICS, STATISTICS
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
    """Counts over the referrals in the caller's scope; no personal data is needed, so erasure changes none.

    From the read model (store/figures.py), a sum over its counters; a period of whole months of submission (a
    month, a quarter, a year, or open at either end) over the counters per month; any other period is a filter
    the counters do not keep, so those figures are counted over the period's referrals."""
    if query.submitted_from is None and query.submitted_until is None:
        return await statistics_of_counts(work, actor, query)
    months = whole_months(query.submitted_from, query.submitted_until)
    if months is None:
        return await statistics_of_referrals(work, actor, query)
    return await statistics_of_counts(work, actor, query, months=months)


def whole_months(first: date | None, last: date | None) -> tuple[date, date] | None:
    """The first and last month (each as its first day) of a period from the first day of a month to the last
    day of one, either end open; None for a period that cuts a month."""
    if first is not None and first.day != 1:
        return None
    if last is not None and (last + timedelta(days=1)).day != 1:
        return None
    return (first or date.min, last.replace(day=1) if last is not None else date.max.replace(day=1))


async def statistics_of_counts(
    work: UnitOfWork, actor: Actor, query: GetReferralStatistics, *, months: tuple[date, date] | None = None
) -> ReferralStatistics:
    """From the read model in one statement on a direct connection (store/figures.py STATISTICS): three
    statements through the session cost ~5 ms of CPU where PostgreSQL spends a fraction of one (issue 25).
    With `months` (first, last), over the counters of those months of submission (PERIOD_STATISTICS)."""
    values: dict[str, Any] = {}
    if months is not None:
        values["first_month"], values["last_month"] = months
    if actor.role is Role.STAFF:
        values["own_library"] = actor.library
    elif actor.role is Role.PARTNER:
        try:
            values["partner"] = UUID(actor.partner or "")
        except ValueError as exc:
            raise Forbidden("the token names no partner") from exc
    elif actor.role is Role.COORDINATOR:
        values["municipality"] = actor.municipality
    if query.library is not None:
        values["library"] = query.library
    async with work.direct() as db:
        statements = STATISTICS if months is None else PERIOD_STATISTICS
        rows = await db.fetch(statements[(actor.role.value, query.library is not None)], **values)
    statuses = {r.key: int(r.number) for r in rows if r.kind == "status"}
    needs = {r.key: int(r.number) for r in rows if r.kind == "need"}
    flag = {r.kind: int(r.number) for r in rows if r.kind not in ("status", "need")}
    total = sum(statuses.values())
    return ReferralStatistics(
        total=total,
        by_status=statuses,
        by_direction={
            ReferralDirection.TO_LIBRARY.value: total - flag["to_partner"],
            ReferralDirection.TO_PARTNER.value: flag["to_partner"],
        },
        by_need_area=needs,
        overdue_now=flag["overdue_now"],
        answered_late=flag["answered_late"],
        completed_with_course_finished=flag["course_finished"],
        completed_moved_to_work=flag["moved_to_work"],
        completed_further_education=flag["further_education"],
        anonymised=flag["anonymised"],
    )


async def statistics_of_referrals(work: UnitOfWork, actor: Actor, query: GetReferralStatistics) -> ReferralStatistics:
    """The same figures counted over the referrals themselves: for a period of submission."""
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
    """Figures per library and per partner taking part (either direction) for the municipality overview, from the
    read model (store/figures.py) in one statement on a direct connection: sums over the counters and the medians
    over the intakes. Its own cost is a fraction of a millisecond in PostgreSQL at any volume; seven statements
    through the session cost ~13 ms of CPU (issue 25)."""
    if actor.role is Role.PARTNER:
        raise Forbidden("the overview is for coordinators, library staff and operators")
    municipality, library = query.municipality if actor.role is Role.OPERATOR else None, query.library
    nothing = ReferralsOverviewStatistics(libraries=[], partners=[])
    if actor.role is Role.COORDINATOR:
        if actor.municipality is None:
            return nothing  # as the scope on the referrals (a municipality that is none matches no row)
        municipality = actor.municipality
    elif actor.role is Role.STAFF:
        if actor.library is None or (library is not None and library != actor.library):
            return nothing
        library = actor.library
    values = {
        name: value for name, value in (("municipality", municipality), ("library", library)) if value is not None
    }
    async with work.direct() as db:
        rows = await db.fetch(OVERVIEW[(municipality is not None, library is not None)], **values)
    return ReferralsOverviewStatistics(
        libraries=[
            LibraryReferralFigures(library=key, figures=figures)
            for key, figures in sorted(_figures(rows, "library").items())
        ],
        partners=[
            PartnerReferralFigures(
                partner_id=UUID(key),
                figures=figures,
                referred_by_partner=_sum(rows, key, by=True),
                referred_to_partner=_sum(rows, key, by=False),
            )
            for key, figures in sorted(_figures(rows, "partner").items())
        ],
    )


def _sum(rows: list[Any], key: str, *, by: bool) -> int:
    """A partner's referrals in one direction: referred by it (`by`) or to it."""
    return sum(int(r.number) for r in rows if r.side == "partner" and r.key == key and r.by is by)


def _figures(rows: list[Any], side: str) -> dict[str, ReferralFigures]:
    """Per key of one side (libraries, partners): its counters by status and overdue, and its intakes with their
    median; a key whose counters add up to nothing is left out."""
    by_status: dict[str, dict[str, int]] = {}
    overdue: dict[str, int] = {}
    held: dict[str, tuple[int, float | None]] = {}
    for r in rows:
        if r.side != side:
            continue
        if r.status is None:
            held[r.key] = (int(r.intakes), r.median)
            continue
        statuses = by_status.setdefault(r.key, {})
        statuses[r.status] = statuses.get(r.status, 0) + int(r.number)
        overdue[r.key] = overdue.get(r.key, 0) + int(r.overdue)
    figures = {}
    for key, statuses in by_status.items():
        shown = {status: number for status, number in statuses.items() if number > 0}
        if not shown:
            continue
        intakes, median = held.get(key, (0, None))
        figures[key] = ReferralFigures(
            by_status=shown,
            overdue=overdue[key],
            intakes=intakes,
            median_hours_to_intake=round(float(median), 1) if median is not None else None,
        )
    return figures
