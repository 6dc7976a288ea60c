"""The annual report's tables: each service's figures for the year laid out per library and per partner, with a
total row where the service counts one, and suppressed (gateway/annual_suppression.py) before they are published
(gateway/annual_report.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from gateway.annual_suppression import TOTAL, Column, Row, Table, suppress
from gateway.console.messages import translate
from shared.contracts.courses.api.annual import AnnualCourseFigures
from shared.contracts.courses.api.statistics import CoursesPartnerActs
from shared.contracts.partners.api.statistics import PartnersStatistics
from shared.contracts.referrals.api.annual import AnnualReferralFigures
from shared.contracts.referrals.api.referrals import ReferralDirection
from shared.contracts.volunteers.api.annual import AnnualVolunteerFigures
from shared.contracts.volunteers.api.statistics import VolunteersPartnerActs
from shared.tenancy import Actor, Role

Values = dict[str, float | int | None]

# How the referrals' statuses are reported: closed by their outcome, the rest still running.
OUTCOMES = ("open", "completed", "declined", "withdrawn", "no_show", "expired")
OPEN_STATUSES = frozenset({"submitted", "accepted", "intake_planned", "intake_held", "enrolled"})

NO_PARTNER = "none"
# The part of a by-library table's total that is at none of its libraries (a partner's course at its own premises).
ELSEWHERE = "elsewhere"
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


@dataclass
class Gathered:
    """What the services answered for the year; a part whose service did not answer is None."""

    names: PartnersStatistics | None
    referrals: AnnualReferralFigures | None
    courses: AnnualCourseFigures | None
    volunteers: AnnualVolunteerFigures | None
    # what each partner did for the libraries (issue 24): the services' partner_acts over the year
    volunteer_acts: VolunteersPartnerActs | None = None
    course_acts: CoursesPartnerActs | None = None


@dataclass(frozen=True)
class Rows:
    """How a table's rows are named and ordered: the libraries in scope by name, then the partners by name."""

    libraries: list[str]
    library_names: dict[str, str]
    partner_names: dict[str, str]
    t: Callable[..., str]

    def library_label(self, key: str) -> str:
        if key in (TOTAL, ELSEWHERE):
            return self.t(f"annual.row_{key}")
        return self.library_names.get(key, key)

    def partner_label(self, key: str) -> str:
        return self.t("annual.row_no_partner") if key == NO_PARTNER else self.partner_names.get(key, key[:8])

    def of_libraries(self, keys: Iterable[str], values: Callable[[str], Values]) -> list[Row]:
        return [Row(key, self.library_label(key), values(key)) for key in keys]

    def of_partners(self, by_partner: Mapping[str, Values]) -> list[Row]:
        keys = sorted(set(by_partner), key=lambda k: (k == NO_PARTNER, self.partner_label(k).lower(), k))
        return [Row(key, self.partner_label(key), by_partner[key]) for key in keys]

    def labels(self, words: str, columns: list[Column]) -> dict[str, str]:
        """Each column's heading: the catalogue's `annual.<words>.<column>`."""
        return {column.key: self.t(f"annual.{words}.{column.key}") for column in columns}

    def per_library_and_partner(
        self,
        name: str,
        figures: Sequence[Any],
        values: Callable[[Any], Values],
        nothing: Values,
        columns: list[Column],
        words: str,
        partner_columns: list[Column] | None = None,
    ) -> list[Table]:
        """`<name>-by-library` (every library in scope, then the total) and `<name>-by-partner`, from a service's
        figures that name a library, a partner, or neither (the total); headed as `labels(words, columns)`."""
        labels = self.labels(words, columns)
        by_library = {f.library: values(f) for f in figures if f.library}
        by_partner = {str(f.partner_id): values(f) for f in figures if f.partner_id}
        total = next(values(f) for f in figures if not f.library and not f.partner_id)
        library_keys = [*self.libraries, *sorted(set(by_library) - set(self.libraries))]
        title = name.replace("-", "_")
        return [
            Table(
                f"{name}-by-library",
                self.t(f"annual.table.{title}_by_library"),
                columns,
                labels,
                [
                    *(library_rows := self.of_libraries(library_keys, lambda key: by_library.get(key, dict(nothing)))),
                    *elsewhere(library_rows, total, columns, self.library_label(ELSEWHERE)),
                    Row(TOTAL, self.library_label(TOTAL), total),
                ],
            ),
            Table(
                f"{name}-by-partner",
                self.t(f"annual.table.{title}_by_partner"),
                partner_columns or columns,
                labels,
                self.of_partners(by_partner),
            ),
        ]


