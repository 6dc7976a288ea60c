"""A local OTLP/HTTP receiver: accepts POST /v1/traces and /v1/metrics and decodes them with the OTLP protobufs."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Generator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue


def value_of(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind else None


def attributes(pairs: Any) -> dict[str, Any]:
    return {pair.key: value_of(pair.value) for pair in pairs if isinstance(pair, KeyValue)}


@dataclass(frozen=True)
class ReceivedSpan:
    service: str
    name: str
    trace_id: str
    span_id: str
    parent_span_id: str
    kind: int
    attributes: dict[str, Any]
    events: list[str]


@dataclass(frozen=True)
class ReceivedMetric:
    service: str
    name: str
    unit: str
    kind: str  # sum, gauge, histogram, exponential_histogram, summary
    monotonic: bool
    points: list[dict[str, Any]]  # each point's attributes
    exemplar_trace_ids: list[str]


@dataclass
class OtlpReceiver:
    """Everything posted to it, decoded; `url` is what OTEL_EXPORTER_OTLP_ENDPOINT would name."""

    traces: list[ExportTraceServiceRequest] = field(default_factory=list)
    metrics: list[ExportMetricsServiceRequest] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)  # (path, content type)
    url: str = ""

    def spans(self) -> list[ReceivedSpan]:
        found = []
        for request in list(self.traces):
            for resource_spans in request.resource_spans:
                service = str(attributes(resource_spans.resource.attributes).get("service.name"))
                for scope_spans in resource_spans.scope_spans:
                    for span in scope_spans.spans:
                        found.append(
                            ReceivedSpan(
                                service=service,
                                name=span.name,
                                trace_id=span.trace_id.hex(),
                                span_id=span.span_id.hex(),
                                parent_span_id=span.parent_span_id.hex(),
                                kind=span.kind,
                                attributes=attributes(span.attributes),
                                events=[event.name for event in span.events],
                            )
                        )
        return found

    def received_metrics(self) -> list[ReceivedMetric]:
        found = []
        for request in list(self.metrics):
            for resource_metrics in request.resource_metrics:
                service = str(attributes(resource_metrics.resource.attributes).get("service.name"))
                for scope_metrics in resource_metrics.scope_metrics:
                    for metric in scope_metrics.metrics:
                        kind = metric.WhichOneof("data") or ""
                        data = getattr(metric, kind)
                        points = list(data.data_points)
                        exemplars = [e.trace_id.hex() for p in points for e in getattr(p, "exemplars", [])]
                        found.append(
                            ReceivedMetric(
                                service=service,
                                name=metric.name,
                                unit=metric.unit,
                                kind=kind,
                                monotonic=bool(getattr(data, "is_monotonic", False)),
                                points=[attributes(p.attributes) for p in points],
                                exemplar_trace_ids=exemplars,
                            )
                        )
        return found


def _handler(receiver: OtlpReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            receiver.requests.append((self.path, self.headers.get("Content-Type", "")))
            if self.path == "/v1/traces":
                receiver.traces.append(ExportTraceServiceRequest.FromString(body))
                answer = ExportTraceServiceResponse().SerializeToString()
            elif self.path == "/v1/metrics":
                receiver.metrics.append(ExportMetricsServiceRequest.FromString(body))
                answer = ExportMetricsServiceResponse().SerializeToString()
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

    return Handler


@dataclass
class _Running:
    server: ThreadingHTTPServer
    thread: threading.Thread


def serve(receiver: OtlpReceiver) -> _Running:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="otlp-receiver", daemon=True)
    thread.start()
    return _Running(server, thread)


def otlp_receiver() -> Generator[OtlpReceiver, None, None]:
    """A generator for `contextlib.contextmanager` or a fixture: the receiver runs until it resumes."""
    receiver = OtlpReceiver()
    running = serve(receiver)
    try:
        yield receiver
    finally:
        running.server.shutdown()
        running.server.server_close()
