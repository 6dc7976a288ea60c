"""A partner's act carries the acting partner (issue 24) on the gateway's HTTP span and the service's RPC span
(`enduser.id`, `enduser.role`, `partnernet.partner`), in the act's history (who acted, for which partner) and in its
event; a library's staff acting next is on its spans as staff, with no partner, whatever the body names."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.e2e.partner_feed import feed_entries
from tests.e2e.test_referrers_ask_tailored_education import PATH, request_body
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant
from tests.services.courses.support import course_tenant, partnership_state_known
from tests.services.volunteers.volunteer_tenant import activate_partnership
from tests.telemetry.test_tracing import services_of, spans_of_trace
from tests.waiting import eventually


@pytest.fixture(scope="module")
async def tenant(platform: RunningPlatform) -> Tenant:
    tenant = await course_tenant(platform)
    partnership = await activate_partnership(platform, tenant, tenant.partner_a, tenant.library_a, "referrer")
    await partnership_state_known(platform, partnership, ended=False)
    return tenant


async def trace_of(spans: InMemorySpanExporter, request_id: str, service: str) -> list[ReadableSpan]:
    async def recorded() -> list[ReadableSpan]:
        found = spans_of_trace(spans, request_id)
        return found if {"partnernet-gateway", service} <= services_of(found) else []

    return await eventually(recorded, what=f"the request's trace down to {service}")


def one(trace: list[ReadableSpan], service: str, **attributes: str) -> ReadableSpan:
    """The one span of `service` in the trace with these attributes."""
    (span,) = [
        s
        for s in trace
        if s.resource.attributes.get("service.name") == service
        and all((s.attributes or {}).get(k) == v for k, v in attributes.items())
    ]
    return span


async def test_a_partners_act_carries_the_acting_partner_on_its_spans_in_its_history_and_its_event(
    platform: RunningPlatform, tenant: Tenant, spans: InMemorySpanExporter
) -> None:
    async with platform.client(tenant.partner_a_token) as api:
        asked = await api.post(PATH, json=request_body(tenant.library_a))
    assert asked.status_code == 201, asked.text
    request = asked.json()
    # History: who acted, for which partner.
    prefix, partner, person = request["requested_by"].split(":", 2)
    assert (prefix, partner) == ("partner", tenant.partner_a) and person

    trace = await trace_of(spans, asked.headers["x-request-id"], "partnernet-courses")
    wanted = {"enduser.id": person, "enduser.role": "partner", "partnernet.partner": tenant.partner_a}
    http = one(trace, "partnernet-gateway", **{"http.route": PATH})
    assert {k: (http.attributes or {}).get(k) for k in wanted} == wanted
    rpc = one(trace, "partnernet-courses", **{"messaging.destination.name": "rpc.courses.request_tailored_education"})
    assert {k: (rpc.attributes or {}).get(k) for k in wanted} == wanted

    # The event names the acting partner, and reaches its feed.
    async def submitted() -> dict[str, object] | None:
        entries = await feed_entries(platform, tenant.partner_a_token, tenant.partner_a, "education_request.submitted")
        found = [e["data"] for e in entries if e["data"]["request_id"] == request["id"]]
        return found[0] if found else None

    event = await eventually(submitted, what="the request's event in the partner's feed")
    assert event["referring_partner_id"] == tenant.partner_a

    # The library's staff answering next are on their own request's span as staff, with no partner: the actor is
    # the caller, not whatever partner the body or the request names.
    async with platform.client(tenant.staff_a) as api:
        declined = await api.post(f"{PATH}/{request['id']}/answer", json={"decision": "decline", "reason": "vol"})
    assert declined.status_code == 200, declined.text
    trace = await trace_of(spans, declined.headers["x-request-id"], "partnernet-courses")
    http = one(trace, "partnernet-gateway", **{"http.route": f"{PATH}/{{request_id}}/answer"})
    staff = dict(http.attributes or {})
    assert staff.get("enduser.role") == "staff" and "partnernet.partner" not in staff
    rpc = one(trace, "partnernet-courses", **{"messaging.destination.name": "rpc.courses.answer_education_request"})
    assert (rpc.attributes or {}).get("enduser.role") == "staff"
    assert declined.json()["answered_by"] == (rpc.attributes or {}).get("enduser.id")