def elsewhere(rows: list[Row], total: Values, columns: list[Column], label: str) -> list[Row]:
    """The row that makes a by-library table add up: what the total counts at none of the libraries (a partner's
    own course), where there is any; none where the rows already make the total, or where a column's rows are more
    than it (someone counted at two libraries and once in the total: nothing there is 'elsewhere')."""
    rest: Values = {}
    for column in columns:
        if not column.additive or column.kind == "derived":
            rest[column.key] = None
            continue
        counted = sum(int(row.values.get(column.key) or 0) for row in rows)
        rest[column.key] = int(total.get(column.key) or 0) - counted
    numbers = [value for value in rest.values() if value is not None]
    if not numbers or min(numbers) < 0 or max(numbers) == 0:
        return []
    return [Row(ELSEWHERE, label, rest)]


def build_tables(gathered: Gathered, actor: Actor, lang: str) -> list[Table]:
    t = _words(lang)
    library_names = {lib.library: lib.name for lib in gathered.names.libraries} if gathered.names else {}
    partner_names = {str(p.partner_id): p.name for p in gathered.names.partners} if gathered.names else {}
    if actor.role is Role.STAFF:
        library_names = {slug: name for slug, name in library_names.items() if slug == actor.library}
        library_names.setdefault(actor.library or "", actor.library or "")
    libraries = sorted(library_names, key=lambda slug: (library_names[slug].lower(), slug))
    rows = Rows(libraries, library_names, partner_names, t)
    tables: list[Table] = []
    if gathered.referrals is not None:
        tables += _referral_tables(gathered.referrals, rows)
    if gathered.courses is not None:
        tables += _course_tables(gathered.courses, rows)
    if gathered.volunteers is not None:
        tables += _volunteer_tables(gathered.volunteers, rows)
    if gathered.volunteer_acts is not None or gathered.course_acts is not None:
        tables.append(_partner_acts_table(gathered, rows))
    return [suppress(table) for table in tables]


def _words(lang: str) -> Callable[..., str]:
    return lambda key, **values: translate(lang, key, **values)


def _partner_acts_table(gathered: Gathered, rows: Rows) -> Table:
    by_partner: dict[str, Values] = {}
    answered = [acts for acts in (gathered.volunteer_acts, gathered.course_acts) if acts is not None]
    for acts in answered:
        for partner in acts.partners:
            values = {k: v for k, v in msgspec.structs.asdict(partner).items() if k != "partner_id"}
            if "intern_minutes" in values:
                values["intern_hours"] = round(int(values.pop("intern_minutes") or 0) / 60, 1)
            by_partner.setdefault(str(partner.partner_id), {}).update(values)
    columns = list(PARTNER_ACTS)
    labels = rows.labels("partner_acts", columns)
    return Table("partner-acts", rows.t("annual.table.partner_acts"), columns, labels, rows.of_partners(by_partner))


