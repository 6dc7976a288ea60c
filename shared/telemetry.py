"""Telemetry: traces and metrics per service, exported over OTLP only when a collector is set.

The JSON log lines, which carry the current span's trace and searchable keys, are shared/logs.py.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

from opentelemetry import context as otel_context
from opentelemetry import metrics, trace
from opentelemetry.metrics import CallbackOptions, Meter, NoOpMeterProvider, Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    ALWAYS_ON,
    Decision,
    ParentBased,
    Sampler,
    SamplingResult,
    TraceIdRatioBased,
)
from opentelemetry.trace import (
    Link,
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
    Tracer,
    TraceState,
)
from opentelemetry.util.types import Attributes

if TYPE_CHECKING:  # the gateway, which has no engine, does not load SQLAlchemy
    from sqlalchemy.ext.asyncio import AsyncEngine

# Metrics go out more often than the specification's 60 s default, so that one-minute alert windows see data.
DEFAULT_METRIC_EXPORT_INTERVAL_MS = 15_000
# How long a stopping process waits for the last export before it drops what is left.
SHUTDOWN_SECONDS = 5.0

# What an operator searches traces and logs by (as span attributes `partnernet.<key>`). Never personal
# data: a participant is only ever known by the pseudonym.
SEARCHABLE = ("library", "municipality", "partner", "event_type", "pseudonym", "referral")
# Where those keys are found in actors, requests, results and event data.
SEARCHABLE_FIELDS: dict[str, tuple[str, ...]] = {
    "library": ("library",),
    "municipality": ("municipality",),
    "partner": ("partner", "partner_id", "referring_partner_id", "receiving_partner_id"),
    "pseudonym": ("participant_pseudonym", "pseudonym"),
    "referral": ("referral_id",),
}


@dataclass(frozen=True)
class Telemetry:
    service: str
    tracer_provider: TracerProvider
    meter_provider: metrics.MeterProvider  # the SDK's when something reads the metrics, else the API's no-op
    # False when no span is recorded and no metric read (nothing configured to receive them): then the SQL
    # instrumentation, which works out every statement's span name and attributes, is left off.
    observed: bool = True

    def tracer(self, name: str) -> Tracer:
        return self.tracer_provider.get_tracer(name)

    def meter(self, name: str) -> Meter:
        return self.meter_provider.get_meter(name)

    def shutdown(self, timeout_seconds: float = SHUTDOWN_SECONDS) -> None:
        """Export what is left, for at most `timeout_seconds`: an unreachable collector must not hold up a stop.

        The exporters retry for up to their own timeout (10 s each by default); traces and metrics are
        flushed side by side, and whatever has not gone out by the deadline is dropped.
        """
        threads = [
            threading.Thread(target=self.tracer_provider.shutdown, name="telemetry-shutdown-traces", daemon=True)
        ]
        if isinstance(self.meter_provider, MeterProvider):
            threads.append(
                threading.Thread(target=self.meter_provider.shutdown, name="telemetry-shutdown-metrics", daemon=True)
            )
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + timeout_seconds
        for thread in threads:
            thread.join(max(deadline - time.monotonic(), 0.0))
        if any(thread.is_alive() for thread in threads):
            logging.getLogger(__name__).warning("telemetry not exported within %ss; dropped", timeout_seconds)


class ZeroStartCounter:
    """A counter whose every series is first exported at 0, so that `increase()` sees its first count.

    Prometheus takes a series' first sample as its start: a counter that first appears at 1 (the first dead
    letter, the first give-up, a library's first referral) shows no increase at all. `start()` exports known
    series at 0 from the beginning; a series first met in `add()` is exported at 0 once and with its count
    from the next collection on (one export interval late, never lost). An observable counter underneath:
    its callback reports the cumulative totals held here.
    """

    def __init__(self, meter: Meter, name: str, *, unit: str = "", description: str = "") -> None:
        self._totals: dict[frozenset[tuple[str, str]], float] = {}
        self._shown: set[frozenset[tuple[str, str]]] = set()  # series exported at least once
        self._lock = threading.Lock()
        meter.create_observable_counter(name, [self._observe], unit=unit, description=description)

    def start(self, attributes: Mapping[str, str]) -> None:
        with self._lock:
            self._totals.setdefault(frozenset(attributes.items()), 0.0)

    def add(self, amount: float, attributes: Mapping[str, str] | None = None) -> None:
        key = frozenset((attributes or {}).items())
        with self._lock:
            self._totals[key] = self._totals.get(key, 0.0) + amount

    def _observe(self, _: CallbackOptions) -> Iterable[Observation]:
        with self._lock:
            observed = []
            for key, total in self._totals.items():
                observed.append(Observation(total if key in self._shown else 0.0, dict(key)))
                self._shown.add(key)
        return observed


def zero_start_counter(meter: Meter, name: str, *, unit: str = "", description: str = "") -> ZeroStartCounter:
    return ZeroStartCounter(meter, name, unit=unit, description=description)


def setup_telemetry(
    service: str,
    *,
    otlp_endpoint: str | None,
    span_processors: Sequence[SpanProcessor] = (),
    metric_readers: Sequence[MetricReader] = (),
    environ: Mapping[str, str] | None = None,
) -> Telemetry:
    """Each process (or, in tests, each in-process service) gets providers with its own service.name.

    Traces and metrics go over OTLP/HTTP to `otlp_endpoint` (`OTEL_EXPORTER_OTLP_ENDPOINT`, a base URL)
    or to the per-signal `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` / `..._METRICS_ENDPOINT`; with none of
    them, or with `OTEL_SDK_DISABLED=true` or `OTEL_{TRACES,METRICS}_EXPORTER=none`, nothing is exported
    and nothing waits on a collector. Export runs in background threads, so a slow or absent collector
    never delays a request. The exporters read the other `OTEL_EXPORTER_OTLP_*` variables (headers,
    timeout, compression, certificates) themselves.
    """
    env = os.environ if environ is None else environ
    resource = Resource.create({"service.name": f"partnernet-{service}", "service.namespace": "partnernet"})
    if "service.instance.id" not in resource.attributes:  # OTEL_RESOURCE_ATTRIBUTES may name it (a pod's name)
        resource = resource.merge(Resource({"service.instance.id": f"{socket.gethostname()}-{os.getpid()}"}))
    readers = list(metric_readers)
    traces_endpoint = _signal_endpoint(env, otlp_endpoint, "traces")
    # Spans nobody will see cost a third of a message's handling. With nowhere to send them, record none
    # (their ids still exist, so request ids and log lines keep their trace id); a sampler named in
    # OTEL_TRACES_SAMPLER, or any exporter or processor, switches recording back on.
    records_nothing = not traces_endpoint and not span_processors and not env.get("OTEL_TRACES_SAMPLER")
    sampler = ParentBased(ALWAYS_OFF) if records_nothing else ParentBased(SkipHousekeeping(_configured_root(env)))
    tracer_provider = TracerProvider(resource=resource, sampler=sampler)
    metrics_endpoint = _signal_endpoint(env, otlp_endpoint, "metrics")
    if traces_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=traces_endpoint)))
    if metrics_endpoint:
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

        interval = float(env.get("OTEL_METRIC_EXPORT_INTERVAL") or DEFAULT_METRIC_EXPORT_INTERVAL_MS)
        readers.append(
            PeriodicExportingMetricReader(
                OTLPMetricExporter(endpoint=metrics_endpoint), export_interval_millis=interval
            )
        )
    for processor in span_processors:
        tracer_provider.add_span_processor(processor)
    # Without a reader nobody collects the measurements, and the SDK's bookkeeping per measurement is a tenth of
    # an empty operation's cost (benchmarks/): then the instruments are the API's no-ops.
    meter_provider = MeterProvider(resource=resource, metric_readers=readers) if readers else NoOpMeterProvider()
    return Telemetry(service, tracer_provider, meter_provider, observed=not records_nothing or bool(readers))


def _configured_root(env: Mapping[str, str]) -> Sampler:
    """The root sampler OTEL_TRACES_SAMPLER names (with its argument), else every trace."""
    name = env.get("OTEL_TRACES_SAMPLER", "").strip().lower()
    argument = env.get("OTEL_TRACES_SAMPLER_ARG", "").strip()
    ratio = float(argument) if argument else 1.0
    if name in ("always_off", "parentbased_always_off"):
        return ALWAYS_OFF
    if name in ("traceidratio", "parentbased_traceidratio"):
        return TraceIdRatioBased(ratio)
    return ALWAYS_ON


def _signal_endpoint(env: Mapping[str, str], otlp_endpoint: str | None, signal: str) -> str | None:
    """The full OTLP/HTTP URL for one signal, or None when that signal is not to be exported."""
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    if env.get(f"OTEL_{signal.upper()}_EXPORTER", "otlp").strip().lower() == "none":
        return None
    if specific := env.get(f"OTEL_EXPORTER_OTLP_{signal.upper()}_ENDPOINT"):
        return specific  # used as given, as the specification says
    if otlp_endpoint:
        return f"{otlp_endpoint.rstrip('/')}/v1/{signal}"
    return None


def skips_unsampled_children(tracer: Tracer) -> bool:
    """Whether the tracer never records a child of an unsampled span (a parent-based sampler: the default, and
    ours when nothing exports). Then the hot paths (shared.rpc) need not make such a child at all: passing the
    parent on keeps the trace id for the request id and the logs, and saves the span's cost."""
    sampler: Sampler | None = getattr(tracer, "sampler", None)
    if sampler is None:
        return False
    for remote in (True, False):
        parent = SpanContext(trace_id=1, span_id=1, is_remote=remote, trace_flags=TraceFlags(TraceFlags.DEFAULT))
        probe = sampler.should_sample(trace.set_span_in_context(NonRecordingSpan(parent)), 1, "probe")
        if probe.decision is not Decision.DROP:
            return False
    return True


