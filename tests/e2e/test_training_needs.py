"""Training needs that buy themselves, end to end over real NATS and PostgreSQL: a volunteer's qualification runs
out soon → the volunteers service's review (on a clock the test holds) publishes `training.needed` → the courses
service drafts a purchase request with the budget check → staff quote, approve, order and record the delivery
through the gateway → the volunteers service gets the bought module → the volunteer completes a session of it
→ the qualification is renewed with a new expiry and the need is met. The need and its purchase request are one
trace: the outbox rows carry it from one service to the next.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec
import sqlalchemy as sa
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from services.volunteers.commands.training_needs import plan_training_needs
from services.volunteers.domain.training import add_months
from shared.clock import FixedClock, local_date
from shared.contracts import Envelope
from shared.outbox import outbox
from shared.tenancy import Role
from shared.unit_of_work import UnitOfWork
from tests.fixtures.platform import RunningPlatform
from tests.services.courses.support import courses_know
from tests.services.volunteers.volunteer_tenant import active_volunteer, call, qualify, volunteer_tenant
from tests.waiting import eventually

CODE = "eerste-hulp"


async def outbox_rows(
    platform: RunningPlatform, service: str, event_type: str
) -> list[tuple[Envelope, dict[str, str]]]:
    async with platform.services[service].sessions() as session:
        rows = (
            await session.execute(
                sa.select(outbox.c.payload, outbox.c.trace_context).where(outbox.c.event_type == event_type)
            )
        ).all()
    return [(msgspec.json.decode(row.payload, type=Envelope), dict(row.trace_context)) for row in rows]


def trace_of(context: dict[str, str]) -> int:
    """The trace id in a W3C `traceparent` (00-<trace id>-<span id>-<flags>) an outbox row kept."""
    return int(context["traceparent"].split("-")[1], 16)


async def test_an_expiring_qualification_buys_its_own_training_and_is_renewed_in_one_trace(
    platform: RunningPlatform, spans: InMemorySpanExporter
) -> None:
    vt = await volunteer_tenant(platform)
    await courses_know(platform, vt.base)
    library = vt.library_a
    now = datetime.now(UTC)
    today = local_date(now)

    # A volunteer whose first-aid certificate (a year's validity) runs out in 30 days.
    volunteer = await active_volunteer(platform, vt)
    expires_on = today + timedelta(days=30)
    taken = datetime.combine(add_months(expires_on + timedelta(days=1), -12), datetime.min.time(), UTC)
    await qualify(platform, vt, volunteer["id"], CODE, session_start=taken.replace(hour=9), validity_months=12)

    # The periodic review, here with a clock the test holds (and its own trace, as the periodic job has).
    work = UnitOfWork(platform.services["volunteers"].sessions, FixedClock(now))
    tracer = platform.services["volunteers"].telemetry.tracer("partnernet.training_needs")
    published = await plan_training_needs(work, now, library=library, tracer=tracer)
    assert published in (0, 1)  # 0 only if the platform's own periodic review came first, a moment earlier

    async def drafted() -> dict[str, Any] | None:
        page = await call(platform, vt.staff_a, "GET", "/api/v1/purchases", library=library)
        return next((p for p in page["items"] if p["generated_from_training_needs"]), None)

    draft = await eventually(drafted, what="a purchase request drafted from the training need")
    assert (draft["status"], draft["requested_by"], draft["audience"], draft["for_volunteers"]) == (
        "requested",
        "system:training-needs",
        ["volunteers"],
        True,
    )
    (need,) = draft["training_needs"]
    assert (need["qualification"], need["volunteers"], need["expiring"], need["needed_by"], need["met"]) == (
        CODE,
        1,
        1,
        str(expires_on),
        False,
    )
    assert draft["estimated_cost_cents"] == 15_000 and CODE in draft["title"]
    check = draft["budget_check"]  # no budget set yet: shown with its numbers, not refused
    assert (check["budget_cents"], check["available_cents"], check["requested_cents"], check["fits"]) == (
        0,
        0,
        15_000,
        False,
    )
    assert check["short_cents"] == 15_000 and check["year"] == draft["budget_year"]

    # One trace from the need to the purchase request: the volunteers service's outbox row for the need, and
    # the courses service's for the request it caused, carry the same trace, as do the spans of both services.
    ((need_event, need_context),) = [
        (e, c)
        for e, c in await outbox_rows(platform, "volunteers", "nl.partnernet.training.needed.v1")
        if e.data["need_id"] == need["need_id"]
    ]
    ((requested_event, request_context),) = [
        (e, c)
        for e, c in await outbox_rows(platform, "courses", "nl.partnernet.purchase.requested.v1")
        if e.data["purchase_id"] == draft["id"]
    ]
    assert requested_event.data["generated_from_training_needs"] is True
    assert requested_event.data["training_need_ids"] == [need["need_id"]]
    assert need_event.data["volunteers"] == 1 and "name" not in need_event.data
    trace_id = trace_of(need_context)
    assert trace_of(request_context) == trace_id

    async def both_services_in_the_trace() -> set[str] | None:
        names = {
            str(span.resource.attributes["service.name"])
            for span in spans.get_finished_spans()
            if span.context.trace_id == trace_id
        }
        return names if {"partnernet-volunteers", "partnernet-courses"} <= names else None

    await eventually(both_services_in_the_trace, what="spans of the need and of its purchase request in one trace")
    if published:
        plan_spans = [s for s in spans.get_finished_spans() if s.name == "plan training needs"]
        assert trace_id in {s.context.trace_id for s in plan_spans}  # the trace began with the review

    # A budget holder sets the budget, gets a quote, approves, orders and records the delivery.
    holder = platform.token(Role.STAFF, municipality=vt.municipality, library=library)
    subject = platform.issuer.verify(holder).subject
    year = draft["budget_year"]
    coordinator = platform.token(Role.COORDINATOR, municipality=vt.municipality)
    assert (await call(platform, coordinator, "POST", f"/api/v1/budget-holders/{library}", {"subject": subject}))[
        "subject"
    ]
    await call(platform, holder, "PUT", f"/api/v1/budgets/{library}/{year}", {"amount_cents": 100_000})
    checked = await call(platform, holder, "GET", f"/api/v1/purchases/{draft['id']}")
    assert (checked["budget_check"]["available_cents"], checked["budget_check"]["fits"]) == (100_000, True)
    url = f"/api/v1/purchases/{draft['id']}"
    quote = {"provider_name": "Rode Kruis Zuidstad", "amount_cents": 14_500}
    quoted = await call(platform, holder, "POST", f"{url}/quotes", quote)
    approved = await call(platform, holder, "POST", f"{url}/approve", {"quote_id": quoted["quotes"][0]["id"]})
    assert approved["status"] == "approved", approved
    assert (await call(platform, holder, "POST", f"{url}/order", {"order_reference": "EHBO-1"}))["status"] == "ordered"
    delivery = {"sessions_held": 1, "participants": 1, "delivered_on": str(today)}
    assert (await call(platform, holder, "POST", f"{url}/delivery", delivery))["status"] == "delivered"

    async def bought_module() -> dict[str, Any] | None:
        page = await call(platform, vt.staff_a, "GET", "/api/v1/trainings/modules", delivered_by="purchase")
        return next((m for m in page["items"] if m["purchase_id"] == draft["id"]), None)

    module = await eventually(bought_module, what="the bought training as a module in the volunteers service")
    assert (module["qualification"], module["validity_months"]) == (CODE, 12)

    # The volunteer takes part and completes it: the qualification is renewed, the need is met.
    started = datetime.now(UTC) - timedelta(hours=2)
    session = await call(
        platform,
        vt.staff_a,
        "POST",
        f"/api/v1/trainings/modules/{module['id']}/sessions",
        {"starts_at": started.isoformat(), "place": "Centrale bibliotheek, zaal 2", "capacity": 10},
    )
    attended = await call(
        platform,
        vt.staff_a,
        "POST",
        f"/api/v1/trainings/sessions/{session['id']}/attendance",
        {"volunteer_id": volunteer["id"], "attended": True, "completed": True},
    )
    assert attended["attendance"][0]["completed"] is True, attended
    renewed = await call(platform, vt.staff_a, "GET", f"/api/v1/volunteers/{volunteer['id']}")
    (qualification,) = [q for q in renewed["qualifications"] if q["code"] == CODE]
    new_expiry = add_months(local_date(started), 12) - timedelta(days=1)
    assert date.fromisoformat(qualification["valid_until"]) == new_expiry > expires_on
    assert qualification["valid"] is True and qualification["module_id"] == module["id"]

    async def need_met() -> bool:
        purchase = await call(platform, holder, "GET", url)
        return bool(purchase["training_needs"][0]["met"])

    await eventually(need_met, what="the need met in the courses service")
