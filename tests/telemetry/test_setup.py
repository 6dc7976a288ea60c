"""Where telemetry goes: nowhere without a collector, to one named by the standard OTEL_* variables otherwise."""

from __future__ import annotations

import time
import uuid

import pytest
from opentelemetry.exporter.otlp.proto.http import metric_exporter, trace_exporter
from opentelemetry.sdk.trace import TracerProvider

from launcher.embedded import free_port
from shared.telemetry import _signal_endpoint, searchable_fields, setup_telemetry, tag_span
from shared.tenancy import Actor, Role


@pytest.mark.parametrize(
    ("env", "endpoint", "signal", "expected"),
    [
        ({}, None, "traces", None),
        ({}, "http://collector:4318", "traces", "http://collector:4318/v1/traces"),
        ({}, "http://collector:4318/", "metrics", "http://collector:4318/v1/metrics"),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://t:4318/x"}, None, "traces", "http://t:4318/x"),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://t:4318/x"}, None, "metrics", None),
        ({"OTEL_SDK_DISABLED": "true"}, "http://collector:4318", "traces", None),
        ({"OTEL_TRACES_EXPORTER": "none"}, "http://collector:4318", "traces", None),
        ({"OTEL_TRACES_EXPORTER": "none"}, "http://collector:4318", "metrics", "http://collector:4318/v1/metrics"),
        ({"OTEL_METRICS_EXPORTER": "none"}, "http://collector:4318", "metrics", None),
    ],
)
def test_each_signal_goes_where_the_standard_variables_say(
    env: dict[str, str], endpoint: str | None, signal: str, expected: str | None
) -> None:
    assert _signal_endpoint(env, endpoint, signal) == expected


def test_without_a_collector_nothing_is_exported_and_stopping_is_immediate(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_exporter(*args: object, **kwargs: object) -> None:
        raise AssertionError("an exporter was made without a collector")

    monkeypatch.setattr(trace_exporter, "OTLPSpanExporter", no_exporter)
    monkeypatch.setattr(metric_exporter, "OTLPMetricExporter", no_exporter)
    telemetry = setup_telemetry("quiet", otlp_endpoint=None, environ={})
    with telemetry.tracer("t").start_as_current_span("work"):
        telemetry.meter("m").create_counter("partnernet.test").add(1)
    started = time.monotonic()
    telemetry.shutdown()
    assert time.monotonic() - started < 0.5


def test_an_unreachable_collector_slows_no_request_and_holds_a_stop_only_briefly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "1")  # the exporters' own retries end soon after the test
    telemetry = setup_telemetry("lonely", otlp_endpoint=f"http://127.0.0.1:{free_port()}", environ={})
    tracer = telemetry.tracer("t")
    started = time.monotonic()
    for _ in range(200):
        with tracer.start_as_current_span("request"):
            telemetry.meter("m").create_counter("partnernet.test").add(1)
    assert time.monotonic() - started < 1.0, "export happens off the request path"
    started = time.monotonic()
    telemetry.shutdown(timeout_seconds=1.0)
    assert time.monotonic() - started < 2.0


def test_resource_names_the_service_and_a_replica() -> None:
    telemetry = setup_telemetry("referrals", otlp_endpoint=None, environ={})
    attributes = telemetry.tracer_provider.resource.attributes
    assert attributes["service.name"] == "partnernet-referrals"
    assert attributes["service.namespace"] == "partnernet"
    assert attributes["service.instance.id"]


def test_searchable_fields_take_only_the_agreed_keys_never_personal_data() -> None:
    partner = uuid.uuid4()
    body = {
        "library": "bieb-a",
        "referring_partner_id": None,
        "receiving_partner_id": str(partner),
        "participant_pseudonym": "P-XYZ",
        "referral_id": "r-1",
        "participant": {"name": "Fatima"},
        "name": "Fatima",
    }
    assert searchable_fields(body) == {
        "library": "bieb-a",
        "partner": str(partner),
        "pseudonym": "P-XYZ",
        "referral": "r-1",
    }
    actor = Actor(subject="staff:1", role=Role.STAFF, municipality="gem", library="bieb-a")
    assert searchable_fields(actor) == {"library": "bieb-a", "municipality": "gem"}


def test_tag_span_ignores_unknown_keys_and_empty_values() -> None:
    with TracerProvider().get_tracer("t").start_as_current_span("s") as span:
        tag_span({"library": "bieb-a", "partner": None, "name": "Fatima"})
        assert dict(span.attributes or {})  # type: ignore[attr-defined]  # the SDK's span: its attributes are readable == {"partnernet.library": "bieb-a"}


def test_every_series_of_a_counter_is_first_exported_at_zero() -> None:
    """`increase()` takes a series' first sample as its start: a first dead letter exported at 1 shows nothing."""
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    from shared.telemetry import zero_start_counter

    reader = InMemoryMetricReader()
    counter = zero_start_counter(MeterProvider(metric_readers=[reader]).get_meter("t"), "partnernet.test.things")
    counter.start({"consumer": "known"})

    def collected() -> dict[str, float]:
        data = reader.get_metrics_data()
        assert data is not None
        (metric,) = [m for rm in data.resource_metrics for sm in rm.scope_metrics for m in sm.metrics]
        assert metric.data.is_monotonic  # type: ignore[union-attr]
        return {str(dict(p.attributes or {})): p.value for p in metric.data.data_points}  # type: ignore[union-attr]

    assert collected() == {"{'consumer': 'known'}": 0}
    counter.add(1, {"consumer": "known"})
    counter.add(1, {"consumer": "new"})
    counter.add(1, {"consumer": "new"})
    assert collected() == {"{'consumer': 'known'}": 1, "{'consumer': 'new'}": 0}
    assert collected() == {"{'consumer': 'known'}": 1, "{'consumer': 'new'}": 2}