def skips_roots(tracer: Tracer) -> bool:
    """Whether the tracer records no span without a parent (ours when nothing exports: ParentBased(ALWAYS_OFF))."""
    sampler: Sampler | None = getattr(tracer, "sampler", None)
    return sampler is not None and sampler.should_sample(None, 1, "probe").decision is Decision.DROP


def searchable_fields(source: object) -> dict[str, str]:
    """The searchable keys found in an actor, a request or result struct, or an event's data (a dict)."""
    found: dict[str, str] = {}
    for key, names in SEARCHABLE_FIELDS.items():
        for name in names:
            value = source.get(name) if isinstance(source, Mapping) else getattr(source, name, None)
            if isinstance(value, str | UUID) and value:
                found[key] = str(value)
                break
    return found


def tag_span(fields: Mapping[str, str | None], span: trace.Span | None = None) -> None:
    """Put searchable keys on the (current) span as `partnernet.<key>`, for TraceQL and for the JSON logs."""
    span = span or trace.get_current_span()
    if not span.is_recording():
        return
    span.set_attributes({f"partnernet.{key}": value for key, value in fields.items() if key in SEARCHABLE and value})


def tag_span_with_actor(span: trace.Span, *, subject: str, role: str, partner: str | None) -> None:
    """Who acts, on the gateway's HTTP span and the service's RPC span alike: the person (`enduser.id`), their
    role, and for a partner the organisation they act for (`partnernet.partner`), so a partner's acts are found
    by TraceQL on either side."""
    if not span.is_recording():
        return
    span.set_attributes({"enduser.id": subject, "enduser.role": role})
    if partner is not None:
        span.set_attribute("partnernet.partner", partner)