def _referral_tables(figures: AnnualReferralFigures, rows: Rows) -> list[Table]:
    def empty() -> Values:
        return {"in": 0, "out": 0, "total": 0, **{o: 0 for o in OUTCOMES}, "intakes": 0, "median_days": None}

    by_library: dict[str, Values] = {key: empty() for key in [*rows.libraries, TOTAL]}
    by_partner: dict[str, Values] = {}
    for count in figures.counts:
        side = "out" if count.direction is ReferralDirection.TO_PARTNER else "in"
        outcome = "open" if count.status in OPEN_STATUSES else count.status
        partner = str(count.partner_id) if count.partner_id else NO_PARTNER
        counted = [
            by_library.setdefault(count.library, empty()),
            by_library[TOTAL],
            by_partner.setdefault(partner, empty()),
        ]
        for row in counted:
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
    labels = rows.labels("referrals", columns)
    sums = [("total", ("in", "out")), ("total", OUTCOMES)]
    library_keys = [key for key in by_library if key != TOTAL] + [TOTAL]
    return [
        Table(
            "referrals-by-library",
            rows.t("annual.table.referrals_by_library"),
            columns,
            labels,
            rows.of_libraries(library_keys, lambda key: by_library[key]),
            sums,
        ),
        Table(
            "referrals-by-partner",
            rows.t("annual.table.referrals_by_partner"),
            columns,
            labels | {"in": rows.t("annual.referrals.from_partner"), "out": rows.t("annual.referrals.to_partner")},
            rows.of_partners(by_partner),
            sums,
        ),
    ]


def _course_tables(figures: AnnualCourseFigures, rows: Rows) -> list[Table]:
    def course_values(f: Any) -> Values:
        rate = round(100 * f.present / f.registered) if f.registered else None
        return {
            "courses": f.courses,
            "groups": f.groups,
            "places": f.places,
            "enrolled": f.enrolled,
            "attended": f.attended,
            "attendance_rate": rate,
        }

    course_columns = [
        Column("courses", "things"),
        Column("groups", "things"),
        Column("places", "things"),
        Column("enrolled", "people"),
        Column("attended", "people"),
        Column("attendance_rate", "derived", base=("enrolled",), additive=False),
    ]

    def money_values(f: Any) -> Values:
        return {
            "budget": f.budget_cents,
            "committed": f.committed_cents,
            "spent": f.spent_cents,
            "available": f.budget_cents - f.committed_cents - f.spent_cents if f.library or not f.partner_id else None,
            "purchases": f.purchases,
            "delivered": f.delivered,
            "participants": f.participants,
        }

    money_columns = [
        Column("budget", "money"),
        Column("committed", "money"),
        Column("spent", "money"),
        Column("available", "money"),
        Column("purchases", "things"),
        Column("delivered", "things"),
        Column("participants", "people"),
    ]
    return [
        *rows.per_library_and_partner(
            "courses",
            figures.courses,
            course_values,
            {"courses": 0, "groups": 0, "places": 0, "enrolled": 0, "attended": 0, "attendance_rate": None},
            course_columns,
            "courses",
        ),
        *rows.per_library_and_partner(
            "training",
            figures.purchases,
            money_values,
            {column.key: 0 for column in money_columns},
            money_columns,
            "purchases",
            partner_columns=[c for c in money_columns if c.key not in ("budget", "available")],
        ),
    ]


def _volunteer_tables(figures: AnnualVolunteerFigures, rows: Rows) -> list[Table]:
    def values(f: Any) -> Values:
        return {
            "volunteers": f.volunteers,
            "volunteer_hours": round(f.volunteer_minutes / 60, 1),
            "interns": f.interns,
            "intern_hours": round(f.intern_minutes / 60, 1),
        }

    columns = [
        Column("volunteers", "people"),
        Column("volunteer_hours", "derived", base=("volunteers",), decimals=1),
        Column("interns", "people"),
        Column("intern_hours", "derived", base=("interns",), decimals=1),
    ]
    return rows.per_library_and_partner(
        "volunteers",
        figures.figures,
        values,
        {column.key: 0 for column in columns},
        columns,
        "volunteers",
    )
