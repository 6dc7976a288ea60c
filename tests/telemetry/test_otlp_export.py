"""OTLP export works end to end: spans and metrics of a real request arrive, decoded, at a local collector."""

from __future__ import annotations

from pathlib import Path

from shared import metrics
from tests.telemetry.export import PERSONAL_DATA, PROBED_SERVICE, Export, collected_export


async def export_of(postgres_url: str, workdir: Path) -> Export:
    return await collected_export(postgres_url, workdir)


async def test_both_signals_arrive_as_otlp_protobuf_on_the_standard_paths(postgres_url: str, workdir: Path) -> None:
    export = await export_of(postgres_url, workdir)
    paths = {path for path, _ in export.requests}
    assert paths == {"/v1/traces", "/v1/metrics"}
    assert {content_type for _, content_type in export.requests} == {"application/x-protobuf"}


async def test_one_request_is_one_trace_across_gateway_service_sql_outbox_and_consumer(
    postgres_url: str, workdir: Path
) -> None:
    export = await export_of(postgres_url, workdir)
    trace = export.trace()
    services = {span.service for span in trace}
    assert {"partnernet-gateway", "partnernet-referrals", "partnernet-partners"} <= services
    names = {span.name for span in trace}
    assert "POST /api/v1/referrals" in names, "the HTTP span is named by its route template"
    assert any(span.attributes.get("db.system") == "postgresql" for span in trace), names
    handler = next(span for span in trace if span.name == "rpc.referrals.submit process")
    assert "outbox write" in handler.events, "the use case's span shows where it wrote the event"
    assert any(name.startswith("outbox relay nl.partnernet.referral.submitted") for name in names), names
    assert any("referral.submitted" in name and "process" in name for name in names), names


async def test_spans_carry_what_an_operator_searches_by(postgres_url: str, workdir: Path) -> None:
    export = await export_of(postgres_url, workdir)
    pseudonym = export.referral["participant_pseudonym"]
    tagged = [span for span in export.trace() if span.attributes.get("partnernet.pseudonym") == pseudonym]
    tagged_services = {span.service for span in tagged}
    # The use case's handler span, the relay's publish and the partners' consumer are all findable.
    assert {"partnernet-referrals", "partnernet-partners"} <= tagged_services
    relay = next(span for span in tagged if span.name.startswith("outbox relay"))
    assert relay.attributes["partnernet.library"] == export.tenant.library_a
    assert relay.attributes["partnernet.partner"] == export.tenant.partner_a
    assert relay.attributes["partnernet.event_type"] == "nl.partnernet.referral.submitted.v1"
    assert relay.attributes["partnernet.referral"] == export.referral["id"]


async def test_no_personal_data_in_any_exported_attribute(postgres_url: str, workdir: Path) -> None:
    export = await export_of(postgres_url, workdir)
    values = [str(v) for span in export.spans for v in [span.name, *span.attributes.values()]]
    values += [str(v) for metric in export.metrics for point in metric.points for v in point.values()]
    leaked = [value for value in values for personal in PERSONAL_DATA if personal in value]
    assert leaked == []


async def test_http_latency_is_per_route_template_with_trace_exemplars(postgres_url: str, workdir: Path) -> None:
    export = await export_of(postgres_url, workdir)
    routes = {point.get("http.target") for point in export.points("http.server.duration")}
    assert "/api/v1/referrals" in routes
    assert not any(route and export.referral["id"] in route for route in routes), "ids would explode the series"
    exemplars = {t for m in export.metrics if m.name == "http.server.duration" for t in m.exemplar_trace_ids}
    assert export.trace_id in exemplars, "a latency sample links to its trace"


async def test_operations_and_events_are_counted_by_type(postgres_url: str, workdir: Path) -> None:
    export = await export_of(postgres_url, workdir)
    operations = {(p["service"], p["operation"], p["outcome"]) for p in export.points(metrics.OPERATION_DURATION)}
    assert ("referrals", "submit", "ok") in operations
    published = export.points(metrics.EVENTS_PUBLISHED)
    assert {
        "service": "referrals",
        "event_type": "nl.partnernet.referral.submitted.v1",
        "library": export.tenant.library_a,
        "partner": export.tenant.partner_a,
    } in published
    consumed = {(p["consumer"], p["event_type"]) for p in export.points(metrics.EVENTS_CONSUMED)}
    assert ("partners-feed-referrals", "nl.partnernet.referral.submitted.v1") in consumed


async def test_webhook_deliveries_are_counted_by_partner_and_result_and_traced(
    postgres_url: str, workdir: Path
) -> None:
    export = await export_of(postgres_url, workdir)
    counted = {(p["partner"], p["result"]) for p in export.points(metrics.WEBHOOK_DELIVERIES)}
    assert (export.tenant.partner_a, metrics.WebhookResult.DELIVERED.value) in counted
    (delivery,) = [s for s in export.trace() if s.name == "webhook delivery nl.partnernet.referral.submitted.v1"]
    assert delivery.service == "partnernet-partners"
    assert delivery.attributes["partnernet.partner"] == export.tenant.partner_a
    assert delivery.attributes["partnernet.referral"] == export.referral["id"]
    assert delivery.attributes["http.response.status_code"] == 200


async def test_consumer_lag_outbox_dead_letters_and_pool_are_observed(postgres_url: str, workdir: Path) -> None:
    export = await export_of(postgres_url, workdir)
    lag = {p["consumer"]: p["stream"] for p in export.points(metrics.CONSUMER_PENDING)}
    assert lag.get("partners-feed-referrals") == "EVENTS_REFERRALS"
    assert {p["consumer"] for p in export.points(metrics.CONSUMER_ACK_PENDING)} == set(lag)
    assert {p["service"] for p in export.points(metrics.OUTBOX_BACKLOG)} == {
        "partners",
        "referrals",
        "volunteers",
        "courses",
    }
    assert {p["service"] for p in export.points(metrics.OUTBOX_OLDEST_AGE)} >= {"referrals"}
    dead = {p["consumer"] for p in export.points(metrics.DEAD_LETTERS)}
    assert "referrals-known-libraries" in dead
    assert {p["consumer"] for p in export.points(metrics.EVENTS_DEAD_LETTERED)} >= {"referrals-known-libraries"}
    assert {p["service"] for p in export.points(metrics.DB_POOL_CHECKED_OUT)} >= {"referrals"}
    assert {p["service"] for p in export.points(metrics.SERVICE_UP)} == {
        "partners",
        "referrals",
        "volunteers",
        "courses",
        "gateway",
    }


async def test_containers_can_probe_each_process(postgres_url: str, workdir: Path) -> None:
    export = await export_of(postgres_url, workdir)
    assert PROBED_SERVICE == "referrals"
    assert export.probes == {
        "service /livez": 200,
        "service /readyz": 200,
        "service /elsewhere": 404,
        "gateway /livez": 200,
        "gateway /readyz": 200,
        "gateway /elsewhere": 404,
    }