def tag_span_with_event(envelope: Any, span: trace.Span | None = None) -> None:
    """Searchable keys of a CloudEvents envelope (`shared.contracts.Envelope`): its type, tenant and data."""
    tag_span(_event_fields(envelope), span)


def event_attributes(envelope: Any, data_fields: Mapping[str, str] | None = None) -> dict[str, str]:
    """The same keys as span attributes (`partnernet.<key>`), for a span that is started with them.
    `data_fields`: `searchable_fields(envelope.data)` where the caller has them already."""
    return {f"partnernet.{key}": value for key, value in _event_fields(envelope, data_fields).items() if value}


def _event_fields(envelope: Any, data_fields: Mapping[str, str] | None = None) -> dict[str, str]:
    fields = dict(data_fields) if data_fields is not None else searchable_fields(envelope.data)
    fields["event_type"] = envelope.type
    if envelope.library:
        fields["library"] = envelope.library
    if envelope.municipality:
        fields["municipality"] = envelope.municipality
    return fields


# --- housekeeping is not traced ------------------------------------------------------------------

_HOUSEKEEPING = otel_context.create_key("partnernet.housekeeping")


@contextlib.contextmanager
def housekeeping() -> Iterator[None]:
    """Work a process does on its own clock (sweeps, polls, periodic jobs): it starts no trace of its own.

    An idle platform would otherwise export a trace for every poll's SQL, and those drown the traces an
    operator looks for. A span that continues a trace (a relay's publish of a referral's event) is still
    recorded: it has a parent, and the parent decides.
    """
    token = otel_context.attach(otel_context.set_value(_HOUSEKEEPING, True))
    try:
        yield
    finally:
        otel_context.detach(token)


