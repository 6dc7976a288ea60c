"""The console's pages over plain HTTP, on a municipality with something in it: what each role sees, the
volunteer pipeline's steps, a partner's webhooks and delivery log, purchases and the budget, the overview."""

from __future__ import annotations

import re

from gateway.console.messages import NL
from shared.tenancy import Role
from tests.console.conftest import ConsoleClient, World
from tests.console.seed import referral


async def test_the_volunteer_pipeline_takes_a_step_and_explains_a_refused_one(
    console: ConsoleClient, world: World
) -> None:
    await console.sign_in(world.tenant.staff_a)
    page = await console.get("/console/volunteers")
    assert page.status_code == 200
    assert "Taalmaatje" in page.text and "Joost Visser" in page.text
    applicant = re.search(r'id="v-([0-9a-f-]{36})">\s*<p class="name"><a href="[^"]+">Joost Visser', page.text)
    assert applicant is not None
    volunteer_id = applicant.group(1)
    version = re.search(
        rf'/console/volunteers/{volunteer_id}/step">.*?name="expected_version" value="(\d+)"', page.text, re.S
    )
    assert version is not None
    moved = await console.post(
        f"/console/volunteers/{volunteer_id}/step", {"step": "start_intake", "expected_version": version.group(1)}
    )
    assert moved.status_code == 303
    after = await console.get(moved.headers["location"])
    assert NL["done.volunteer_step"] in after.text
    stale = await console.post(
        f"/console/volunteers/{volunteer_id}/step", {"step": "start_screening", "expected_version": version.group(1)}
    )
    assert stale.status_code == 409
    assert NL["problem.conflict"] in stale.text


async def test_a_partner_adds_a_webhook_sees_its_secret_once_and_its_delivery_log(
    console: ConsoleClient, world: World
) -> None:
    await console.sign_in(world.tenant.partner_a_token)
    await console.get("/console/subscriptions")
    refused = await console.post("/console/subscriptions", {"url": "ftp://nowhere", "event_types": "referral.*"})
    assert refused.status_code == 422
    assert NL["problem.invalid-input"] in refused.text
    created = await console.post(
        "/console/subscriptions", {"url": "http://127.0.0.1:9/hook", "event_types": "referral.*", "description": "CRM"}
    )
    assert created.status_code == 201, created.text
    assert NL["subscriptions.secret_once"] in created.text
    secret = re.search(r'<code class="secret">([^<]+)</code>', created.text)
    assert secret is not None
    listed = await console.get("/console/subscriptions")
    assert "http://127.0.0.1:9/hook" in listed.text
    assert secret.group(1) not in listed.text  # shown once
    log_link = re.search(r'href="(/console/subscriptions/[0-9a-f-]{36})"', listed.text)
    assert log_link is not None
    log = await console.get(log_link.group(1))
    assert log.status_code == 200 and NL["deliveries.title"] in log.text
    replayed = await console.post(f"{log_link.group(1)}/replay-failed")
    assert replayed.status_code == 303
    assert NL["deliveries.replayed"].format(count=0) in (await console.get(replayed.headers["location"])).text


async def test_purchases_show_the_budget_and_the_requests(console: ConsoleClient, world: World) -> None:
    await console.sign_in(world.tenant.staff_a)
    page = await console.get("/console/purchases")
    assert page.status_code == 200
    assert "Training Taalvriendelijk schrijven" in page.text
    assert "€ 5.000,00" in page.text  # the budget, the Dutch way
    assert 'role="img"' in page.text  # the budget's chart


async def test_the_course_offer_shows_free_places_and_the_waiting_list(console: ConsoleClient, world: World) -> None:
    await console.sign_in(world.tenant.partner_a_token)  # partners see the municipality's offer too
    page = await console.get("/console/courses")
    assert page.status_code == 200
    row = re.search(r"Klik &amp; Tik voor beginners</a></th>(.*?)</tr>", page.text, re.S)
    assert row is not None
    numbers = re.findall(r'<td class="num">(\d+)', row.group(1))
    assert numbers[:4] == ["4", "4", "0", "2"]  # places, enrolled, free, waiting


async def test_staff_see_their_own_librarys_overview_and_coordinators_the_municipalitys(
    console: ConsoleClient, world: World
) -> None:
    await console.sign_in(world.tenant.staff_b)
    own = await console.get("/console/overview")
    assert own.status_code == 200
    assert world.tenant.library_b in own.text and world.tenant.library_a not in own.text
    await console.sign_in(world.coordinator)
    everything = await console.get("/console/overview")
    assert world.tenant.library_a in everything.text and world.tenant.library_b in everything.text
    assert everything.text.count("<svg") >= 5
    assert NL["chart.referrals_by_month"] in everything.text


async def test_the_network_shows_the_partner_map_and_the_partnerships(console: ConsoleClient, world: World) -> None:
    await console.sign_in(world.platform.token(Role.COORDINATOR, municipality=world.tenant.municipality))
    page = await console.get("/console/network")
    assert page.status_code == 200
    assert NL["partnership_role.outreach_partner"] in page.text
    assert world.tenant.library_a in page.text


