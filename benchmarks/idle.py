"""The platform at rest, and what each process costs: CPU per process from /proc, and the traces it exports.

An idle platform should export nothing an operator has to wade through (at most one root trace a minute per
process: pollers' housekeeping is not traced) and each process should stay under 1% of a core. Measured on a
platform of its own, started with an OTLP collector (a small receiver here), after the load phases so that it
does not share the machine with them.
"""

from __future__ import annotations

import gzip
import os
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from benchmarks.processes import component
from launcher.embedded import free_port

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float | None:
    """User and system CPU time a process has used so far (/proc/<pid>/stat, fields 14 and 15)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def cpu_snapshot(processes: dict[str, list[int]]) -> dict[str, float]:
    """CPU seconds used so far per component (its processes added up; PostgreSQL's backends as they are now)."""
    snapshot: dict[str, float] = {}
    processes = {name: pids for name, pids in processes.items() if name != "postgres backend (largest)"}
    if processes.get("postgres"):
        processes["postgres backends"] = children(processes["postgres"])
    for name, pids in processes.items():
        used = [seconds for pid in pids if (seconds := cpu_seconds(pid)) is not None]
        if used:
            snapshot[name] = sum(used)
    return snapshot


def children(parents: list[int]) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) in parents:
            found.append(int(entry.name))
    return found


@dataclass
class ReceivedSpan:
    service: str
    trace_id: str
    root: bool
    name: str
    start_ns: int


@dataclass
class SpanCounter:
    """An OTLP/HTTP trace receiver: keeps service, trace, whether root, name and start of every span."""

    spans: list[ReceivedSpan] = field(default_factory=list)
    url: str = ""

    def add(self, request: ExportTraceServiceRequest) -> None:
        for resource_spans in request.resource_spans:
            service = next(
                (a.value.string_value for a in resource_spans.resource.attributes if a.key == "service.name"), "?"
            )
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    self.spans.append(
                        ReceivedSpan(
                            service=service.removeprefix("partnernet-"),
                            trace_id=span.trace_id.hex(),
                            root=not span.parent_span_id,
                            name=span.name,
                            start_ns=span.start_time_unix_nano,
                        )
                    )

    def between(self, start_ns: int, end_ns: int) -> list[ReceivedSpan]:
        return [s for s in list(self.spans) if start_ns <= s.start_ns < end_ns]


def serve(counter: SpanCounter) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            if self.path.endswith("/v1/traces"):
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                counter.add(request)
                answer = ExportTraceServiceResponse().SerializeToString()
            else:
                answer = b""  # metrics: taken and dropped
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *_: Any) -> None:
            pass

    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    counter.url = f"http://127.0.0.1:{port}"
    threading.Thread(target=server.serve_forever, name="otlp-receiver", daemon=True).start()
    return server


def idle_platform(seconds: float, settle: float = 10.0) -> dict[str, Any]:
    """Start a platform that exports to a local receiver, let it settle, then watch it do nothing for `seconds`."""
    from launcher.platform import Platform

    counter = SpanCounter()
    server = serve(counter)
    environ = {**os.environ, "OTEL_EXPORTER_OTLP_ENDPOINT": counter.url}
    try:
        with (
            tempfile.TemporaryDirectory(prefix="partnernet-idle-") as tmp,
            Platform(data_dir=Path(tmp), port=free_port(), environ=environ) as platform,
        ):
            processes: dict[str, list[int]] = {}
            for name, process in platform.processes.items():
                processes.setdefault(component(name), []).append(process.pid)
            time.sleep(settle)  # start-up work (migrations, consumers created, first polls) is not idling
            started_ns, cpu_before, started = time.time_ns(), cpu_snapshot(processes), time.monotonic()
            time.sleep(seconds)
            elapsed, cpu_after, ended_ns = time.monotonic() - started, cpu_snapshot(processes), time.time_ns()
            time.sleep(6.0)  # spans of the window still in the processes' export batches (every 5 s)
    finally:
        server.shutdown()
    spans = counter.between(started_ns, ended_ns)
    roots_by_service = Counter(s.service for s in spans if s.root)
    minutes = elapsed / 60
    return {
        "seconds": elapsed,
        "cpu_share": {name: (cpu_after[name] - cpu_before.get(name, 0.0)) / elapsed for name in cpu_after},
        "spans": len(spans),
        "root_traces_per_minute": {name: roots_by_service.get(name, 0) / minutes for name in processes},
        "root_span_names": sorted({f"{s.service}: {s.name}" for s in spans if s.root})[:10],
    }
