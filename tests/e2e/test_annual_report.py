"""The annual report against a year seeded through the API whose answers are known: every figure of every table,
small counts suppressed (and what would give them away), the CSV files and the PDF; who may read it."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from gateway.annual_tables import TABLES
from services.referrals.queries.annual import annual_figures
from services.referrals.store import referrals
from shared.clock import local_date, local_today, start_of_day
from shared.contracts.referrals.api.annual import GetAnnualReferralFigures
from shared.tenancy import Actor, Role
from tests.e2e.annual_year import seed_year
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import register_tenant
from tests.referral_bodies import referral_body
from tests.services.volunteers.volunteer_tenant import VolunteerTenant, call, volunteer_tenant


@pytest.fixture(scope="module")
async def seeded(platform: RunningPlatform) -> VolunteerTenant:
    vt = await volunteer_tenant(platform)
    await seed_year(platform, vt)
    return vt


def table(report: dict[str, Any], table_id: str) -> dict[str, dict[str, Any]]:
    """A table's rows by key (a library's slug, a partner's id, "none", "total")."""
    found = next(t for t in report["tables"] if t["id"] == table_id)
    return {row["key"]: row["values"] for row in found["rows"]}


def referral_row(**values: Any) -> dict[str, Any]:
    row = {"in": 0, "out": 0, "total": 0, "open": 0, "completed": 0, "declined": 0, "withdrawn": 0}
    return row | {"no_show": 0, "expired": 0, "intakes": 0, "median_days": None} | values


async def test_every_figure_of_the_seeded_year_is_the_known_answer(
    platform: RunningPlatform, seeded: VolunteerTenant
) -> None:
    vt, tenant = seeded, seeded.base
    year = local_today().year
    report = await call(platform, vt.coordinator, "GET", "/api/v1/reports/annual", year=year)
    assert report["complete"] is True, report["missing"]
    assert [t["id"] for t in report["tables"]] == list(TABLES)
    assert (report["municipality"], report["year"], report["threshold"]) == (tenant.municipality, year, 5)
    assert "<5" in report["suppression"] and "5" in report["suppression"]

    # Library A: received 6, referred 1 on ("<5"), so the 6 is hidden too ("*": with the total 7 it would give the 1
    # away); 6 open and 1 declined ("<5"), so the 6 open are hidden with it. The total row likewise. Library B: 5
    # received, open. The intakes took place in the hour before they were registered: 0 days.
    a, b = tenant.library_a, tenant.library_b
    hidden_a = {"in": "*", "out": "<5", "open": "*", "declined": "<5", "intakes": 5, "median_days": 0.0}
    assert table(report, "referrals-by-library") == {
        a: referral_row(total=7, **hidden_a),
        b: referral_row(**{"in": 5, "total": 5, "open": 5}),
        "total": referral_row(total=12, **hidden_a),
    }
    assert table(report, "referrals-by-partner") == {
        tenant.partner_a: referral_row(
            **{"in": 6, "total": 6, "open": "*", "declined": "<5", "intakes": 5, "median_days": 0.0}
        ),
        tenant.partner_b: referral_row(**{"in": "*", "out": "<5", "total": 6, "open": 6}),
    }
    assert table(report, "courses-by-library") == {
        a: {"courses": 1, "groups": 1, "places": 10, "enrolled": 6, "attended": 5, "attendance_rate": 83},
        b: {"courses": 0, "groups": 0, "places": 0, "enrolled": 0, "attended": 0, "attendance_rate": None},
        "total": {"courses": 1, "groups": 1, "places": 10, "enrolled": 6, "attended": 5, "attendance_rate": 83},
    }
    assert table(report, "courses-by-partner") == {}
    # One volunteer: "<5", and the 3 hours over them hidden; the total row the same.
    hidden_volunteer = {"volunteers": "<5", "volunteer_hours": "*", "interns": 0, "intern_hours": 0}
    assert table(report, "volunteers-by-library") == {
        a: hidden_volunteer,
        b: {"volunteers": 0, "volunteer_hours": 0, "interns": 0, "intern_hours": 0},
        "total": hidden_volunteer,
    }
    assert table(report, "volunteers-by-partner") == {}
    money = {"budget": 500_000, "committed": 0, "spent": 270_000, "available": 230_000}
    bought = {"purchases": 1, "delivered": 1, "participants": 12}
    nothing = {"budget": 0, "committed": 0, "spent": 0, "available": 0, "purchases": 0, "delivered": 0}
    assert table(report, "training-by-library") == {
        a: money | bought,
        b: nothing | {"participants": 0},
        "total": money | bought,
    }
    assert table(report, "training-by-partner") == {tenant.partner_b: {"committed": 0, "spent": 270_000} | bought}

    # The library's own report: only library A, the same figures for it.
    own = await call(platform, tenant.staff_a, "GET", "/api/v1/reports/annual", year=year)
    assert set(table(own, "referrals-by-library")) == {a, "total"}
    assert table(own, "courses-by-library")[a]["enrolled"] == 6
    # Another year has none of it.
    before = await call(platform, vt.coordinator, "GET", "/api/v1/reports/annual", year=year - 1)
    assert table(before, "referrals-by-library")["total"]["total"] == 0
    assert table(before, "training-by-library")["total"]["spent"] == 0