async def test_the_network_lists_a_suspended_partnership(console: ConsoleClient, world: World) -> None:
    async with world.platform.client(world.tenant.staff_b) as api:
        body = {
            "library": world.tenant.library_b,
            "partner_id": world.tenant.partner_b,
            "roles": ["referrer"],
            "starts_on": "2026-01-01",
        }
        made = await api.post("/api/v1/partnerships", json=body)
        assert made.status_code == 201, made.text
        for step in ("activate", "suspend"):
            assert (await api.post(f"/api/v1/partnerships/{made.json()['id']}/{step}")).status_code == 200
    await console.sign_in(world.tenant.staff_b)
    page = await console.get("/console/network")
    assert page.status_code == 200, page.text
    assert NL["partnership_status.suspended"] in page.text


async def test_staff_take_the_lifecycle_steps_from_the_referral_page(console: ConsoleClient, world: World) -> None:
    async with world.platform.client(world.tenant.partner_a_token) as api:
        made = [
            (
                await api.post("/api/v1/referrals", json=referral(world.tenant.library_a, world.tenant.partner_a, name))
            ).json()
            for name in ("Lotte Smit", "Youssef Haddad")
        ]
    await console.sign_in(world.tenant.staff_a)

    async def step(referral_id: str, name: str, version: int, **fields: str) -> str:
        await console.get(f"/console/referrals/{referral_id}")
        done = await console.post(
            f"/console/referrals/{referral_id}/{name}", {"expected_version": str(version), **fields}
        )
        assert done.status_code == 303, done.text
        page = await console.get(done.headers["location"])
        assert NL[f"done.{name}"] in page.text
        found = re.search(r'id="referral-status" data-status="([a-z_]+)"', page.text)
        assert found is not None
        return found.group(1)

    first, second = (str(m["id"]) for m in made)
    assert await step(second, "decline", 1, reason="not_our_offer", note="Past beter bij het ROC") == "declined"
    assert await step(first, "accept", 1) == "accepted"
    intake = {"intake_at": "2026-01-15T10:00", "place": "Vestiging Noord", "contact_person_name": "Els"}
    assert await step(first, "plan-intake", 2, **intake) == "intake_planned"
    assert await step(first, "intake-held", 3) == "intake_held"
    assert await step(first, "complete", 4, outcome_course_finished="on", outcome_moved_to_work="on") == "completed"
    page = await console.get(f"/console/referrals/{first}")
    assert NL["outcome.moved_to_work"] in page.text and "/complete" not in page.text  # nothing left to do
    again = await console.post(f"/console/referrals/{second}/accept", {"expected_version": "2"})
    assert again.status_code == 409
    assert NL["problem.illegal-transition"] in again.text


async def test_a_library_refers_to_a_partner_who_then_sees_it_incoming_with_its_steps(
    console: ConsoleClient, world: World
) -> None:
    await console.sign_in(world.tenant.staff_a)
    form = await console.get("/console/referrals/new")
    assert f'value="{world.tenant.partner_a}"' in form.text  # the partners of the library's active partnerships
    sent = await console.post(
        "/console/referrals",
        {
            "receiving_partner_id": world.tenant.partner_a,
            "participant_name": "Ahmed Benali",
            "needs": ["job_seeking", "digital"],
            "reason": "Zoekt werk; wil een cv leren maken",
            "preferred_channel": "email",
            "contact_person_name": "Mieke van de bibliotheek",
            "consent_given_at": "2026-11-20T10:30",
            "consent_shares": ["contact_details", "reason"],
            "consent_purpose": "doorverwijzing naar het Sociaal Team",
            "consent_valid_until": "2099-01-01",
        },
    )
    assert sent.status_code == 303, sent.text
    referral_id = sent.headers["location"].split("/")[-1].split("?")[0]
    mine = await console.get("/console/inbox")
    outgoing = mine.text.split(NL["inbox.section_outgoing"])[1]
    assert f"row-{referral_id}" in outgoing
    await console.sign_in(world.tenant.partner_a_token)
    theirs = await console.get("/console/inbox")
    incoming = theirs.text.split(NL["inbox.section_incoming"])[1].split(NL["inbox.section_outgoing"])[0]
    assert f"row-{referral_id}" in incoming
    page = await console.get(f"/console/referrals/{referral_id}")
    assert f"/console/referrals/{referral_id}/accept" in page.text and "/withdraw" not in page.text


async def test_without_its_script_the_inbox_does_not_say_it_is_starting_live_updates(
    console: ConsoleClient, world: World
) -> None:
    """'Live bijwerken wordt gestart…' stood there for ever where the script did not run."""
    await console.sign_in(world.tenant.staff_a)
    inbox = (await console.get("/console/inbox")).text
    live = re.search(r'<p class="live" id="live"[^>]*>', inbox)
    assert live is not None and " hidden" in live.group(0), "shown by the script only"
    assert f'<noscript><p class="live">{NL["inbox.no_script"]}</p></noscript>' in inbox
