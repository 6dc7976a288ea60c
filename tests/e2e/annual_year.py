"""A year of the network seeded through the API whose annual-report figures are known (tests/e2e/test_annual_report.py
states them; the console's page shows the same)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from shared.clock import local_today
from shared.tenancy import Role
from tests.fixtures.platform import RunningPlatform
from tests.referral_bodies import referral_body, to_partner_body
from tests.services.courses.support import courses_know, published_course_with_session
from tests.services.volunteers.volunteer_tenant import (
    VolunteerTenant,
    active_volunteer,
    call,
    course_needing_volunteers,
    opening_for,
)


async def seed_year(platform: RunningPlatform, vt: VolunteerTenant) -> None:
    """The seeded year (this year, on the Dutch calendar):
    - library A: 6 referrals from partner A (5 with their intake held, 1 declined) and 1 to partner B (open);
      library B: 5 from partner B, not yet answered;
    - a course of library A with one group of 10 places, begun an hour ago: 6 enrolled, 5 present at its first
      meeting and 1 absent;
    - one volunteer of library A with 3 hours (2 h + 1 h);
    - library A's training budget of € 5,000.00: one training from partner B approved at € 2,800.00, delivered
      to 12 participants and invoiced at € 2,700.00."""
    tenant = vt.base
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    intake = {"intake_at": an_hour_ago.isoformat(), "place": "Taalhuis", "contact_person": {"name": "Els"}}
    for index in range(6):
        made = await call(
            platform,
            tenant.partner_a_token,
            "POST",
            "/api/v1/referrals",
            referral_body(tenant.library_a, tenant.partner_a),
        )
        base = f"/api/v1/referrals/{made['id']}"
        if index == 5:
            declined = await call(platform, tenant.staff_a, "POST", f"{base}/decline", {"reason": "no_capacity"})
            assert declined["status"] == "declined", declined
            continue
        for step, body in (("accept", None), ("plan-intake", intake), ("intake-held", None)):
            done = await call(platform, tenant.staff_a, "POST", f"{base}/{step}", body)
            assert isinstance(done, dict), done.text
        assert done["status"] == "intake_held"
    sent = await call(
        platform, tenant.staff_a, "POST", "/api/v1/referrals", to_partner_body(tenant.library_a, tenant.partner_b)
    )
    assert sent["status"] == "submitted", sent
    for _ in range(5):
        made = await call(
            platform,
            tenant.partner_b_token,
            "POST",
            "/api/v1/referrals",
            referral_body(tenant.library_b, tenant.partner_b),
        )
        assert made["status"] == "submitted", made

    await courses_know(platform, tenant)
    _, group = await published_course_with_session(platform, tenant.staff_a, capacity=10, starts=an_hour_ago)
    for index in range(6):
        enrolled = await call(
            platform,
            tenant.staff_a,
            "POST",
            f"/api/v1/sessions/{group['id']}/enrolments",
            {"participant_pseudonym": f"P-JAAR{index:06d}"},
        )
        assert enrolled["status"] == "confirmed", enrolled
        marked = await call(
            platform,
            tenant.staff_a,
            "POST",
            f"/api/v1/enrolments/{enrolled['id']}/attendance",
            {"meeting": 1, "present": index < 5},
        )
        assert isinstance(marked, dict), marked.text

    volunteer = await active_volunteer(platform, vt)
    opening = await opening_for(platform, vt, await course_needing_volunteers(platform, vt, 1))
    today = local_today()
    assignment = await call(
        platform,
        tenant.staff_a,
        "POST",
        "/api/v1/assignments",
        {"volunteer_id": volunteer["id"], "kind": "course", "opening_id": opening["id"], "starts_on": str(today)},
    )
    for minutes in (120, 60):
        logged = await call(
            platform,
            tenant.staff_a,
            "POST",
            f"/api/v1/assignments/{assignment['id']}/hours",
            {"worked_on": str(today), "minutes": minutes},
        )
        assert logged["minutes"] == minutes, logged

    year = today.year
    holder = platform.token(Role.STAFF, municipality=tenant.municipality, library=tenant.library_a)
    asker = platform.token(Role.STAFF, municipality=tenant.municipality, library=tenant.library_a)
    subject = platform.issuer.verify(holder).subject
    library = tenant.library_a
    assert await call(platform, vt.coordinator, "POST", f"/api/v1/budget-holders/{library}", {"subject": subject})
    assert await call(platform, holder, "PUT", f"/api/v1/budgets/{library}/{year}", {"amount_cents": 500_000})
    policy = {"second_approver_above_cents": 1_000_000}
    assert isinstance(await call(platform, holder, "PUT", f"/api/v1/purchasing-policies/{library}", policy), dict)
    purchase = await call(
        platform,
        asker,
        "POST",
        "/api/v1/purchases",
        {
            "title": "Training 'Taalvriendelijk schrijven'",
            "purpose": "Vrijwilligers van het Taalhuis leren eenvoudige taal gebruiken",
            "audience": ["volunteers"],
            "estimated_cost_cents": 300_000,
            "budget_year": year,
        },
    )
    url = f"/api/v1/purchases/{purchase['id']}"
    quote = {"provider_name": "Volksuniversiteit", "provider_partner_id": tenant.partner_b, "amount_cents": 280_000}
    quoted = await call(platform, asker, "POST", f"{url}/quotes", quote)
    approved = await call(platform, holder, "POST", f"{url}/approve", {"quote_id": quoted["quotes"][0]["id"]})
    assert approved["status"] == "approved", approved
    steps: list[tuple[str, dict[str, Any]]] = [
        ("order", {"order_reference": "INK-JAAR-1"}),
        ("delivery", {"sessions_held": 4, "participants": 12, "delivered_on": str(today)}),
        ("invoice", {"invoice_amount_cents": 270_000, "invoice_reference": "F-1"}),
    ]
    for step, body in steps:
        done = await call(platform, asker, "POST", f"{url}/{step}", body)
        assert isinstance(done, dict), done.text
    assert done["status"] == "invoiced"