async def test_the_csv_files_and_the_pdf_carry_the_same_figures_and_the_rule(
    platform: RunningPlatform, seeded: VolunteerTenant
) -> None:
    vt, tenant = seeded, seeded.base
    year = local_today().year
    async with platform.client(vt.coordinator) as api:
        report = (await api.get("/api/v1/reports/annual", params={"year": year})).json()
        for published in report["tables"]:
            response = await api.get(f"/api/v1/reports/annual/csv/{published['id']}", params={"year": year})
            assert response.status_code == 200, response.text
            assert response.headers["content-type"] == "text/csv; charset=utf-8"  # was said twice
            rows = list(csv.reader(io.StringIO(response.text)))
            keys = rows[0][2:]
            assert keys == [column["key"] for column in published["columns"]]
            data = {row[0]: dict(zip(keys, row[2:], strict=True)) for row in rows[2:] if row and row[0] != "note"}
            assert set(data) == {row["key"] for row in published["rows"]}
            assert any(row and row[0] == "note" and "<5" in row[2] for row in rows), rows[-1]
        training = list(
            csv.reader(
                io.StringIO(
                    (await api.get("/api/v1/reports/annual/csv/training-by-library", params={"year": year})).text
                )
            )
        )
        a_row = next(row for row in training if row[0] == tenant.library_a)
        assert a_row[2:5] == ["5000.00", "0.00", "2700.00"]
        referrals = (await api.get("/api/v1/reports/annual/csv/referrals-by-library", params={"year": year})).text
        a_referrals = next(row for row in csv.reader(io.StringIO(referrals)) if row and row[0] == tenant.library_a)
        assert a_referrals[2:] == ["*", "<5", "7", "*", "0", "<5", "0", "0", "0", "5", "0.0"]
        missing = await api.get("/api/v1/reports/annual/csv/no-such-table", params={"year": year})
        assert missing.status_code == 404

        pdf = await api.get("/api/v1/reports/annual/pdf", params={"year": year, "lang": "nl"})
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    body = pdf.content
    assert body.startswith(b"%PDF-1.4") and body.rstrip().endswith(b"%%EOF")
    for text in (
        f"Jaarverslag {year}",
        "Doorverwijzingen per bibliotheek",
        "Drempel: 5",
        "(<5)",
        "€ 5.000,00",
        "€ 2.700,00",
        "(83)",
        "(12)",
    ):
        assert text.encode("cp1252") in body, text


async def test_only_the_municipality_and_its_libraries_read_their_report(
    platform: RunningPlatform, seeded: VolunteerTenant
) -> None:
    tenant = seeded.base
    year = local_today().year
    outsider = await volunteer_tenant(platform)
    theirs = await call(platform, outsider.coordinator, "GET", "/api/v1/reports/annual", year=year)
    assert theirs["municipality"] == outsider.municipality
    keys = {row["key"] for t in theirs["tables"] for row in t["rows"]}
    assert not keys & {tenant.library_a, tenant.library_b, tenant.partner_a, tenant.partner_b}
    assert table(theirs, "referrals-by-library")["total"]["total"] == 0
    # A coordinator naming another municipality still gets their own (the token decides, not the request).
    named = await call(
        platform, outsider.coordinator, "GET", "/api/v1/reports/annual", year=year, municipality=tenant.municipality
    )
    assert named["municipality"] == outsider.municipality
    assert table(named, "training-by-library")["total"]["spent"] == 0
    for path in (
        "/api/v1/reports/annual",
        "/api/v1/reports/annual/pdf",
        "/api/v1/reports/annual/csv/referrals-by-library",
    ):
        refused = await call(platform, tenant.partner_a_token, "GET", path, year=year)
        assert refused.status_code == 403, path
    # Library B's staff: their library only, none of library A's figures.
    other = await call(platform, tenant.staff_b, "GET", "/api/v1/reports/annual", year=year)
    assert set(table(other, "referrals-by-library")) == {tenant.library_b, "total"}
    assert table(other, "courses-by-library")["total"]["enrolled"] == 0
    assert table(other, "training-by-library")["total"]["spent"] == 0
    async with platform.client() as anonymous:
        assert (await anonymous.get("/api/v1/reports/annual")).status_code == 401


