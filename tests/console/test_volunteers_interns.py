"""The console's volunteers page shows the states issue 18 added: an intern from an ROC with the intern-supplier
role arrives for an intake and moves on like anyone new, an active intern's next step ends the internship (no
"inactive"), and a certificate of conduct shows until when it counts; in Dutch and English."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

from gateway.console.messages import EN, NL
from shared.clock import local_today
from tests.console.conftest import ConsoleClient, World
from tests.services.volunteers.volunteer_tenant import activate_partnership, known_to_volunteers, register_partner


def card(page: str, person_id: str) -> str:
    found = re.search(rf'<li class="card person" id="v-{person_id}">(.*?)</li>', page, re.S)
    assert found is not None, f"no card for {person_id}"
    return found.group(1)


async def test_interns_move_through_intake_and_screening_and_a_certificate_shows_its_end(
    console: ConsoleClient, world: World
) -> None:
    tag = uuid.uuid4().hex[:6]
    platform, tenant = world.platform, world.tenant
    roc = await register_partner(platform, tenant, f"ROC {tag}", "adult_education_school")
    partnership = await activate_partnership(platform, tenant, roc, tenant.library_a, "intern_supplier")
    await known_to_volunteers(platform, [tenant.library_a], [roc], [partnership])
    body = {
        "school_partner_id": roc,
        "starts_on": str(local_today()),
        "ends_on": str(local_today() + timedelta(days=60)),
        "supervisor": {"name": "Mw. T. Jong"},
    }
    async with platform.client(tenant.staff_a) as staff:
        arriving = (await staff.post("/api/v1/interns", json={**body, "person": {"name": f"Noah Aksoy{tag}"}})).json()
        started = (await staff.post("/api/v1/interns", json={**body, "person": {"name": f"Lina Smit{tag}"}})).json()
        for step in ("start_screening", "activate"):
            assert (await staff.post(f"/api/v1/volunteers/{started['id']}/{step}")).status_code == 200
        volunteer = await staff.post(
            "/api/v1/applications",
            json={"person": {"name": f"Sem Kok{tag}"}, "certificate_of_conduct_required": True},
        )
        base = f"/api/v1/volunteers/{volunteer.json()['id']}/certificate-of-conduct"
        await staff.post(f"{base}/requests")
        received = await staff.post(f"{base}/receipts", json={"issued_on": str(local_today())})
    assert arriving["status"] == "intake", arriving
    valid_until = date.fromisoformat(received.json()["certificate"]["valid_until"])

    await console.sign_in(tenant.staff_a)
    for lang, words in (("nl", NL), ("en", EN)):
        console.http.cookies.set("pn_lang", lang)
        page = (await console.get("/console/volunteers")).text
        intake = card(page, arriving["id"])
        active = card(page, started["id"])
        screened = card(page, volunteer.json()["id"])

        assert words["volunteers.intern"] in intake and words["volunteer_step.start_screening"] in intake
        assert words["volunteer_step.end"] in active and words["volunteer_step.deactivate"] not in active
        assert words["certificate.requested"] not in screened and words["certificate.valid"] in screened
        assert str(valid_until.year) in screened
