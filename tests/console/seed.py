"""Something to show: a library's budget and purchase, a course with a session and enrolments, a vacancy with
applicants, and referrals in a few states, all made through the public API (as a person would)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt

from shared.clock import local_today

YEAR = datetime.now(UTC).year


def subject_of(token: str) -> str:
    return str(jwt.decode(token, options={"verify_signature": False})["sub"])


def referral(library: str, partner_id: str, name: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "library": library,
        "referring_partner_id": partner_id,
        "contact_person": {"name": "Jan de Consulent", "email": "jan@werkplein.example"},
        "participant": {"name": name, "birth_date": "1984-03-02", "phone": "0612345678"},
        "needs": [{"area": "language", "level": "A2"}, {"area": "digital"}],
        "reason": "Wil beter Nederlands lezen om te kunnen solliciteren",
        "preferred_channel": "phone",
        "consent": {
            "given_at": "2026-01-10T10:00:00Z",
            "given_to": [{"library": library}],
            "shares": ["contact_details", "reason", "outcome"],
            "purpose": "warme doorverwijzing naar de bibliotheek",
            "valid_until": "2099-01-10",
        },
    }
    body.update(overrides)
    return body


async def ok(response: httpx.Response) -> Any:
    assert response.status_code < 300, f"{response.request.method} {response.request.url}: {response.text}"
    return response.json() if response.content else None


async def seed_referrals(partner: httpx.AsyncClient, staff: httpx.AsyncClient, library: str, partner_id: str) -> None:
    made = [
        await ok(await partner.post("/api/v1/referrals", json=referral(library, partner_id, name)))
        for name in ("Amina Yilmaz", "Piet Jansen", "Sara Bakker")
    ]
    await ok(await staff.post(f"/api/v1/referrals/{made[0]['id']}/accept"))
    await ok(await staff.post(f"/api/v1/referrals/{made[1]['id']}/decline", json={"reason": "no_capacity"}))


async def seed_partnership(staff: httpx.AsyncClient, library: str, partner_id: str) -> None:
    """An active partnership between library A and partner A."""
    body = {
        "library": library,
        "partner_id": partner_id,
        "roles": ["referrer", "outreach_partner"],
        "library_contributions": ["location"],
        "partner_contributions": ["recruitment"],
        "starts_on": local_today().isoformat(),
    }
    made = await ok(await staff.post("/api/v1/partnerships", json=body))
    await ok(await staff.post(f"/api/v1/partnerships/{made['id']}/activate"))  # the partner refers from the console


async def seed_library(
    staff: httpx.AsyncClient, staff_token: str, library: str, coordinator: httpx.AsyncClient
) -> None:
    """The municipality's coordinator appoints the staff member budget holder, who then sets the budget."""
    await ok(await coordinator.post(f"/api/v1/budget-holders/{library}", json={"subject": subject_of(staff_token)}))
    await ok(await staff.put(f"/api/v1/budgets/{library}/{YEAR}", json={"amount_cents": 500_000}))
    purchase = await ok(
        await staff.post(
            "/api/v1/purchases",
            json={
                "title": "Training Taalvriendelijk schrijven",
                "purpose": "Vrijwilligers van het Taalhuis leren eenvoudige taal gebruiken",
                "audience": ["volunteers"],
                "estimated_cost_cents": 150_000,
                "budget_year": YEAR,
            },
        )
    )
    quote = {"provider_name": "ROC Zuidstad", "amount_cents": 120_000}
    await ok(await staff.post(f"/api/v1/purchases/{purchase['id']}/quotes", json=quote))
    await seed_course(staff)
    await seed_volunteers(staff)


async def seed_course(staff: httpx.AsyncClient) -> None:
    details = {
        "title": "Klik & Tik voor beginners",
        "skill_area": "digital",
        "audience": "seniors",
        "format": "in_person",
        "location": {"kind": "library_branch", "branch": "Centrale bibliotheek", "place": "Binnenstad"},
        "level": "beginners",
    }
    course = await ok(await staff.post("/api/v1/courses", json={"details": details}))
    await ok(await staff.post(f"/api/v1/courses/{course['id']}/publish"))
    start = (datetime.now(UTC) + timedelta(days=14)).replace(hour=9, minute=30, second=0, microsecond=0)
    meetings = [{"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=2)).isoformat()}]
    session = await ok(
        await staff.post(
            f"/api/v1/courses/{course['id']}/sessions", json={"meetings": meetings, "capacity": 4, "place": "Zaal 1"}
        )
    )
    for number in range(6):  # four places, two on the waiting list
        body = {"participant_pseudonym": f"P-SEED{number:04d}"}
        await ok(await staff.post(f"/api/v1/sessions/{session['id']}/enrolments", json=body))


async def seed_volunteers(staff: httpx.AsyncClient) -> None:
    vacancy = await ok(
        await staff.post(
            "/api/v1/vacancies",
            json={
                "title": "Taalmaatje",
                "description": "Oefent wekelijks Nederlands met een deelnemer",
                "hours_per_week": 2,
            },
        )
    )
    await ok(await staff.post(f"/api/v1/vacancies/{vacancy['id']}/publish"))
    applicants = []
    for name in ("Ineke de Vries", "Mohammed Amrani", "Joost Visser"):
        person = {"name": name, "email": f"{name.split()[0].lower()}@mail.example"}
        applicants.append(
            await ok(await staff.post("/api/v1/applications", json={"person": person, "vacancy_id": vacancy["id"]}))
        )
    await ok(await staff.post(f"/api/v1/volunteers/{applicants[0]['id']}/start_intake"))
