"""Purchasing over HTTP: budget holders, a second approver above the threshold, budgets that refuse with the
numbers, every step an event, and an illegal step a clear 409 that changes nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from shared.clock import local_today
from shared.tenancy import Role
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant
from tests.services.courses.support import course_events, course_tenant
from tests.waiting import eventually

YEAR = 2027


class People:
    """Staff of library A: two budget holders and a colleague who requests, each with their own token."""

    def __init__(self, platform: RunningPlatform, tenant: Tenant) -> None:
        def staff() -> str:
            return platform.token(Role.STAFF, municipality=tenant.municipality, library=tenant.library_a)

        self.anna, self.bram, self.chris = staff(), staff(), staff()
        self.subject = {token: platform.issuer.verify(token).subject for token in (self.anna, self.bram, self.chris)}


@pytest.fixture(scope="module")
async def setting(platform: RunningPlatform) -> tuple[Tenant, People]:
    tenant = await course_tenant(platform)
    people = People(platform, tenant)
    library = tenant.library_a
    coordinator = platform.token(Role.COORDINATOR, municipality=tenant.municipality)
    async with (
        platform.client(people.anna) as anna,
        platform.client(people.chris) as chris,
        platform.client(coordinator) as municipality,
    ):
        # No staff member makes themselves the first budget holder: the municipality's coordinator appoints;
        # after that a budget holder may appoint too.
        selfmade = await anna.post(f"/api/v1/budget-holders/{library}", json={"subject": people.subject[people.anna]})
        assert selfmade.status_code == 403, selfmade.text
        first = await municipality.post(
            f"/api/v1/budget-holders/{library}", json={"subject": people.subject[people.anna]}
        )
        assert first.status_code == 201, first.text
        refused = await chris.post(f"/api/v1/budget-holders/{library}", json={"subject": people.subject[people.chris]})
        assert refused.status_code == 403
        second = await anna.post(f"/api/v1/budget-holders/{library}", json={"subject": people.subject[people.bram]})
        assert second.status_code == 201, second.text
        assert (await chris.put(f"/api/v1/budgets/{library}/{YEAR}", json={"amount_cents": 10**9})).status_code == 403
        budget = await anna.put(f"/api/v1/budgets/{library}/{YEAR}", json={"amount_cents": 500_000})
        assert budget.status_code == 200, budget.text
        assert (budget.json()["amount_cents"], budget.json()["available_cents"], budget.json()["version"]) == (
            500_000,
            500_000,
            1,
        )
        policy = await anna.put(f"/api/v1/purchasing-policies/{library}", json={"second_approver_above_cents": 200_000})
        assert policy.status_code == 200, policy.text
    return tenant, people


async def request(api: httpx.AsyncClient, estimated: int, **body: Any) -> httpx.Response:
    return await api.post(
        "/api/v1/purchases",
        json={
            "title": "Training 'Taalvriendelijk schrijven'",
            "purpose": "Vrijwilligers van het Taalhuis leren eenvoudige taal gebruiken",
            "audience": ["volunteers", "library_staff"],
            "estimated_cost_cents": estimated,
            "budget_year": YEAR,
            **body,
        },
    )


async def budget(api: httpx.AsyncClient, library: str) -> dict[str, Any]:
    return (await api.get(f"/api/v1/budgets/{library}/{YEAR}")).json()


async def test_a_purchase_goes_from_request_to_closed_with_two_approvers_and_the_budget_follows(
    platform: RunningPlatform, setting: tuple[Tenant, People]
) -> None:
    tenant, people = setting
    library = tenant.library_a
    async with (
        platform.client(people.anna) as anna,
        platform.client(people.bram) as bram,
        platform.client(people.chris) as chris,
    ):
        requested = await request(chris, 300_000)
        assert requested.status_code == 201, requested.text
        purchase = requested.json()
        assert (purchase["status"], purchase["for_volunteers"], purchase["version"]) == ("requested", True, 1)
        url = f"/api/v1/purchases/{purchase['id']}"

        quoted = await chris.post(
            f"{url}/quotes",
            json={
                "provider_name": "Volksuniversiteit",
                "provider_partner_id": tenant.partner_b,
                "amount_cents": 280_000,
            },
        )
        assert quoted.status_code == 201, quoted.text
        await chris.post(f"{url}/quotes", json={"provider_name": "ROC Midden", "amount_cents": 310_000})
        quote = quoted.json()["quotes"][0]
        assert quote["amount_cents"] == 280_000

        assert (await chris.post(f"{url}/approve", json={"quote_id": quote["id"]})).status_code == 403  # no holder
        first = await anna.post(f"{url}/approve", json={"quote_id": quote["id"]})
        assert first.status_code == 200, first.text
        assert first.json()["status"] == "awaiting_second_approval"  # 280,000 is above the threshold of 200,000
        assert (await budget(anna, library))["committed_cents"] == 0  # nothing committed on half an approval
        twice = await anna.post(f"{url}/approve", json={})
        assert twice.status_code == 403
        assert "another budget holder" in twice.json()["detail"]
        second = await bram.post(f"{url}/approve", json={})
        assert second.status_code == 200, second.text
        approved = second.json()
        assert approved["status"] == "approved"
        assert approved["approved_amount_cents"] == 280_000
        assert {a["approver"] for a in approved["approvals"]} == {
            people.subject[people.anna],
            people.subject[people.bram],
        }
        figures = await budget(anna, library)
        assert (figures["committed_cents"], figures["spent_cents"], figures["available_cents"]) == (280_000, 0, 220_000)

        ordered = await chris.post(f"{url}/order", json={"order_reference": "INK-2027-014"})
        assert ordered.status_code == 200, ordered.text
        today = local_today().isoformat()
        delivered = await chris.post(
            f"{url}/delivery", json={"sessions_held": 4, "participants": 12, "delivered_on": today}
        )
        assert delivered.status_code == 200, delivered.text
        invoiced = await chris.post(
            f"{url}/invoice", json={"invoice_amount_cents": 270_000, "invoice_reference": "F-88231"}
        )
        assert invoiced.status_code == 200, invoiced.text
        figures = await budget(anna, library)
        assert (figures["committed_cents"], figures["spent_cents"], figures["available_cents"]) == (0, 270_000, 230_000)
        closed = await chris.post(f"{url}/close", json={"expected_version": invoiced.json()["version"]})
        assert closed.status_code == 200, closed.text
        assert [step["status"] for step in closed.json()["history"]] == [
            "requested",
            "quoted",
            "quoted",
            "awaiting_second_approval",
            "approved",
            "ordered",
            "delivered",
            "invoiced",
            "closed",
        ]

    async def delivered_event() -> list[Any]:
        events = await course_events(platform, "purchase.delivered", tenant.municipality)
        return [e for e in events if e.data["purchase_id"] == purchase["id"]]

    (event,) = await eventually(delivered_event, what="purchase.delivered on JetStream")
    assert event.data["for_volunteers"] is True
    assert event.data["provider_partner_id"] == tenant.partner_b
    assert (event.data["sessions_held"], event.data["participants"]) == (4, 12)
    for step in ("requested", "quoted", "partly_approved", "approved", "ordered", "invoiced", "closed"):
        events = await course_events(platform, f"purchase.{step}", tenant.municipality)
        assert any(e.data["purchase_id"] == purchase["id"] for e in events), step


async def test_what_would_exceed_the_budget_is_refused_with_the_numbers(
    platform: RunningPlatform, setting: tuple[Tenant, People]
) -> None:
    tenant, people = setting
    async with platform.client(people.chris) as chris, platform.client(people.anna) as anna:
        before = await budget(anna, tenant.library_a)
        too_much = await request(chris, before["available_cents"] + 100_000)
        assert too_much.status_code == 409
        assert too_much.json()["detail"] == (
            f"budget {YEAR} of library {tenant.library_a}: {before['amount_cents']} cents, "
            f"committed {before['committed_cents']}, spent {before['spent_cents']}; this request of "
            f"{before['available_cents'] + 100_000} cents exceeds it by 100000"
        )
        assert too_much.json()["excess_cents"] == 100_000

        fits = (await request(chris, before["available_cents"])).json()
        quoted = await chris.post(
            f"/api/v1/purchases/{fits['id']}/quotes",
            json={"provider_name": "Duurder dan gedacht", "amount_cents": before["available_cents"] + 30_000},
        )
        quote_id = quoted.json()["quotes"][0]["id"]
        refused = await anna.post(f"/api/v1/purchases/{fits['id']}/approve", json={"quote_id": quote_id})
        assert refused.status_code == 409
        assert (
            f"this approval of {before['available_cents'] + 30_000} cents exceeds it by 30000"
            in refused.json()["detail"]
        )
        after = (await anna.get(f"/api/v1/purchases/{fits['id']}")).json()
        assert (after["status"], after["approvals"], after["version"]) == ("quoted", [], quoted.json()["version"])
        assert await budget(anna, tenant.library_a) == before


async def test_cancelling_an_approved_purchase_gives_the_commitment_back(
    platform: RunningPlatform, setting: tuple[Tenant, People]
) -> None:
    tenant, people = setting
    async with platform.client(people.chris) as chris, platform.client(people.bram) as bram:
        before = await budget(bram, tenant.library_a)
        purchase = (await request(chris, 10_000)).json()
        quoted = (
            await chris.post(
                f"/api/v1/purchases/{purchase['id']}/quotes",
                json={"provider_name": "Bibliotheeknetwerk", "amount_cents": 9_500},
            )
        ).json()
        # Below the threshold one budget holder is enough.
        approved = await bram.post(
            f"/api/v1/purchases/{purchase['id']}/approve", json={"quote_id": quoted["quotes"][0]["id"]}
        )
        assert approved.json()["status"] == "approved"
        assert (await budget(bram, tenant.library_a))["committed_cents"] == before["committed_cents"] + 9_500
        cancelled = await chris.post(f"/api/v1/purchases/{purchase['id']}/cancel", json={"reason": "niet meer nodig"})
        assert cancelled.status_code == 200, cancelled.text
        assert await budget(bram, tenant.library_a) == before


async def test_an_illegal_step_is_a_clear_409_and_changes_nothing(
    platform: RunningPlatform, setting: tuple[Tenant, People]
) -> None:
    tenant, people = setting
    async with platform.client(people.chris) as chris:
        purchase = (await request(chris, 1_000)).json()
        url = f"/api/v1/purchases/{purchase['id']}"
        for step, body in (
            ("order", {"order_reference": "X-1"}),
            ("invoice", {"invoice_amount_cents": 1_000, "invoice_reference": "F-1"}),
            ("close", {}),
        ):
            refused = await chris.post(f"{url}/{step}", json=body)
            assert refused.status_code == 409, (step, refused.text)
            problem = refused.json()
            assert refused.headers["content-type"].startswith("application/problem+json")
            assert problem["type"] == "urn:partnernet:problem:illegal-transition"
            assert problem["state"] == "requested"
            assert problem["detail"].startswith(f"a purchase that is requested cannot {step}")
        after = (await chris.get(url)).json()
    assert (after["status"], after["version"], len(after["history"])) == ("requested", 1, 1)

    async def requested_published() -> list[Any]:
        events = await course_events(platform, "purchase.requested", tenant.municipality)
        return [e for e in events if e.data["purchase_id"] == purchase["id"]]

    await eventually(requested_published, what="purchase.requested on JetStream")
    assert not [
        e
        for e in await course_events(platform, "purchase.ordered", tenant.municipality)
        if e.data["purchase_id"] == purchase["id"]
    ]


async def test_purchasing_is_the_librarys_own_coordinators_read_partners_see_nothing(
    platform: RunningPlatform, setting: tuple[Tenant, People], elsewhere: Tenant
) -> None:
    tenant, people = setting
    async with platform.client(people.chris) as chris:
        purchase = (await request(chris, 1_000)).json()
    coordinator = platform.token(Role.COORDINATOR, municipality=tenant.municipality)
    async with platform.client(coordinator) as api:
        assert (await api.get(f"/api/v1/purchases/{purchase['id']}")).status_code == 200
        assert (await api.get(f"/api/v1/budgets/{tenant.library_a}/{YEAR}")).json()["amount_cents"] == 500_000
        assert (await api.post(f"/api/v1/purchases/{purchase['id']}/cancel", json={"reason": "x"})).status_code == 403
        listed = (await api.get("/api/v1/purchases", params={"library": tenant.library_a})).json()
        assert purchase["id"] in [p["id"] for p in listed["items"]]
    async with platform.client(tenant.staff_b) as other_library:
        assert (await other_library.get(f"/api/v1/purchases/{purchase['id']}")).status_code == 404
        assert (
            await other_library.post(f"/api/v1/purchases/{purchase['id']}/cancel", json={"reason": "x"})
        ).status_code == 404
        assert (await other_library.get(f"/api/v1/budgets/{tenant.library_a}/{YEAR}")).status_code == 404
        listed = (await other_library.get("/api/v1/purchases", params={"library": tenant.library_a})).json()
        assert listed["items"] == []
    async with platform.client(tenant.partner_a_token) as partner:
        assert (await partner.get("/api/v1/purchases")).status_code == 403
        assert (await partner.get(f"/api/v1/purchases/{purchase['id']}")).status_code == 403
    other_coordinator = platform.token(Role.COORDINATOR, municipality=elsewhere.municipality)
    async with platform.client(other_coordinator) as api:
        assert (await api.get(f"/api/v1/purchases/{purchase['id']}")).status_code == 404
