"""The annual report of a municipality (staff: their library) for a year on the Dutch calendar: what the network
delivered, per library and per partner, gathered from the services' own records and made safe to publish.

Each service counts its part for the year (`annual_figures`: referrals, courses with purchasing, volunteers); the
partners service names the libraries and partners. The services send counts; this module suppresses small ones
before anything leaves the gateway (API, console page, CSV, PDF):

- a count of people from 1 to THRESHOLD - 1 is shown as "<5" (0 is shown: it names nobody);
- a figure worked out over such people (a median, a rate, hours) is hidden ("*") when fewer than THRESHOLD are
  behind it;
- where a hidden count could be worked out from a total (a row's parts and its total, a column's rows and the
  total row), the next smallest count is hidden too ("*"), or else the total.
Money (budgets, amounts spent) and counts of things (courses, groups, places, purchases) name nobody and are
shown as they are.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import msgspec

from gateway.console.messages import translate
from shared.clock import LOCAL_TIME, local_today
from shared.contracts.courses.api import operations as course_ops
from shared.contracts.courses.api.annual import AnnualCourseFigures, GetAnnualCourseFigures
from shared.contracts.courses.api.statistics import CoursesPartnerActs, GetCoursesPartnerActs
from shared.contracts.partners.api import operations as partner_ops
from shared.contracts.partners.api.statistics import GetPartnersStatistics, PartnersStatistics
from shared.contracts.referrals.api import operations as referral_ops
from shared.contracts.referrals.api.annual import AnnualReferralFigures, GetAnnualReferralFigures
from shared.contracts.referrals.api.referrals import ReferralDirection
from shared.contracts.volunteers.api import operations as volunteer_ops
from shared.contracts.volunteers.api.annual import AnnualVolunteerFigures, GetAnnualVolunteerFigures
from shared.contracts.volunteers.api.statistics import GetVolunteerPartnerActs, VolunteersPartnerActs
from shared.errors import Forbidden, PartnernetError
from shared.rpc import RpcClient
from shared.tenancy import Actor, Role

THRESHOLD = 5
SMALL = f"<{THRESHOLD}"
HIDDEN = "*"
REPORT_DEADLINE_SECONDS = 10.0

# How the referrals' statuses are reported: closed by their outcome, the rest still running.
OUTCOMES = ("open", "completed", "declined", "withdrawn", "no_show", "expired")
OPEN_STATUSES = frozenset({"submitted", "accepted", "intake_planned", "intake_held", "enrolled"})

TOTAL = "total"
NO_PARTNER = "none"
TABLES = (
    "referrals-by-library",
    "referrals-by-partner",
    "courses-by-library",
    "courses-by-partner",
    "training-by-library",
    "training-by-partner",
    "volunteers-by-library",
    "volunteers-by-partner",
    "partner-acts",
)


@dataclass(frozen=True)
class Column:
    key: str
    kind: str  # "people" (suppressed), "things" (courses, purchases: shown), "money", "derived" (over `base`)
    base: tuple[str, ...] = ()  # a derived figure's people: hidden when they are fewer than THRESHOLD
    additive: bool = True  # the rows add up to the total row
    decimals: int = 0


@dataclass
class Row:
    key: str  # a library's slug, a partner's id, NO_PARTNER or TOTAL
    label: str
    values: dict[str, float | int | None]
    hidden: dict[str, str] = field(default_factory=dict)  # column → SMALL or HIDDEN


@dataclass
class Table:
    id: str
    title: str
    columns: list[Column]
    labels: dict[str, str]
    rows: list[Row]
    sums: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)  # in a row: total = the parts

    def cell(self, row: Row, key: str) -> float | int | str | None:
        """What may be published: the value, or the mark that hides it."""
        return row.hidden.get(key, row.values.get(key))

    def has_total(self) -> bool:
        return any(row.key == TOTAL for row in self.rows)


def suppress(table: Table) -> Table:
    """Marks in place what may not be shown (see the module's note); returns the table."""
    columns = {column.key: column for column in table.columns}
    for row in table.rows:
        for column in table.columns:
            value = row.values.get(column.key)
            if column.kind == "people" and isinstance(value, int) and 0 < value < THRESHOLD:
                row.hidden[column.key] = SMALL
            elif column.kind == "derived":
                base = sum(int(row.values.get(key) or 0) for key in column.base)
                if 0 < base < THRESHOLD:
                    row.hidden[column.key] = HIDDEN
    counted = [c.key for c in table.columns if c.kind in ("people", "derived") and c.additive]

    def hide_one_more(cells: list[tuple[Row, str]], total: tuple[Row, str]) -> bool:
        """`cells` add up to `total`: with exactly one of them hidden and the total shown, hide another."""
        total_row, total_key = total
        if total_key in total_row.hidden or sum(key in row.hidden for row, key in cells) != 1:
            return False
        shown = [(row, key) for row, key in cells if key not in row.hidden and (row.values.get(key) or 0) > 0]
        if shown:
            row, key = min(shown, key=lambda cell: cell[0].values.get(cell[1]) or 0)
            row.hidden[key] = HIDDEN
        else:
            total_row.hidden[total_key] = HIDDEN
        return True

    changed = True
    while changed:
        changed = False
        for row in table.rows:
            for total_key, parts in table.sums:
                changed |= hide_one_more([(row, key) for key in parts], (row, total_key))
        totals = [row for row in table.rows if row.key == TOTAL]
        if totals:
            parts_rows = [row for row in table.rows if row.key != TOTAL]
            for key in counted:
                if columns[key].additive:
                    changed |= hide_one_more([(row, key) for row in parts_rows], (totals[0], key))
    return table


# --- the report --------------------------------------------------------------------------------------------


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


@dataclass
class Gathered:
    names: PartnersStatistics | None
    referrals: AnnualReferralFigures | None
    courses: AnnualCourseFigures | None
    volunteers: AnnualVolunteerFigures | None
    missing: list[MissingReportPart]
    # what each partner did for the libraries (issue 24): the services' partner_acts over the year
    volunteer_acts: VolunteersPartnerActs | None = None
    course_acts: CoursesPartnerActs | None = None


async def gather(rpc: RpcClient, actor: Actor, year: int, municipality: str | None) -> Gathered:
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
    return Gathered(names, referrals, courses, volunteers, missing, volunteer_acts, course_acts)


def _rows_of(
    keys: Iterable[str],
    label: Callable[[str], str],
    values: Callable[[str], dict[str, float | int | None]],
) -> list[Row]:
    return [Row(key, label(key), values(key)) for key in keys]


def build_tables(gathered: Gathered, actor: Actor, lang: str) -> list[Table]:
    t = _words(lang)
    library_names = {lib.library: lib.name for lib in gathered.names.libraries} if gathered.names else {}
    partner_names = {str(p.partner_id): p.name for p in gathered.names.partners} if gathered.names else {}
    if actor.role is Role.STAFF:
        library_names = {slug: name for slug, name in library_names.items() if slug == actor.library}
        library_names.setdefault(actor.library or "", actor.library or "")

    def library_label(key: str) -> str:
        return t("annual.row_total") if key == TOTAL else library_names.get(key, key)

    def partner_label(key: str) -> str:
        if key == NO_PARTNER:
            return t("annual.row_no_partner")
        return partner_names.get(key, key[:8])

    def ordered_partners(keys: Iterable[str]) -> list[str]:
        return sorted(set(keys), key=lambda k: (k == NO_PARTNER, partner_label(k).lower(), k))

    libraries = sorted(library_names, key=lambda slug: (library_names[slug].lower(), slug))
    tables: list[Table] = []
    if gathered.referrals is not None:
        tables += _referral_tables(gathered.referrals, libraries, library_label, ordered_partners, partner_label, t)
    if gathered.courses is not None:
        tables += _course_tables(gathered.courses, libraries, library_label, ordered_partners, partner_label, t)
    if gathered.volunteers is not None:
        tables += _volunteer_tables(gathered.volunteers, libraries, library_label, ordered_partners, partner_label, t)
    if gathered.volunteer_acts is not None or gathered.course_acts is not None:
        tables.append(_partner_acts_table(gathered, ordered_partners, partner_label, t))
    return [suppress(table) for table in tables]


# What partners did for the libraries (issue 24), per partner; a part whose service did not answer stays empty.
PARTNER_ACTS = (
    Column("trainings_given", "things"),
    Column("training_attendances", "people"),
    Column("interns_supplied", "people"),
    Column("intern_hours", "derived", base=("interns_supplied",), decimals=1),
    Column("partner_run_courses", "things"),
    Column("partner_run_enrolments", "people"),
    Column("education_requests", "things"),
    Column("education_requests_planned", "things"),
    Column("education_requests_declined", "things"),
    Column("education_places_taken", "people"),
)


def _partner_acts_table(
    gathered: Gathered,
    ordered_partners: Callable[[Iterable[str]], list[str]],
    partner_label: Callable[[str], str],
    t: Callable[..., str],
) -> Table:
    by_partner: dict[str, dict[str, float | int | None]] = {}
    answered = [acts for acts in (gathered.volunteer_acts, gathered.course_acts) if acts is not None]
    for acts in answered:
        for partner in acts.partners:
            values = {k: v for k, v in msgspec.structs.asdict(partner).items() if k != "partner_id"}
            if "intern_minutes" in values:
                values["intern_hours"] = round(int(values.pop("intern_minutes") or 0) / 60, 1)
            by_partner.setdefault(str(partner.partner_id), {}).update(values)
    columns = list(PARTNER_ACTS)
    labels = {column.key: t(f"annual.partner_acts.{column.key}") for column in columns}
    return Table(
        "partner-acts",
        t("annual.table.partner_acts"),
        columns,
        labels,
        _rows_of(ordered_partners(by_partner), partner_label, lambda key: by_partner[key]),
    )


def _words(lang: str) -> Callable[..., str]:
    return lambda key, **values: translate(lang, key, **values)


def _referral_tables(
    figures: AnnualReferralFigures,
    libraries: list[str],
    library_label: Callable[[str], str],
    ordered_partners: Callable[[Iterable[str]], list[str]],
    partner_label: Callable[[str], str],
    t: Callable[..., str],
) -> list[Table]:
    def empty() -> dict[str, float | int | None]:
        return {"in": 0, "out": 0, "total": 0, **{o: 0 for o in OUTCOMES}, "intakes": 0, "median_days": None}

    by_library: dict[str, dict[str, float | int | None]] = {key: empty() for key in [*libraries, TOTAL]}
    by_partner: dict[str, dict[str, float | int | None]] = {}
    for count in figures.counts:
        side = "out" if count.direction is ReferralDirection.TO_PARTNER else "in"
        outcome = "open" if count.status in OPEN_STATUSES else count.status
        partner = str(count.partner_id) if count.partner_id else NO_PARTNER
        rows = [
            by_library.setdefault(count.library, empty()),
            by_library[TOTAL],
            by_partner.setdefault(partner, empty()),
        ]
        for row in rows:
            for key in (side, "total", outcome):
                row[key] = int(row.get(key) or 0) + count.count
    for intake in figures.intakes:
        key = intake.library or (str(intake.partner_id) if intake.partner_id else TOTAL)
        target = by_partner if intake.partner_id else by_library
        row = target.setdefault(key, empty())
        row["intakes"] = intake.intakes
        row["median_days"] = None if intake.median_hours is None else round(intake.median_hours / 24, 1)
    columns = [
        Column("in", "people"),
        Column("out", "people"),
        Column("total", "people"),
        *(Column(outcome, "people") for outcome in OUTCOMES),
        Column("intakes", "people"),
        Column("median_days", "derived", base=("intakes",), additive=False, decimals=1),
    ]
    labels = {column.key: t(f"annual.referrals.{column.key}") for column in columns}
    sums = [("total", ("in", "out")), ("total", OUTCOMES)]
    library_keys = [key for key in by_library if key != TOTAL] + [TOTAL]
    partner_keys = ordered_partners(by_partner)
    return [
        Table(
            "referrals-by-library",
            t("annual.table.referrals_by_library"),
            columns,
            labels,
            _rows_of(library_keys, library_label, lambda key: by_library[key]),
            sums,
        ),
        Table(
            "referrals-by-partner",
            t("annual.table.referrals_by_partner"),
            columns,
            labels | {"in": t("annual.referrals.from_partner"), "out": t("annual.referrals.to_partner")},
            _rows_of(partner_keys, partner_label, lambda key: by_partner[key]),
            sums,
        ),
    ]


def _course_tables(
    figures: AnnualCourseFigures,
    libraries: list[str],
    library_label: Callable[[str], str],
    ordered_partners: Callable[[Iterable[str]], list[str]],
    partner_label: Callable[[str], str],
    t: Callable[..., str],
) -> list[Table]:
    def course_values(f: Any) -> dict[str, float | int | None]:
        rate = round(100 * f.present / f.registered) if f.registered else None
        return {
            "courses": f.courses,
            "groups": f.groups,
            "places": f.places,
            "enrolled": f.enrolled,
            "attended": f.attended,
            "attendance_rate": rate,
        }

    nothing = {"courses": 0, "groups": 0, "places": 0, "enrolled": 0, "attended": 0, "attendance_rate": None}
    course_libraries = {f.library: course_values(f) for f in figures.courses if f.library}
    course_partners = {str(f.partner_id): course_values(f) for f in figures.courses if f.partner_id}
    course_total = next(course_values(f) for f in figures.courses if not f.library and not f.partner_id)
    course_columns = [
        Column("courses", "things"),
        Column("groups", "things"),
        Column("places", "things"),
        Column("enrolled", "people"),
        Column("attended", "people"),
        Column("attendance_rate", "derived", base=("enrolled",), additive=False),
    ]
    course_labels = {column.key: t(f"annual.courses.{column.key}") for column in course_columns}

    def money_values(f: Any) -> dict[str, float | int | None]:
        return {
            "budget": f.budget_cents,
            "committed": f.committed_cents,
            "spent": f.spent_cents,
            "available": f.budget_cents - f.committed_cents - f.spent_cents if f.library or not f.partner_id else None,
            "purchases": f.purchases,
            "delivered": f.delivered,
            "participants": f.participants,
        }

    no_money = {
        "budget": 0,
        "committed": 0,
        "spent": 0,
        "available": 0,
        "purchases": 0,
        "delivered": 0,
        "participants": 0,
    }
    bought_libraries = {f.library: money_values(f) for f in figures.purchases if f.library}
    bought_partners = {str(f.partner_id): money_values(f) for f in figures.purchases if f.partner_id}
    bought_total = next(money_values(f) for f in figures.purchases if not f.library and not f.partner_id)
    money_columns = [
        Column("budget", "money"),
        Column("committed", "money"),
        Column("spent", "money"),
        Column("available", "money"),
        Column("purchases", "things"),
        Column("delivered", "things"),
        Column("participants", "people"),
    ]
    partner_money_columns = [c for c in money_columns if c.key not in ("budget", "available")]
    money_labels = {column.key: t(f"annual.purchases.{column.key}") for column in money_columns}
    library_keys = [*libraries, *sorted(set(course_libraries) - set(libraries))]
    money_keys = [*libraries, *sorted(set(bought_libraries) - set(libraries))]
    return [
        Table(
            "courses-by-library",
            t("annual.table.courses_by_library"),
            course_columns,
            course_labels,
            [
                *_rows_of(library_keys, library_label, lambda key: course_libraries.get(key, dict(nothing))),
                Row(TOTAL, library_label(TOTAL), course_total),
            ],
        ),
        Table(
            "courses-by-partner",
            t("annual.table.courses_by_partner"),
            course_columns,
            course_labels,
            _rows_of(ordered_partners(course_partners), partner_label, lambda key: course_partners[key]),
        ),
        Table(
            "training-by-library",
            t("annual.table.training_by_library"),
            money_columns,
            money_labels,
            [
                *_rows_of(money_keys, library_label, lambda key: bought_libraries.get(key, dict(no_money))),
                Row(TOTAL, library_label(TOTAL), bought_total),
            ],
        ),
        Table(
            "training-by-partner",
            t("annual.table.training_by_partner"),
            partner_money_columns,
            money_labels,
            _rows_of(ordered_partners(bought_partners), partner_label, lambda key: bought_partners[key]),
        ),
    ]


def _volunteer_tables(
    figures: AnnualVolunteerFigures,
    libraries: list[str],
    library_label: Callable[[str], str],
    ordered_partners: Callable[[Iterable[str]], list[str]],
    partner_label: Callable[[str], str],
    t: Callable[..., str],
) -> list[Table]:
    def values(f: Any) -> dict[str, float | int | None]:
        return {
            "volunteers": f.volunteers,
            "volunteer_hours": round(f.volunteer_minutes / 60, 1),
            "interns": f.interns,
            "intern_hours": round(f.intern_minutes / 60, 1),
        }

    nothing = {"volunteers": 0, "volunteer_hours": 0, "interns": 0, "intern_hours": 0}
    by_library = {f.library: values(f) for f in figures.figures if f.library}
    by_partner = {str(f.partner_id): values(f) for f in figures.figures if f.partner_id}
    total = next(values(f) for f in figures.figures if not f.library and not f.partner_id)
    columns = [
        Column("volunteers", "people"),
        Column("volunteer_hours", "derived", base=("volunteers",), decimals=1),
        Column("interns", "people"),
        Column("intern_hours", "derived", base=("interns",), decimals=1),
    ]
    labels = {column.key: t(f"annual.volunteers.{column.key}") for column in columns}
    library_keys = [*libraries, *sorted(set(by_library) - set(libraries))]
    return [
        Table(
            "volunteers-by-library",
            t("annual.table.volunteers_by_library"),
            columns,
            labels,
            [
                *_rows_of(library_keys, library_label, lambda key: by_library.get(key, dict(nothing))),
                Row(TOTAL, library_label(TOTAL), total),
            ],
        ),
        Table(
            "volunteers-by-partner",
            t("annual.table.volunteers_by_partner"),
            columns,
            labels,
            _rows_of(ordered_partners(by_partner), partner_label, lambda key: by_partner[key]),
        ),
    ]


def suppression_rule(lang: str) -> str:
    return translate(
        lang, "annual.suppression", threshold=THRESHOLD, threshold_less=THRESHOLD - 1, small=SMALL, hidden=HIDDEN
    )


async def annual_report(
    rpc: RpcClient, actor: Actor, year: int | None, municipality: str | None, lang: str
) -> tuple[AnnualReport, list[Table]]:
    year = year or local_today().year
    gathered = await gather(rpc, actor, year, municipality)
    tables = build_tables(gathered, actor, lang)
    report = AnnualReport(
        municipality=municipality if actor.role is Role.OPERATOR else actor.municipality,
        library=actor.library if actor.role is Role.STAFF else None,
        year=year,
        threshold=THRESHOLD,
        suppression=suppression_rule(lang),
        complete=not gathered.missing,
        missing=gathered.missing,
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
