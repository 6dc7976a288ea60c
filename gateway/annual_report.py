"""The annual report of a municipality (staff: their library) for a year on the Dutch calendar: what the network
delivered, per library and per partner, gathered from the services' own records and made safe to publish.

Each service counts its part for the year (`annual_figures`: referrals, courses with purchasing, volunteers); the
partners service names the libraries and partners. This module asks them and publishes the report; the tables
are laid out in gateway/annual_tables.py, and small counts suppressed before anything leaves the gateway (API,
console page, CSV, PDF) as gateway/annual_suppression.py describes.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from typing import Any

import msgspec

from gateway.annual_suppression import THRESHOLD, Table, suppression_rule
from gateway.annual_tables import Gathered, build_tables
from shared.clock import LOCAL_TIME, local_today
from shared.contracts.courses.api import operations as course_ops
from shared.contracts.courses.api.annual import GetAnnualCourseFigures
from shared.contracts.courses.api.statistics import GetCoursesPartnerActs
from shared.contracts.partners.api import operations as partner_ops
from shared.contracts.partners.api.statistics import GetPartnersStatistics
from shared.contracts.referrals.api import operations as referral_ops
from shared.contracts.referrals.api.annual import GetAnnualReferralFigures
from shared.contracts.volunteers.api import operations as volunteer_ops
from shared.contracts.volunteers.api.annual import GetAnnualVolunteerFigures
from shared.contracts.volunteers.api.statistics import GetVolunteerPartnerActs
from shared.errors import Forbidden, PartnernetError
from shared.rpc import RpcClient
from shared.tenancy import Actor, Role

REPORT_DEADLINE_SECONDS = 10.0


class ReportCell(msgspec.Struct, frozen=True):
    """A row of a table as published: a value per column (a number, or "<5" / "*" where hidden)."""

    key: str
    label: str
    values: dict[str, float | str | None]  # a JSON number (an int too), or the mark of a hidden one


class ReportColumn(msgspec.Struct, frozen=True):
    key: str
    label: str
    kind: str


class ReportTable(msgspec.Struct, frozen=True):
    id: str
    title: str
    columns: list[ReportColumn]
    rows: list[ReportCell]


class MissingReportPart(msgspec.Struct, frozen=True):
    part: str
    reason: str


class AnnualReport(msgspec.Struct, frozen=True, kw_only=True):
    municipality: str | None
    library: str | None  # set for a library's own report (staff)
    year: int
    threshold: int
    suppression: str  # the rule, in words
    complete: bool
    missing: list[MissingReportPart]
    tables: list[ReportTable]
    generated_at: datetime


async def gather(
    rpc: RpcClient, actor: Actor, year: int, municipality: str | None
) -> tuple[Gathered, list[MissingReportPart]]:
    if actor.role is Role.PARTNER:
        raise Forbidden("the annual report is for coordinators, library staff and operators")
    if actor.role is not Role.OPERATOR:
        municipality = actor.municipality
    library = actor.library if actor.role is Role.STAFF else None
    deadline = min(rpc.timeout * 2, REPORT_DEADLINE_SECONDS)
    first, last = date(year, 1, 1), date(year, 12, 31)

    async def ask(part: str, operation: Any, body: Any) -> Any:
        try:
            return await rpc.call(operation, actor, body, timeout=deadline)
        except PartnernetError as exc:
            return MissingReportPart(part=part, reason=exc.detail)

    answers = await asyncio.gather(
        ask(
            "names", partner_ops.PARTNERS_STATISTICS, GetPartnersStatistics(municipality=municipality, library=library)
        ),
        ask(
            "referrals",
            referral_ops.REFERRALS_ANNUAL_FIGURES,
            GetAnnualReferralFigures(year=year, municipality=municipality, library=library),
        ),
        ask(
            "courses",
            course_ops.COURSES_ANNUAL_FIGURES,
            GetAnnualCourseFigures(year=year, municipality=municipality, library=library),
        ),
        ask(
            "volunteers",
            volunteer_ops.VOLUNTEERS_ANNUAL_FIGURES,
            GetAnnualVolunteerFigures(year=year, municipality=municipality, library=library),
        ),
        ask(
            "volunteer_acts",
            volunteer_ops.VOLUNTEER_PARTNER_ACTS,
            GetVolunteerPartnerActs(period_from=first, period_until=last, municipality=municipality, library=library),
        ),
        ask(
            "course_acts",
            course_ops.COURSES_PARTNER_ACTS,
            GetCoursesPartnerActs(period_from=first, period_until=last, municipality=municipality, library=library),
        ),
    )
    missing = [answer for answer in answers if isinstance(answer, MissingReportPart)]
    names, referrals, courses, volunteers, volunteer_acts, course_acts = (
        None if isinstance(a, MissingReportPart) else a for a in answers
    )
    return Gathered(names, referrals, courses, volunteers, volunteer_acts, course_acts), missing


async def annual_report(
    rpc: RpcClient, actor: Actor, year: int | None, municipality: str | None, lang: str
) -> tuple[AnnualReport, list[Table]]:
    year = year or local_today().year
    gathered, missing = await gather(rpc, actor, year, municipality)
    tables = build_tables(gathered, actor, lang)
    report = AnnualReport(
        municipality=municipality if actor.role is Role.OPERATOR else actor.municipality,
        library=actor.library if actor.role is Role.STAFF else None,
        year=year,
        threshold=THRESHOLD,
        suppression=suppression_rule(lang),
        complete=not missing,
        missing=missing,
        tables=[published(table) for table in tables],
        generated_at=datetime.now(LOCAL_TIME),
    )
    return report, tables


def published(table: Table) -> ReportTable:
    return ReportTable(
        id=table.id,
        title=table.title,
        columns=[ReportColumn(c.key, table.labels[c.key], c.kind) for c in table.columns],
        rows=[
            ReportCell(row.key, row.label, {c.key: table.cell(row, c.key) for c in table.columns}) for row in table.rows
        ],
    )