class SkipHousekeeping(Sampler):
    """A root sampler: no root span inside `housekeeping()`, else what `root` decides."""

    def __init__(self, root: Sampler) -> None:
        self.root = root

    def should_sample(
        self,
        parent_context: otel_context.Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        if otel_context.get_value(_HOUSEKEEPING, parent_context):
            return SamplingResult(Decision.DROP)
        return self.root.should_sample(parent_context, trace_id, name, kind, attributes, links, trace_state)

    def get_description(self) -> str:
        return f"SkipHousekeeping{{{self.root.get_description()}}}"


def stable_subject(subject: str) -> str:
    """A NATS subject as a span and metric name: the same for every tenant, partner and request.

    Event subjects end in the tenant (`events.<service>.<type>.v<n>.<municipality>.<library>`), feed subjects
    name the partner, and replies go to a unique `_INBOX.…` subject: as names these would make one series
    (and one span name) per tenant, partner or request. The subject itself stays on the span as an attribute.
    """
    tokens = subject.split(".")
    if tokens[0] == "_INBOX" or tokens[:2] == ["$SYS", "_INBOX"]:  # the latter: the NATS auth callout's replies
        return "(temporary)"  # OpenTelemetry's name for a reply subject
    if tokens[0] == "events" and len(tokens) > 4:
        return ".".join(tokens[:-2])
    if tokens[0] == "feeds" and len(tokens) > 1:
        return "feeds"
    return subject


def tag_span_with_subject(subject: str, span: trace.Span | None = None) -> None:
    """The tenant of an event subject (`events.….<municipality>.<library>`), for an event that cannot be decoded."""
    tokens = subject.split(".")
    if tokens[0] == "events" and len(tokens) > 4:
        tenant = {"municipality": tokens[-2], "library": tokens[-1]}
        tag_span({key: value for key, value in tenant.items() if value != "_"}, span)


def fail_span(exc: BaseException, description: str, span: trace.Span | None = None) -> None:
    """Mark the (current) span failed: status ERROR, the exception recorded, so TraceQL's `status = error` finds it."""
    span = span or trace.get_current_span()
    if span.is_recording():
        span.record_exception(exc)
        span.set_status(Status(StatusCode.ERROR, description))


def instrument_engine(telemetry: Telemetry, engine: AsyncEngine) -> None:
    """SQL spans for one engine with this service's providers.

    Not `SQLAlchemyInstrumentor().instrument(...)`: it is a process-wide singleton (a second service in
    the same process would get no spans) and it skips SQLAlchemy 2.1 unless its dependency check is off.
    """
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer

    if not telemetry.observed:  # ~5% of a service's CPU on the write path for spans and counts nobody gets
        return
    usage = telemetry.meter("partnernet.db").create_up_down_counter(
        "db.client.connections.usage", unit="connections", description="connections in use or idle"
    )
    EngineTracer(telemetry.tracer("opentelemetry.instrumentation.sqlalchemy"), engine.sync_engine, usage)
