"""The annual report in the console (coordinators: their municipality; staff: their library; operators: the one
they name): every table with the rule that hid its small counts, a chart per subject, and the report as a PDF and
one CSV per table. The same report as GET /api/v1/reports/annual (gateway/annual_report.py)."""

from __future__ import annotations

import dataclasses
from typing import Annotated

from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.params import Parameter

from gateway.annual_files import PdfChart
from gateway.annual_report import AnnualReport, ReportTable, annual_report
from gateway.annual_suppression import HIDDEN, SMALL
from gateway.console.charts import Chart, stacked
from gateway.console.session import Visitor
from gateway.console.views import page
from gateway.dependencies import SlugQuery
from gateway.reports import YearQuery, charts, check_table, csv_response, pdf_response, show_value
from shared.clock import local_today
from shared.rpc import RpcClient
from shared.tenancy import Role

YEARS_BACK = 5
TableName = Annotated[str, Parameter(max_length=100)]
# The totals a chart's bars are labelled with: the table's column, or (none) the sum of what is shown.
BAR_TOTALS = {
    "referrals-by-library": "total",
    "referrals-by-partner": "total",
    "courses-by-library": "enrolled",
    "training-by-library": "budget",
}


def chart_of(visitor: Visitor, spec: PdfChart, table: ReportTable) -> Chart:
    """A stacked bar per row (not the total row) of what the table shows: a hidden value draws no bar and keeps its
    mark in the chart's table, so the chart tells nothing the table does not."""
    kinds = {column.key: column.kind for column in table.columns}
    rows = [row for row in table.rows if row.key != "total"]

    def number(value: object) -> int:
        return round(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0

    chart = stacked(
        spec.table,
        spec.title,
        [(row.label, {key: number(row.values.get(key)) for key, _ in spec.keys}) for row in rows],
        spec.keys,
    )
    bars = []
    for bar, row in zip(chart.bars, rows, strict=True):
        segments = [
            dataclasses.replace(s, text=show_value(visitor.lang, row.values.get(s.key), kinds[s.key]))
            for s in bar.segments
        ]
        total_key = BAR_TOTALS.get(spec.table)
        if total_key is not None:
            total = show_value(visitor.lang, row.values.get(total_key), kinds.get(total_key, "people"))
        elif any(row.values.get(key) in (SMALL, HIDDEN) for key, _ in spec.keys):
            total = HIDDEN
        else:
            total = show_value(visitor.lang, sum(number(row.values.get(key)) for key, _ in spec.keys), "people")
        bars.append(dataclasses.replace(bar, segments=segments, total_text=total))
    series = [(key, label) for key, label in spec.keys if any(row.values.get(key) for row in rows)]
    description = visitor.t("annual.chart_description", table=table.title)
    return dataclasses.replace(chart, bars=bars, series=series or chart.series, description=description)


class AnnualReportPages(Controller):
    path = "/annual-report"

    async def _report(
        self, visitor: Visitor, rpc: RpcClient, year: int | None, municipality: str | None
    ) -> AnnualReport:
        actor = visitor.signed_in(Role.COORDINATOR, Role.STAFF, Role.OPERATOR)
        report, _ = await annual_report(rpc, actor, year, municipality, visitor.lang)
        return report

    @get("/")
    async def report_page(
        self,
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
        year: YearQuery = None,
        municipality: SlugQuery = None,
    ) -> Response[str]:
        report = await self._report(visitor, rpc, year, municipality)
        specs = {spec.table: spec for spec in charts(visitor.lang)}
        tables = {table.id: table for table in report.tables}
        this_year = local_today().year
        return page(
            visitor,
            "annual_report.html",
            section="annual_report",
            r=report,
            place=place_of(visitor, report),
            charts={
                table_id: chart_of(visitor, spec, tables[table_id])
                for table_id, spec in specs.items()
                if table_id in tables
            },
            show=lambda value, kind: show_value(visitor.lang, value, kind),
            years=list(range(this_year, this_year - YEARS_BACK, -1)),
            municipality=municipality if visitor.role is Role.OPERATOR else None,
            query=query_of(report, municipality if visitor.role is Role.OPERATOR else None),
        )

    @get("/pdf")
    async def report_pdf(
        self,
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
        year: YearQuery = None,
        municipality: SlugQuery = None,
    ) -> Response[bytes]:
        report = await self._report(visitor, rpc, year, municipality)
        return pdf_response(report, visitor.lang, place_of(visitor, report))

    @get("/csv/{table:str}")
    async def table_csv(
        self,
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
        table: TableName,
        year: YearQuery = None,
        municipality: SlugQuery = None,
    ) -> Response[str]:
        check_table(visitor.signed_in(Role.COORDINATOR, Role.STAFF, Role.OPERATOR), table)
        report = await self._report(visitor, rpc, year, municipality)
        return csv_response(report, table)


def place_of(visitor: Visitor, report: AnnualReport) -> str:
    """The library's name for its own report (the report's rows carry it), else the municipality."""
    if report.library is not None:
        for table in report.tables:
            for row in table.rows:
                if row.key == report.library:
                    return row.label
        return report.library
    return report.municipality or visitor.t("overview.all_municipalities")


def query_of(report: AnnualReport, municipality: str | None) -> str:
    return f"year={report.year}" + (f"&municipality={municipality}" if municipality else "")
