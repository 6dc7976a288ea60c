"""On a referral's page, staff of its library give the participant a code (shown once, or as the printable card),
revoke it, and decide possible duplicates; the same operations as the API, and nobody else may."""

from __future__ import annotations

import re
import uuid

from gateway.console.messages import NL
from tests.console.conftest import ConsoleClient, World
from tests.console.seed import referral


async def refer(world: World, name: str, *, accept: bool = False) -> str:
    async with world.platform.client(world.tenant.partner_a_token) as api:
        made = await api.post("/api/v1/referrals", json=referral(world.tenant.library_a, world.tenant.partner_a, name))
    assert made.status_code == 201, made.text
    if accept:  # a code is given from the acceptance on
        async with world.platform.client(world.tenant.staff_a) as api:
            assert (await api.post(f"/api/v1/referrals/{made.json()['id']}/accept")).status_code == 200
    return str(made.json()["id"])


async def test_staff_give_print_and_revoke_the_participants_code(console: ConsoleClient, world: World) -> None:
    waiting = await refer(world, f"Hanna {uuid.uuid4().hex[:6]}")
    await console.sign_in(world.tenant.staff_a)
    assert NL["code.not_now"] in (await console.get(f"/console/referrals/{waiting}")).text
    referral_id = await refer(world, f"Hanna {uuid.uuid4().hex[:6]}", accept=True)
    page = await console.get(f"/console/referrals/{referral_id}")
    assert NL["code.issue"] in page.text and NL["code.card"] in page.text
    issued = await console.post(
        f"/console/referrals/{referral_id}/participant-code/issue", {"contact_phone": "0301234567"}
    )
    assert issued.status_code == 201, issued.text
    assert issued.headers["cache-control"] == "no-store"
    code = re.search(r'id="participant-code-value">([^<]+)<', issued.text)
    address = re.search(r"<code>(https?://[^<]+)</code>", issued.text)
    assert code is not None and address is not None
    participant_page = address.group(1).removeprefix(world.base)
    assert (await console.http.get(participant_page)).status_code == 200  # the code opens the participant's page
    card = await console.post(f"/console/referrals/{referral_id}/participant-code/card")
    assert card.status_code == 201 and "Uw persoonlijke code" in card.text
    assert (await console.http.get(participant_page)).status_code == 404  # the card's new code stopped the first
    revoked = await console.post(f"/console/referrals/{referral_id}/participant-code/revoke")
    assert revoked.status_code == 303
    assert NL["done.code_revoked"] in (await console.get(revoked.headers["location"])).text
    bad_phone = await console.post(
        f"/console/referrals/{referral_id}/participant-code/issue", {"contact_phone": "bel me"}
    )
    assert bad_phone.status_code == 422 and NL["problem.invalid-input"] in bad_phone.text
    await console.sign_in(world.tenant.partner_a_token)
    await console.get("/console/inbox")
    refused = await console.post(f"/console/referrals/{referral_id}/participant-code/issue")
    assert refused.status_code == 403


async def test_staff_see_a_possible_duplicate_and_link_it(console: ConsoleClient, world: World) -> None:
    name = f"Rosa Duplo {uuid.uuid4().hex[:6]}"
    first = await refer(world, name)
    again = await refer(world, name)
    await console.sign_in(world.tenant.staff_a)
    page = await console.get(f"/console/referrals/{again}")
    assert f'href="/console/referrals/{first}"' in page.text and NL["duplicates.exact"] in page.text
    warning = re.search(
        rf'action="/console/referrals/{again}/duplicates/([0-9a-f-]{{36}})".*?name="expected_version" value="(\d+)"',
        page.text,
        re.S,
    )
    assert warning is not None
    decide = f"/console/referrals/{again}/duplicates/{warning.group(1)}"
    linked = await console.post(decide, {"step": "link", "expected_version": warning.group(2)})
    assert linked.status_code == 303, linked.text
    after = await console.get(linked.headers["location"])
    assert NL["done.duplicate_link"] in after.text and NL["duplicate_decision.linked"] in after.text
    stale = await console.post(decide, {"step": "separate", "expected_version": warning.group(2)})
    assert stale.status_code == 409
    unknown = await console.post(decide, {"step": "merge"})
    assert unknown.status_code == 422
