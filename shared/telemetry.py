"""Telemetry: traces, metrics and JSON logs per service; exported over OTLP only when a collector is set."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from opentelemetry import trace
from opentelemetry.metrics import Meter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Tracer
from sqlalchemy.ext.asyncio import AsyncEngine


@dataclass(frozen=True)
class Telemetry:
    service: str
    tracer_provider: TracerProvider
    meter_provider: MeterProvider

    def tracer(self, name: str) -> Tracer:
        return self.tracer_provider.get_tracer(name)

    def meter(self, name: str) -> Meter:
        return self.meter_provider.get_meter(name)

    def shutdown(self) -> None:
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown()


def setup_telemetry(
    service: str,
    *,
    otlp_endpoint: str | None,
    span_processors: Sequence[SpanProcessor] = (),
    metric_readers: Sequence[MetricReader] = (),
) -> Telemetry:
    """Each process (or, in tests, each in-process service) gets providers with its own service.name.

    The OTLP exporters read the standard `OTEL_EXPORTER_OTLP_*` variables themselves; with no
    endpoint nothing is exported and nothing waits on a collector.
    """
    resource = Resource.create({"service.name": f"partnernet-{service}", "service.namespace": "partnernet"})
    tracer_provider = TracerProvider(resource=resource)
    readers = list(metric_readers)
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        readers.append(PeriodicExportingMetricReader(OTLPMetricExporter()))
    for processor in span_processors:
        tracer_provider.add_span_processor(processor)
    return Telemetry(service, tracer_provider, MeterProvider(resource=resource, metric_readers=readers))


class JsonLogFormatter(logging.Formatter):
    """One JSON object a line, with the trace and span of the current span, for log search by trace id."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        span_context = trace.get_current_span().get_span_context()
        if span_context.is_valid:
            entry["trace_id"] = format(span_context.trace_id, "032x")
            entry["span_id"] = format(span_context.span_id, "016x")
        for key in ("library", "partner", "event_type", "event_id", "pseudonym", "schema", "applied", "subject"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def setup_logging(service: str, level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLogFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def instrument_engine(telemetry: Telemetry, engine: AsyncEngine) -> None:
    """SQL spans for one engine with this service's providers.

    Not `SQLAlchemyInstrumentor().instrument(...)`: it is a process-wide singleton (a second service in
    the same process would get no spans) and it skips SQLAlchemy 2.1 unless its dependency check is off.
    """
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer

    usage = telemetry.meter("partnernet.db").create_up_down_counter(
        "db.client.connections.usage", unit="connections", description="connections in use or idle"
    )
    EngineTracer(telemetry.tracer("opentelemetry.instrumentation.sqlalchemy"), engine.sync_engine, usage)
