"""The annual report over HTTP: as JSON, one CSV per table and a PDF (gateway/annual_report.py gathers and
suppresses; gateway/annual_files.py writes the files). Coordinators get their municipality, staff their library,
operators the municipality they name; partners are refused."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.params import FromQuery, Parameter

from gateway.annual_files import PdfChart, csv_of, pdf_of
from gateway.annual_report import AnnualReport, annual_report
from gateway.annual_suppression import HIDDEN, SMALL
from gateway.annual_tables import OUTCOMES, TABLES
from gateway.console.messages import translate
from gateway.console.views import Formats
from gateway.dependencies import MunicipalityQuery
from gateway.problems import READ_PROBLEMS, problem_responses
from shared.contracts.vocabulary import FIRST_YEAR, LAST_YEAR
from shared.errors import Forbidden, NotFound
from shared.rpc import RpcClient
from shared.tenancy import Actor, Role

YearQuery = FromQuery[
    Annotated[int | None, Parameter(ge=FIRST_YEAR, le=LAST_YEAR, description="the year (default: this one)")]
]
LangQuery = FromQuery[Annotated[str, Parameter(pattern="^(nl|en)$", description="the language of labels")]]
TablePath = Annotated[str, Parameter(max_length=100, description="a table's id, as the report names it")]

DESCRIPTION = (
    "For a year of the Dutch calendar, per library and per partner, from the services' own records: referrals "
    "submitted in the year by direction (to the library from a partner, `in`; to a partner, `out`) and where they "
    "stand now (`open`, or closed as `completed`, `declined`, `withdrawn`, `no_show`, `expired`), their intakes "
    "held and the median days from submission to intake; groups of courses whose first meeting was in the year "
    "(not cancelled) with places, confirmed enrolments, those present at a meeting or more, and the share of "
    "attendance marks that were present; volunteers and interns with hours logged for a day of the year, and "
    "those hours; training bought on the year's budget (a purchase's budget year): the budget, committed, spent, "
    "available, purchases approved or further, delivered, and their participants. No personal data. A count of "
    'people from 1 to 4 is shown as "<5"; a figure over fewer than 5 people, or one from which a hidden count '
    'could be worked out with a total, is shown as "*" (`suppression` says so in words).'
)


def charts(lang: str) -> list[PdfChart]:
    """The report's charts, on the page and in the PDF: what each draws of which table."""

    def t(key: str) -> str:
        return translate(lang, key)

    return [
        PdfChart(
            "referrals-by-library",
            t("annual.chart.referrals_by_library"),
            [(key, t(f"annual.referrals.{key}")) for key in OUTCOMES],
        ),
        PdfChart(
            "referrals-by-partner",
            t("annual.chart.referrals_by_partner"),
            [("in", t("annual.referrals.from_partner")), ("out", t("annual.referrals.to_partner"))],
        ),
        PdfChart(
            "courses-by-library", t("annual.chart.courses_by_library"), [("enrolled", t("annual.courses.enrolled"))]
        ),
        PdfChart(
            "volunteers-by-library",
            t("annual.chart.volunteers_by_library"),
            [
                ("volunteer_hours", t("annual.volunteers.volunteer_hours")),
                ("intern_hours", t("annual.volunteers.intern_hours")),
            ],
        ),
        PdfChart(
            "training-by-library",
            t("annual.chart.training_by_library"),
            [(key, t(f"annual.purchases.{key}")) for key in ("spent", "committed", "available")],
        ),
    ]


def show_value(lang: str, value: object, kind: str) -> str:
    """A published value as the reader's language writes it; hidden values keep their mark."""
    formats = Formats(lang)
    if value is None:
        return "–"
    if value in (SMALL, HIDDEN) or isinstance(value, str):
        return str(value)
    if kind == "money" and isinstance(value, int):
        return formats.money(value)
    if isinstance(value, int | float):
        return formats.number(value)
    return str(value)


def report_heading(report: AnnualReport, lang: str, place: str) -> tuple[str, str]:
    title = translate(lang, "annual.title", year=report.year)
    return title, translate(lang, "annual.lead", place=place, year=report.year)


def pdf_document(report: AnnualReport, lang: str, place: str) -> bytes:
    title, subtitle = report_heading(report, lang, place)
    return pdf_of(
        report,
        title=title,
        subtitle=subtitle,
        show=lambda value, kind: show_value(lang, value, kind),
        charts=charts(lang),
    )


def check_table(actor: Actor, table_id: str) -> None:
    """Before the report is gathered: a partner is refused, an unknown table is not found."""
    if actor.role is Role.PARTNER:
        raise Forbidden("the annual report is for coordinators, library staff and operators")
    if table_id not in TABLES:
        raise NotFound(f"the annual report has no table {table_id}")


def csv_response(report: AnnualReport, table_id: str) -> Response[str]:
    table = next((table for table in report.tables if table.id == table_id), None)
    if table is None:
        raise NotFound(f"the annual report has no table {table_id}")
    place = report.library or report.municipality or "all"
    return Response(
        csv_of(report, table),
        media_type="text/csv",  # Litestar adds `; charset=utf-8` to a text type (given here too, it was said twice)
        headers={
            "Content-Disposition": f'attachment; filename="annual-report-{place}-{report.year}-{table.id}.csv"',
            "Cache-Control": "no-store",
        },
    )


def pdf_response(report: AnnualReport, lang: str, place: str) -> Response[bytes]:
    name = report.library or report.municipality or "all"
    return Response(
        pdf_document(report, lang, place),
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="annual-report-{name}-{report.year}.pdf"',
            "Cache-Control": "no-store",
        },
    )


class AnnualReportController(Controller):
    path = "/api/v1/reports/annual"
    tags = ["reports"]

    @get(
        "/",
        summary="The annual report: per library and per partner, small counts suppressed",
        description=DESCRIPTION,
        responses=problem_responses(*READ_PROBLEMS),
    )
    async def report(
        self,
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        year: YearQuery = None,
        municipality: MunicipalityQuery = None,  # operators: the municipality
        lang: LangQuery = "en",
    ) -> AnnualReport:
        report, _ = await annual_report(rpc, actor, year, municipality, lang)
        return report

    @get(
        "/csv/{table:str}",
        summary="One table of the annual report as CSV",
        media_type="text/csv; charset=utf-8",  # the document says what comes back (the contract test holds it to it)
        responses=problem_responses(*READ_PROBLEMS),
    )
    async def table_csv(
        self,
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        table: TablePath,
        year: YearQuery = None,
        municipality: MunicipalityQuery = None,
        lang: LangQuery = "en",
    ) -> Response[str]:
        check_table(actor, table)
        report, _ = await annual_report(rpc, actor, year, municipality, lang)
        return csv_response(report, table)

    @get(
        "/pdf",
        summary="The annual report as PDF, with its charts",
        media_type="application/pdf",
        responses=problem_responses(*READ_PROBLEMS),
    )
    async def report_pdf(
        self,
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        year: YearQuery = None,
        municipality: MunicipalityQuery = None,
        lang: LangQuery = "en",
    ) -> Response[bytes]:
        report, _ = await annual_report(rpc, actor, year, municipality, lang)
        place = report.library or report.municipality or translate(lang, "overview.all_municipalities")
        return pdf_response(report, lang, place)
