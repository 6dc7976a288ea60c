"""The HTTP load generator: its own process, raw keep-alive sockets, closed loop or a fixed rate.

`python -m benchmarks.loadgen` reads a JSON spec on stdin and prints one JSON result on stdout. Raw
asyncio protocols instead of an HTTP client library, so that one generator process drives far more
requests than the servers under test can answer (the benchmark checks this against a static responder).
"""

from __future__ import annotations

import asyncio
import json
import re
import resource
import sys
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:\s*(\d+)", re.IGNORECASE)
_CHUNKED = re.compile(rb"\r\ntransfer-encoding:\s*chunked", re.IGNORECASE)


@dataclass
class Spec:
    host: str
    port: int
    path: str
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None  # sent as UTF-8, with content-type application/json
    connections: int = 50
    duration: float = 5.0
    warmup: float = 1.0
    rate: float | None = None  # requests/s over all connections; None: as fast as answers come
    capture: str | None = None  # a JSON field of 2xx bodies to report with the time the response ended
    max_requests: int | None = None
    # The first request's number (`%N%`, `%D%`): each phase numbers its people on from the last one's, so a later
    # phase submits new people, not the earlier phase's again (each would be an exact duplicate, and every submission
    # of the phase then found a candidate and wrote a warning: another workload than the phase before measured).
    first_number: int = 0

    def request_bytes(self, number: int | None = None) -> bytes:
        """The request; a body with `%N%` or `%D%` gets this request's number (or a date made from it), so
        submissions are different people rather than one person referred thousands of times."""
        text = self.body
        if text is not None and number is not None:
            birth_date = date(1940, 1, 1) + timedelta(days=number % 25_000)
            text = text.replace("%N%", str(number)).replace("%D%", birth_date.isoformat())
        body = text.encode() if text is not None else b""
        lines = [f"{self.method} {self.path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{k}: {v}" for k, v in self.headers.items()]
        if self.body is not None:
            lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Connection(asyncio.Protocol):
    """One keep-alive connection: one request at a time, the response parsed just far enough."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.transport: asyncio.Transport | None = None
        self.closed = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("the server closed the connection"))
        if not self.closed.done():
            self.closed.set_result(None)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.waiter is None or self.waiter.done():
            return
        parsed = self._parse()
        if parsed is not None:
            self.waiter.set_result(parsed)

    def _parse(self) -> tuple[int, bytes] | None:
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return None
        head = bytes(self.buffer[:end])
        status = int(head[9:12])
        match = _CONTENT_LENGTH.search(head)
        if match is not None:
            length = int(match.group(1))
            if len(self.buffer) < end + 4 + length:
                return None
            body = bytes(self.buffer[end + 4 : end + 4 + length])
            del self.buffer[: end + 4 + length]
            return status, body
        if _CHUNKED.search(head):
            return self._parse_chunked(status, end + 4)
        body = b""
        del self.buffer[: end + 4]
        return status, body

    def _parse_chunked(self, status: int, start: int) -> tuple[int, bytes] | None:
        position, body = start, bytearray()
        while True:
            line_end = self.buffer.find(b"\r\n", position)
            if line_end < 0:
                return None
            size = int(bytes(self.buffer[position:line_end]).split(b";")[0], 16)
            if len(self.buffer) < line_end + 2 + size + 2:
                return None
            body += self.buffer[line_end + 2 : line_end + 2 + size]
            position = line_end + 2 + size + 2
            if size == 0:
                del self.buffer[:position]
                return status, bytes(body)

    async def request(self, payload: bytes) -> tuple[int, bytes]:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(payload)
        if self.buffer:
            parsed = self._parse()
            if parsed is not None:
                self.waiter.set_result(parsed)
        return await self.waiter


async def run(spec: Spec) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    payload = spec.request_bytes()
    varies = spec.body is not None and ("%N%" in spec.body or "%D%" in spec.body)
    latencies: list[float] = []
    captured: list[tuple[str, float]] = []
    statuses: dict[str, int] = {}
    lag: list[float] = []
    slots = iter(range(10**12))
    sent = 0
    answers = 0  # every answer, the warm-up's and those after the window too: what the servers' CPU was spent on
    connections = [(await loop.create_connection(Connection, spec.host, spec.port))[1] for _ in range(spec.connections)]
    started = time.monotonic()
    measure_from = started + spec.warmup
    stop_at = measure_from + spec.duration

    async def drive(conn: Connection) -> None:
        nonlocal sent, answers
        while True:
            if spec.max_requests is not None and sent >= spec.max_requests:
                return
            if spec.rate is not None:
                due = measure_from + next(slots) / spec.rate
                if due >= stop_at:
                    return
                now = time.monotonic()
                if due > now:
                    await asyncio.sleep(due - now)
                else:
                    lag.append(now - due)
            begin = time.monotonic()
            if begin >= stop_at:
                return
            sent += 1
            try:
                status, body = await conn.request(spec.request_bytes(spec.first_number + sent) if varies else payload)
            except ConnectionError:
                statuses["closed"] = statuses.get("closed", 0) + 1
                return
            answers += 1
            done = time.monotonic()
            if begin >= measure_from and done <= stop_at:
                latencies.append(done - begin)
                statuses[str(status)] = statuses.get(str(status), 0) + 1
            if spec.capture and 200 <= status < 300:
                captured.append((json.loads(body)[spec.capture], done))

    usage_before = resource.getrusage(resource.RUSAGE_SELF)
    await asyncio.gather(*(drive(conn) for conn in connections))
    usage_after = resource.getrusage(resource.RUSAGE_SELF)
    ended = min(time.monotonic(), stop_at)
    for conn in connections:
        if conn.transport is not None:
            conn.transport.close()
    cpu = (usage_after.ru_utime - usage_before.ru_utime) + (usage_after.ru_stime - usage_before.ru_stime)
    measured = max(ended - measure_from, 1e-9)
    ok = sum(n for status, n in statuses.items() if status.isdigit() and 200 <= int(status) < 300)
    latencies.sort()
    return {
        "completed": len(latencies),
        "answered": answers,
        "ok": ok,
        "statuses": statuses,
        "seconds": measured,
        "rps": ok / measured,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "max_ms": (latencies[-1] if latencies else 0.0) * 1000,
        "generator_cpu": cpu / max(time.monotonic() - started, 1e-9),
        "schedule_lag_p99_ms": percentile(sorted(lag), 0.99) * 1000,
        "captured": captured,
        "started_at": started,
        "measure_from": measure_from,
    }


def percentile(ordered: list[float], q: float) -> float:
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    spec = Spec(**json.loads(sys.stdin.read()))
    result = asyncio.run(run(spec))
    sys.stdout.write(json.dumps(result))


if __name__ == "__main__":
    main()