async def test_a_referral_counts_in_the_year_of_its_dutch_calendar_day(platform: RunningPlatform) -> None:
    """Two referrals moved to either side of new year's midnight in Amsterdam (23:00 UTC): each counts in the year
    of its Dutch day, not of its UTC day."""
    tenant = await register_tenant(platform)
    year = local_today().year
    midnight = start_of_day(date(year, 1, 1))
    ids = []
    for _ in range(2):
        made = await call(
            platform,
            tenant.partner_a_token,
            "POST",
            "/api/v1/referrals",
            referral_body(tenant.library_a, tenant.partner_a),
        )
        ids.append(uuid.UUID(made["id"]))
    moved = {ids[0]: midnight + timedelta(minutes=10), ids[1]: midnight - timedelta(minutes=10)}
    async with platform.services["referrals"].sessions() as session, session.begin():
        for referral_id, at in moved.items():
            await session.execute(sa.update(referrals).where(referrals.c.id == referral_id).values(submitted_at=at))
    assert moved[ids[0]].astimezone(UTC).year == year - 1  # still last year by UTC's calendar

    def totals(report: dict[str, Any]) -> tuple[Any, Any]:
        row = table(report, "referrals-by-library")[tenant.library_a]
        return row["in"], row["total"]

    this = await call(platform, tenant.coordinator, "GET", "/api/v1/reports/annual", year=year)
    last = await call(platform, tenant.coordinator, "GET", "/api/v1/reports/annual", year=year - 1)
    earlier = await call(platform, tenant.coordinator, "GET", "/api/v1/reports/annual", year=year - 2)
    assert totals(this) == ("<5", "<5")  # one: 00:10 on 1 January
    assert totals(last) == ("<5", "<5")  # one: 23:50 on 31 December
    assert totals(earlier) == (0, 0)
    # The service's own counts, before the gateway suppresses them: exactly one on each side.
    coordinator = Actor(subject="test", role=Role.COORDINATOR, municipality=tenant.municipality)
    work = platform.services["referrals"].unit_of_work
    for which in (year, year - 1):
        figures = await annual_figures(work, coordinator, GetAnnualReferralFigures(year=which))
        assert [(c.library, c.count) for c in figures.counts] == [(tenant.library_a, 1)], which


async def test_the_time_to_intake_is_the_median_of_the_days_from_submission_to_the_intake(
    platform: RunningPlatform,
) -> None:
    """Five intakes held, their referrals moved to 1, 2, 3, 4 and 5 days before the intake took place: the median
    is 3.0 days, per library, per partner and overall (five intakes: shown)."""
    tenant = await register_tenant(platform)
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    intake = {"intake_at": an_hour_ago.isoformat(), "place": "Taalhuis", "contact_person": {"name": "Els"}}
    held = []
    for _ in range(5):
        made = await call(
            platform,
            tenant.partner_a_token,
            "POST",
            "/api/v1/referrals",
            referral_body(tenant.library_a, tenant.partner_a),
        )
        for step, body in (("accept", None), ("plan-intake", intake), ("intake-held", None)):
            done = await call(platform, tenant.staff_a, "POST", f"/api/v1/referrals/{made['id']}/{step}", body)
            assert isinstance(done, dict), done.text
        held.append(uuid.UUID(made["id"]))
    async with platform.services["referrals"].sessions() as session, session.begin():
        for days, referral_id in enumerate(held, start=1):
            await session.execute(
                sa.update(referrals)
                .where(referrals.c.id == referral_id)
                .values(submitted_at=referrals.c.intake_held_at - timedelta(days=days))
            )
    year = local_date(an_hour_ago - timedelta(days=5)).year
    if year != local_date(an_hour_ago).year:
        pytest.skip("the moved referrals would fall in two years: run again after the first days of January")
    report = await call(platform, tenant.coordinator, "GET", "/api/v1/reports/annual", year=year)
    by_library = table(report, "referrals-by-library")
    assert (by_library[tenant.library_a]["intakes"], by_library[tenant.library_a]["median_days"]) == (5, 3.0)
    assert (by_library["total"]["intakes"], by_library["total"]["median_days"]) == (5, 3.0)
    partner = table(report, "referrals-by-partner")[tenant.partner_a]
    assert (partner["intakes"], partner["median_days"]) == (5, 3.0)
