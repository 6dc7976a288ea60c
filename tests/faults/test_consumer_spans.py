"""A consumer's span for each event: made where the producer's trace is sampled, not made where it would not be
recorded (the producer's is carried on, its trace id with it)."""

from __future__ import annotations

from pathlib import Path

import msgspec
import sqlalchemy as sa
from opentelemetry import trace
from opentelemetry.trace import SpanContext

from shared.contracts import Envelope
from shared.unit_of_work import Transaction
from tests.faults.probe import PROBE_SUBJECT, ProbeHappened, probe_event, probe_service
from tests.waiting import eventually

PRODUCER_TRACE = 0x0AF7651916CD43DD8448EB211C80319C
PRODUCER_SPAN = 0xB7AD6B7169203331


def traceparent(sampled: bool) -> str:
    return f"00-{PRODUCER_TRACE:032x}-{PRODUCER_SPAN:016x}-{'01' if sampled else '00'}"


async def test_an_unsampled_event_is_handled_in_its_producers_span_and_a_sampled_one_in_a_span_of_its_own(
    tmp_path: Path, postgres_url: str
) -> None:
    seen: dict[int, SpanContext] = {}

    async def apply(tx: Transaction, envelope: Envelope, event: ProbeHappened) -> None:
        seen[event.number] = trace.get_current_span().get_span_context()
        await tx.session.execute(
            sa.text("INSERT INTO applied (event_id, number) VALUES (:id, :n)"), {"id": envelope.id, "n": event.number}
        )

    async with probe_service(tmp_path, postgres_url) as probe:
        probe.runtime.consume("probe", ProbeHappened, apply)
        await probe.runtime.start()
        for number, is_sampled in ((1, False), (2, True)):
            envelope = probe_event(number)
            headers = {"Nats-Msg-Id": str(envelope.id), "traceparent": traceparent(is_sampled)}
            await probe.nc.jetstream().publish(PROBE_SUBJECT, msgspec.json.encode(envelope), headers=headers)
        await eventually(lambda: probe.numbers_in_order(2), what="both events applied")
        recorded = [span for span in probe.spans.get_finished_spans() if span.name.endswith(" process")]

    unsampled, sampled = seen[1], seen[2]
    assert (unsampled.trace_id, unsampled.span_id) == (PRODUCER_TRACE, PRODUCER_SPAN), "no span of its own"
    assert not unsampled.trace_flags.sampled
    assert sampled.trace_id == PRODUCER_TRACE and sampled.span_id != PRODUCER_SPAN and sampled.trace_flags.sampled
    (process,) = recorded
    assert process.context.span_id == sampled.span_id
    assert process.parent is not None and process.parent.span_id == PRODUCER_SPAN
