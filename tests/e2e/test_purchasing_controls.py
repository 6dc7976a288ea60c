"""Purchasing controls over HTTP: an invoice above the approved amount waits for budget holders to approve the
difference (two above the threshold) or is refused; an expired quote is not approved; a delivery does not
precede its order; the coordinator appoints budget holders, on record; an invited partner quotes for itself
and follows its own order, delivery and invoice."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from services.courses import store
from services.courses.commands.purchasing import approval
from shared.clock import FixedClock, local_today
from shared.contracts.courses.api.purchasing import Approval, ApprovePurchase
from shared.errors import Conflict
from shared.tenancy import Actor, Role
from shared.unit_of_work import UnitOfWork
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant
from tests.services.courses.support import course_events, course_tenant, courses_know
from tests.waiting import eventually

YEAR = datetime.now(UTC).year
THRESHOLD = 200_000


class People:
    """Staff of library A: two budget holders, a requester and an administrator, each with their own token."""

    def __init__(self, platform: RunningPlatform, tenant: Tenant) -> None:
        def staff() -> str:
            return platform.token(Role.STAFF, municipality=tenant.municipality, library=tenant.library_a)

        self.anna, self.bram, self.chris, self.dirk = staff(), staff(), staff(), staff()
        self.subject = {t: platform.issuer.verify(t).subject for t in (self.anna, self.bram, self.chris, self.dirk)}
        self.coordinator = platform.token(Role.COORDINATOR, municipality=tenant.municipality)

    def actor(self, platform: RunningPlatform, token: str) -> Actor:
        return platform.issuer.verify(token)


class Setting:
    def __init__(self, tenant: Tenant, people: People, provider: str, provider_token: str, rival: str) -> None:
        self.tenant, self.people = tenant, people
        self.provider, self.provider_token, self.rival = provider, provider_token, rival


@pytest.fixture(scope="module")
async def setting(platform: RunningPlatform) -> Setting:
    tenant = await course_tenant(platform)
    people = People(platform, tenant)
    library = tenant.library_a
    providers = []
    async with platform.client(tenant.operator) as operator:
        for name in ("Volksuniversiteit Zuid", "Taalschool Noord"):
            body = {
                "name": f"{name} {uuid.uuid4().hex[:6]}",
                "kind": "course_provider",
                "municipality": tenant.municipality,
            }
            registered = await operator.post("/api/v1/partners", json=body)
            assert registered.status_code == 201, registered.text
            providers.append(registered.json()["id"])
    await courses_know(platform, tenant)

    async def providers_known() -> bool:
        async with platform.services["courses"].sessions() as session:
            ids = [uuid.UUID(p) for p in providers]
            known = (
                await session.execute(sa.select(sa.func.count()).where(store.known_partners.c.id.in_(ids)))
            ).scalar_one()
        return known == len(providers)

    await eventually(providers_known, what="the courses service to learn the providers")
    async with platform.client(people.coordinator) as municipality, platform.client(people.anna) as anna:
        for holder in (people.anna, people.bram):
            appointed = await municipality.post(
                f"/api/v1/budget-holders/{library}", json={"subject": people.subject[holder]}
            )
            assert appointed.status_code == 201, appointed.text
        assert (
            await anna.put(f"/api/v1/budgets/{library}/{YEAR}", json={"amount_cents": 2_000_000})
        ).status_code == 200
        policy = await anna.put(
            f"/api/v1/purchasing-policies/{library}", json={"second_approver_above_cents": THRESHOLD}
        )
        assert policy.status_code == 200, policy.text
    provider_token = platform.token(Role.PARTNER, municipality=tenant.municipality, partner=providers[0])
    return Setting(tenant, people, providers[0], provider_token, providers[1])


async def request(api: httpx.AsyncClient, estimated: int) -> dict[str, Any]:
    made = await api.post(
        "/api/v1/purchases",
        json={
            "title": "Training 'Klantgericht werken met laaggeletterden'",
            "purpose": "Baliemedewerkers herkennen laaggeletterdheid en verwijzen warm door",
            "audience": ["library_staff"],
            "estimated_cost_cents": estimated,
            "budget_year": YEAR,
        },
    )
    assert made.status_code == 201, made.text
    return dict(made.json())


async def ordered_and_delivered(
    platform: RunningPlatform, setting: Setting, amount: int, *, approvers: list[str]
) -> str:
    """A purchase of `amount` approved by `approvers`, ordered and delivered today; its URL."""
    people = setting.people
    async with platform.client(people.chris) as chris:
        purchase = await request(chris, amount)
        url = f"/api/v1/purchases/{purchase['id']}"
        quoted = await chris.post(f"{url}/quotes", json={"provider_name": "ROC Zuid", "amount_cents": amount})
        quote_id = quoted.json()["quotes"][0]["id"]
    for index, approver in enumerate(approvers):
        async with platform.client(approver) as api:
            approved = await api.post(f"{url}/approve", json={"quote_id": quote_id} if index == 0 else {})
            assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    async with platform.client(people.chris) as chris:
        assert (await chris.post(f"{url}/order", json={"order_reference": "INK-7"})).status_code == 200
        today = local_today().isoformat()
        delivery = {"sessions_held": 2, "participants": 9, "delivered_on": today}
        assert (await chris.post(f"{url}/delivery", json=delivery)).status_code == 200
    return url


async def budget(api: httpx.AsyncClient, library: str) -> dict[str, Any]:
    return dict((await api.get(f"/api/v1/budgets/{library}/{YEAR}")).json())


async def test_an_invoice_far_above_the_approved_amount_needs_two_budget_holders_for_the_difference(
    platform: RunningPlatform, setting: Setting
) -> None:
    people, library = setting.people, setting.tenant.library_a
    # Approved by one budget holder: 190,000 is below the threshold of 200,000.
    url = await ordered_and_delivered(platform, setting, 190_000, approvers=[people.anna])
    async with (
        platform.client(people.dirk) as dirk,
        platform.client(people.anna) as anna,
        platform.client(people.bram) as bram,
    ):
        before = await budget(anna, library)
        # 95% above the approved amount, recorded by a staff member who is no budget holder.
        held = await dirk.post(f"{url}/invoice", json={"invoice_amount_cents": 370_500, "invoice_reference": "F-95"})
        assert held.status_code == 200, held.text
        purchase = held.json()
        assert purchase["status"] == "invoice_awaiting_approval"
        assert purchase["invoice_amount_cents"] is None  # nothing booked yet
        (invoice,) = purchase["invoices"]
        assert (invoice["amount_cents"], invoice["excess_cents"], invoice["approvers_needed"], invoice["status"]) == (
            370_500,
            180_500,
            2,  # the invoiced amount is above the threshold: two budget holders, as a purchase of 370,500 needs
            "awaiting_approval",
        )
        assert await budget(anna, library) == before  # the commitment stays, nothing is spent

        assert (await dirk.post(f"{url}/invoice/approve", json={})).status_code == 403  # no budget holder
        first = await anna.post(f"{url}/invoice/approve", json={"note": "meer sessies gegeven dan gepland"})
        assert first.status_code == 200, first.text
        assert first.json()["status"] == "invoice_awaiting_approval"
        assert await budget(anna, library) == before
        again = await anna.post(f"{url}/invoice/approve", json={})
        assert again.status_code == 403
        assert "another budget holder" in again.json()["detail"]
        second = await bram.post(f"{url}/invoice/approve", json={})
        assert second.status_code == 200, second.text
        booked = second.json()
        assert (booked["status"], booked["invoice_amount_cents"], booked["invoice_reference"]) == (
            "invoiced",
            370_500,
            "F-95",
        )
        assert booked["invoices"][0]["approvers"] == [people.subject[people.anna], people.subject[people.bram]]
        after = await budget(anna, library)
        assert (after["committed_cents"], after["spent_cents"]) == (
            before["committed_cents"] - 190_000,
            before["spent_cents"] + 370_500,
        )

    async def published(event_type: str) -> list[Any]:
        events = await course_events(platform, event_type, setting.tenant.municipality)
        return [e for e in events if e.data["purchase_id"] == booked["id"]]

    (held_event,) = await eventually(lambda: published("purchase.invoice_held"), what="purchase.invoice_held")
    assert (held_event.data["excess_cents"], held_event.data["approvers_needed"]) == (180_500, 2)
    await eventually(lambda: published("purchase.excess_partly_approved"), what="purchase.excess_partly_approved")
    (invoiced,) = await eventually(lambda: published("purchase.invoiced"), what="purchase.invoiced")
    assert invoiced.data["excess_approvers"] == [people.subject[people.anna], people.subject[people.bram]]


async def test_a_refused_invoice_goes_back_to_delivered_and_spends_nothing(
    platform: RunningPlatform, setting: Setting
) -> None:
    people, library = setting.people, setting.tenant.library_a
    url = await ordered_and_delivered(platform, setting, 10_000, approvers=[people.bram])
    async with platform.client(people.chris) as chris, platform.client(people.anna) as anna:
        before = await budget(anna, library)
        held = await chris.post(f"{url}/invoice", json={"invoice_amount_cents": 12_000, "invoice_reference": "F-12"})
        assert held.json()["invoices"][0]["approvers_needed"] == 1  # 12,000 is below the threshold
        assert (await chris.post(f"{url}/invoice/refuse", json={"reason": "x"})).status_code == 403
        refused = await anna.post(f"{url}/invoice/refuse", json={"reason": "niet afgesproken; creditnota gevraagd"})
        assert refused.status_code == 200, refused.text
        assert (refused.json()["status"], refused.json()["invoices"][0]["status"]) == ("delivered", "refused")
        assert await budget(anna, library) == before
        # Nothing waits any more: approving is an illegal step, and a corrected invoice books at once.
        late = await anna.post(f"{url}/invoice/approve", json={})
        assert late.status_code == 409
        assert late.json()["type"] == "urn:partnernet:problem:illegal-transition"
        corrected = await chris.post(
            f"{url}/invoice", json={"invoice_amount_cents": 10_000, "invoice_reference": "F-13"}
        )
        assert corrected.json()["status"] == "invoiced"
        assert (await budget(anna, library))["spent_cents"] == before["spent_cents"] + 10_000


async def test_an_expired_quote_is_neither_added_nor_approved(platform: RunningPlatform, setting: Setting) -> None:
    people = setting.people
    today = local_today()
    async with platform.client(people.chris) as chris:
        purchase = await request(chris, 5_000)
        url = f"/api/v1/purchases/{purchase['id']}"
        stale = {"provider_name": "Bibliotheeknetwerk", "amount_cents": 4_000, "valid_until": str(today - timedelta(2))}
        refused = await chris.post(f"{url}/quotes", json=stale)
        assert refused.status_code == 422, refused.text
        assert "expired" in refused.json()["detail"]
        lasts = {"provider_name": "Bibliotheeknetwerk", "amount_cents": 4_000, "valid_until": str(today + timedelta(1))}
        quoted = (await chris.post(f"{url}/quotes", json=lasts)).json()
    quote_id = quoted["quotes"][0]["id"]
    # Three days on, by a clock the test holds: the quote's last day has passed.
    later = UnitOfWork(platform.services["courses"].sessions, FixedClock(datetime.now(UTC) + timedelta(days=3)))
    command = ApprovePurchase(purchase_id=uuid.UUID(purchase["id"]), approval=Approval(quote_id=uuid.UUID(quote_id)))
    with pytest.raises(Conflict, match=f"quote {quote_id} was valid until"):
        await approval.approve_purchase(later, people.actor(platform, people.anna), command)
    async with platform.client(people.anna) as anna:
        unchanged = (await anna.get(url)).json()
        assert (unchanged["status"], unchanged["approvals"], unchanged["version"]) == ("quoted", [], quoted["version"])
        approved_today = await anna.post(f"{url}/approve", json={"quote_id": quote_id})
        assert approved_today.json()["status"] == "approved"  # still valid today


async def test_a_delivery_before_the_order_is_refused(platform: RunningPlatform, setting: Setting) -> None:
    people = setting.people
    async with platform.client(people.chris) as chris, platform.client(people.anna) as anna:
        purchase = await request(chris, 3_000)
        url = f"/api/v1/purchases/{purchase['id']}"
        quoted = (await chris.post(f"{url}/quotes", json={"provider_name": "ROC", "amount_cents": 3_000})).json()
        await anna.post(f"{url}/approve", json={"quote_id": quoted["quotes"][0]["id"]})
        ordered = (await chris.post(f"{url}/order", json={"order_reference": "INK-8"})).json()
        assert ordered["ordered_at"] is not None
        yesterday = (local_today() - timedelta(days=1)).isoformat()
        early = await chris.post(
            f"{url}/delivery", json={"sessions_held": 1, "participants": 4, "delivered_on": yesterday}
        )
        assert early.status_code == 422, early.text
        assert "before the order" in early.json()["detail"]
        after = (await chris.get(url)).json()
        assert (after["status"], after["version"]) == ("ordered", ordered["version"])


async def test_the_coordinator_appoints_budget_holders_and_every_change_is_on_record(
    platform: RunningPlatform, setting: Setting
) -> None:
    people, library = setting.people, setting.tenant.library_a
    async with platform.client(people.chris) as chris, platform.client(people.coordinator) as municipality:
        assert (
            await chris.post(f"/api/v1/budget-holders/{library}", json={"subject": people.subject[people.chris]})
        ).status_code == 403
        dirk = people.subject[people.dirk]
        assert (await municipality.post(f"/api/v1/budget-holders/{library}", json={"subject": dirk})).status_code == 201
        removed = await municipality.delete(f"/api/v1/budget-holders/{library}/{dirk}")
        assert removed.status_code == 200, removed.text
        history = (await chris.get(f"/api/v1/budget-holders/{library}/history")).json()["items"]
    coordinator = platform.issuer.verify(people.coordinator).subject
    assert [(h["subject"], h["change"], h["actor"], h["actor_role"]) for h in history][-2:] == [
        (dirk, "appointed", coordinator, "coordinator"),
        (dirk, "removed", coordinator, "coordinator"),
    ]
    assert [h["subject"] for h in history[:2]] == [people.subject[people.anna], people.subject[people.bram]]
    async with platform.client(setting.tenant.staff_b) as other_library:
        assert (await other_library.get(f"/api/v1/budget-holders/{library}/history")).status_code == 404

    async def appointed() -> list[Any]:
        events = await course_events(platform, "budget_holder.appointed", setting.tenant.municipality)
        return [e for e in events if e.data["subject"] == dirk]

    (event,) = await eventually(appointed, what="budget_holder.appointed on JetStream")
    assert (event.data["appointed_by"], event.data["appointed_by_role"]) == (coordinator, "coordinator")


async def test_an_invited_partner_quotes_itself_and_follows_its_own_order_delivery_and_invoice(
    platform: RunningPlatform, setting: Setting
) -> None:
    people, provider = setting.people, setting.provider
    mine = f"/api/v1/partners/{provider}/purchases"
    async with platform.client(people.chris) as chris, platform.client(setting.provider_token) as partner:
        purchase = await request(chris, 150_000)
        url = f"/api/v1/purchases/{purchase['id']}"
        # Not invited: the partner cannot see or quote for it.
        assert (await partner.get(f"{mine}/{purchase['id']}")).status_code == 404
        assert (await partner.post(f"{mine}/{purchase['id']}/quotes", json={"amount_cents": 1})).status_code == 404
        for partner_id in (provider, setting.rival):
            invited = await chris.post(f"{url}/invitations", json={"partner_id": partner_id})
            assert invited.status_code == 200, invited.text
        assert invited.json()["invited_partner_ids"] == [provider, setting.rival]
        assert (await chris.post(f"{url}/invitations", json={"partner_id": provider})).status_code == 409

        listed = (await partner.get(mine)).json()["items"]
        seen = next(p for p in listed if p["id"] == purchase["id"])
        assert seen["standing"] == "invited"
        assert "estimated_cost_cents" not in seen and "approvals" not in seen  # not the library's own numbers
        valid_until = (local_today() + timedelta(days=30)).isoformat()
        submitted = await partner.post(
            f"{mine}/{purchase['id']}/quotes",
            json={"amount_cents": 140_000, "description": "4 bijeenkomsten", "valid_until": valid_until},
        )
        assert submitted.status_code == 201, submitted.text
        (own,) = submitted.json()["quotes"]
        assert submitted.json()["standing"] == "quoted"

    rival_token = platform.token(Role.PARTNER, municipality=setting.tenant.municipality, partner=setting.rival)
    async with platform.client(rival_token) as rival:
        await rival.post(
            f"/api/v1/partners/{setting.rival}/purchases/{purchase['id']}/quotes", json={"amount_cents": 145_000}
        )
        # Another partner's purchases are not its own: as if they did not exist.
        assert (await rival.get(mine)).status_code == 404
        assert (await rival.get(f"{mine}/{purchase['id']}")).status_code == 404
    async with platform.client(people.anna) as anna, platform.client(people.chris) as chris:
        staff_view = (await anna.get(url)).json()
        ours = next(q for q in staff_view["quotes"] if q["provider_partner_id"] == provider)
        assert ours["id"] == own["id"] and ours["provider_name"].startswith("Volksuniversiteit Zuid")
        assert (await anna.post(f"{url}/approve", json={"quote_id": own["id"]})).json()["status"] == "approved"
        await chris.post(f"{url}/order", json={"order_reference": "INK-2031"})
        today = local_today().isoformat()
        await chris.post(f"{url}/delivery", json={"sessions_held": 4, "participants": 11, "delivered_on": today})
        invoiced = await chris.post(
            f"{url}/invoice", json={"invoice_amount_cents": 140_000, "invoice_reference": "VU-1"}
        )
        assert invoiced.json()["status"] == "invoiced"
    async with platform.client(setting.provider_token) as partner, platform.client(rival_token) as rival:
        followed = (await partner.get(f"{mine}/{purchase['id']}")).json()
        assert (followed["standing"], followed["status"], followed["order_reference"]) == (
            "chosen",
            "invoiced",
            "INK-2031",
        )
        assert (followed["delivered_on"], followed["participants"]) == (today, 11)
        assert (followed["invoice_amount_cents"], followed["invoice_reference"]) == (140_000, "VU-1")
        lost = (await rival.get(f"/api/v1/partners/{setting.rival}/purchases/{purchase['id']}")).json()
        assert (lost["standing"], lost["status"], lost["order_reference"], lost["invoice_amount_cents"]) == (
            "not_chosen",
            None,
            None,
            None,
        )
        assert [q["amount_cents"] for q in lost["quotes"]] == [145_000]  # only its own quote

    async def invited_events() -> list[Any]:
        events = await course_events(platform, "purchase.provider_invited", setting.tenant.municipality)
        return [e for e in events if e.data["purchase_id"] == purchase["id"]]

    assert {e.data["partner_id"] for e in await eventually(invited_events, what="invitations")} == {
        provider,
        setting.rival,
    }
