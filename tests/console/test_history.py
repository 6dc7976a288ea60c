"""A referral's history in the console (issue 20): a status shows where a step changed it; a step that leaves the
status as it was (an erasure, a code given) says what it did instead of repeating the status. After an erasure a
completed referral's history read "afgerond" twice."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from gateway.console.messages import EN, NL
from tests.console.conftest import ConsoleClient, World
from tests.console.seed import referral


def history_of(html: str) -> str:
    found = re.search(r'<ol class="history">(.*?)</ol>', html, re.S)
    assert found is not None, "no history on the page"
    return found.group(1)


async def completed_referral(world: World) -> str:
    async with world.platform.client(world.tenant.partner_a_token) as partner:
        body = referral(world.tenant.library_a, world.tenant.partner_a, f"Wim Klaar {uuid.uuid4().hex[:6]}")
        made = await partner.post("/api/v1/referrals", json=body)
    assert made.status_code == 201, made.text
    base = f"/api/v1/referrals/{made.json()['id']}"
    an_hour_ago = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    intake = {"intake_at": an_hour_ago, "place": "Bibliotheek Centrum", "contact_person": {"name": "Anna"}}
    async with world.platform.client(world.tenant.staff_a) as staff:
        steps: list[tuple[str, dict[str, Any] | None]] = [
            ("accept", None),
            ("plan-intake", intake),
            ("intake-held", None),
        ]
        for path, step_body in steps:
            assert (await staff.post(f"{base}/{path}", json=step_body)).status_code == 200
        done = await staff.post(f"{base}/complete", json={"outcome": {"course_finished": True}})
    assert done.status_code == 200, done.text
    return str(made.json()["id"])


async def test_after_an_erasure_the_history_says_completed_once_and_then_erased(
    console: ConsoleClient, world: World
) -> None:
    referral_id = await completed_referral(world)
    await console.sign_in(world.tenant.staff_a)
    await console.get(f"/console/people?referral_id={referral_id}")
    erased = await console.post("/console/people/erase", {"referral_id": referral_id, "confirm": "yes"})
    assert erased.status_code == 303, erased.text

    async with world.platform.client(world.tenant.staff_a) as staff:
        view = (await staff.get(f"/api/v1/referrals/{referral_id}")).json()
    steps = [(entry["step"], entry["status"]) for entry in view["history"]]
    assert steps[-2:] == [("complete", "completed"), ("anonymise", "completed")]
    assert [step for step, _ in steps].count("complete") == 1  # the API records one completion and one erasure

    history = history_of((await console.get(f"/console/referrals/{referral_id}")).text)
    assert history.count("status-completed") == 1
    assert history.count(f">{NL['status.completed']}<") == 1  # "afgerond" once
    assert NL["history.anonymise"] in history
    lines = re.findall(r"<li>(.*?)</li>", history, re.S)
    assert NL["history.anonymise"] in lines[-1] and "status-completed" not in lines[-1]
    assert [line.count('class="badge status-') for line in lines] == [1, 1, 1, 1, 1, 0]

    await console.post("/console/language", {"lang": "en", "next": f"/console/referrals/{referral_id}"})
    english = history_of((await console.get(f"/console/referrals/{referral_id}")).text)
    assert english.count(f">{EN['status.completed']}<") == 1 and EN["history.anonymise"] in english


async def test_a_code_given_reads_as_such_not_as_the_status_again(console: ConsoleClient, world: World) -> None:
    async with world.platform.client(world.tenant.partner_a_token) as partner:
        body = referral(world.tenant.library_a, world.tenant.partner_a, f"Els Code {uuid.uuid4().hex[:6]}")
        made = (await partner.post("/api/v1/referrals", json=body)).json()
    async with world.platform.client(world.tenant.staff_a) as staff:
        assert (await staff.post(f"/api/v1/referrals/{made['id']}/accept")).status_code == 200
    await console.sign_in(world.tenant.staff_a)
    await console.get(f"/console/referrals/{made['id']}")
    issued = await console.post(f"/console/referrals/{made['id']}/participant-code/issue")
    assert issued.status_code == 201, issued.text
    history = history_of((await console.get(f"/console/referrals/{made['id']}")).text)
    assert history.count("status-accepted") == 1 and NL["history.issue_participant_code"] in history
