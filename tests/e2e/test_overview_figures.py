"""What each figure of the municipality overview counts, on the real services: an ended partner keeps its name,
a partner's referrals count in both directions, interns are not volunteers, and the time to intake runs until the
intake took place."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from shared.clock import local_today
from tests.fixtures.platform import RunningPlatform
from tests.referral_bodies import referral_body, to_partner_body
from tests.services.volunteers.volunteer_tenant import (
    active_volunteer,
    call,
    person,
    start_intern,
    volunteer_tenant,
)


async def test_the_overview_counts_what_its_documentation_says(platform: RunningPlatform) -> None:
    vt = await volunteer_tenant(platform)
    tenant = vt.base
    await active_volunteer(platform, vt)
    today = local_today()
    internship = {
        "school_partner_id": vt.school,
        "library": tenant.library_a,
        "person": person("Daan Jansen"),
        "starts_on": str(today - timedelta(days=10)),
        "ends_on": str(today + timedelta(days=80)),
        "supervisor": {"name": "Mw. K. Bakker", "email": "k.bakker@roc.example"},
        "learning_goals": ["digitale vaardigheden uitleggen"],
        "hours": 400,
    }
    intern = await call(platform, vt.school_token, "POST", "/api/v1/interns", internship)
    await start_intern(platform, vt, intern["id"])

    # From partner A, both with an intake planned a week ahead: one still to come, one the participant came to early.
    soon: list[str] = []
    for _ in range(2):
        submitted = await call(
            platform,
            tenant.partner_a_token,
            "POST",
            "/api/v1/referrals",
            referral_body(tenant.library_a, tenant.partner_a),
        )
        soon.append(submitted["id"])
    next_week = datetime.now(UTC) + timedelta(days=7)
    for referral_id in soon:
        intake = {"intake_at": next_week.isoformat(), "place": "Taalhuis", "contact_person": {"name": "Els"}}
        for route, body in (("accept", None), ("plan-intake", intake)):
            done = await call(platform, tenant.staff_a, "POST", f"/api/v1/referrals/{referral_id}/{route}", body)
            assert isinstance(done, dict), done.text
    held_at = datetime.now(UTC)
    held = await call(
        platform, tenant.staff_a, "POST", f"/api/v1/referrals/{soon[1]}/intake-held", {"held_at": held_at.isoformat()}
    )
    assert held["status"] == "intake_held", held
    # To partner B, which then ends.
    sent = await call(
        platform, tenant.staff_a, "POST", "/api/v1/referrals", to_partner_body(tenant.library_a, tenant.partner_b)
    )
    assert isinstance(sent, dict), sent.text
    ended = await call(platform, vt.coordinator, "POST", f"/api/v1/partners/{tenant.partner_b}/end")
    assert ended["status"] == "ended", ended

    overview: dict[str, Any] = await call(platform, vt.coordinator, "GET", "/api/v1/overview")
    assert overview["complete"] is True, overview["missing"]
    library = next(lib for lib in overview["libraries"] if lib["library"] == tenant.library_a)
    partners = {p["partner_id"]: p for p in overview["partners"]}

    assert library["volunteers"]["active_volunteers"] == 1  # the intern is not a volunteer
    assert library["volunteers"]["active_interns"] == 1
    referrals = library["referrals"]
    assert referrals["intakes"] == 1  # the intake a week away has not taken place
    submitted_at = datetime.fromisoformat(held["submitted_at"])
    expected = (held_at - submitted_at).total_seconds() / 3600
    assert referrals["median_hours_to_intake"] == round(expected, 1)  # not 0 for the one a week away: not counted
    partner_b = partners[tenant.partner_b]
    assert (partner_b["name"], partner_b["status"]) == (ended["name"], "ended")
    assert partner_b["referrals"]["by_status"] == {"submitted": 1}  # referred to it, not by it
    assert (partner_b["referrals_from_partner"], partner_b["referrals_to_partner"]) == (0, 1)
    partner_a = partners[tenant.partner_a]
    assert (partner_a["referrals_from_partner"], partner_a["referrals_to_partner"]) == (2, 0)

    # The library's own overview names every partner its figures mention, the ended one too.
    own: dict[str, Any] = await call(platform, tenant.staff_a, "GET", "/api/v1/overview")
    named = {p["partner_id"]: p["name"] for p in own["partners"]}
    assert named[tenant.partner_b] == ended["name"]
    assert all(named.values()), own["partners"]
