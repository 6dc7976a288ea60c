"""Dead letters, for operators: see why a message was set aside, and replay it where it came from."""

from __future__ import annotations

from typing import Any

import nats
import nats.js.errors
from nats.js.api import RawStreamMsg
from nats.js.client import JetStreamContext

from shared.consumer import (
    CONSUMER,
    DELIVERIES,
    ORIGINAL_SEQUENCE,
    ORIGINAL_STREAM,
    ORIGINAL_SUBJECT,
    REASON,
    REPLAY_FOR,
)
from shared.messaging import DEAD_LETTER_STREAM
from shared.servers import CONNECT_TIMEOUT_SECONDS, connect_nats

REPLAYED_FROM = "Partnernet-Replayed-From"
# A stream's sequences are JetStream's uint64 from 1: it answers a look-up of any other as a bad request.
LAST_POSSIBLE_SEQUENCE = 2**64 - 1


class NoSuchDeadLetter(Exception):
    """An operator named a sequence that is not (or no longer) in the dead letters."""


async def list_dead_letters(nats_url: str, limit: int = 1000) -> list[dict[str, Any]]:
    nc = await connect_nats(nats_url)
    try:
        js = nc.jetstream(timeout=CONNECT_TIMEOUT_SECONDS)
        try:
            info = await js.stream_info(DEAD_LETTER_STREAM)
        except nats.js.errors.NotFoundError:
            return []  # no service has declared its streams yet: nothing was ever set aside
        letters: list[dict[str, Any]] = []
        sequence = info.state.first_seq
        while sequence and sequence <= info.state.last_seq and len(letters) < limit:
            try:
                msg = await js.get_msg(DEAD_LETTER_STREAM, sequence)
            except nats.js.errors.NotFoundError:
                sequence += 1
                continue
            headers = msg.headers or {}
            letters.append(
                {
                    "sequence": sequence,
                    "consumer": headers.get(CONSUMER),
                    "reason": headers.get(REASON),
                    "original_subject": headers.get(ORIGINAL_SUBJECT),
                    "original_stream": headers.get(ORIGINAL_STREAM),
                    "original_sequence": headers.get(ORIGINAL_SEQUENCE),
                    "deliveries": headers.get(DELIVERIES),
                    "time": msg.time.isoformat() if msg.time else None,
                }
            )
            sequence += 1
        return letters
    finally:
        await nc.close()


async def dead_letter_at(js: JetStreamContext, sequence: int) -> RawStreamMsg | None:
    """The dead letter of that sequence, or None where there is none (JetStream cannot hold the sequence at all)."""
    if not 1 <= sequence <= LAST_POSSIBLE_SEQUENCE:
        return None
    try:
        return await js.get_msg(DEAD_LETTER_STREAM, sequence)
    except nats.js.errors.NotFoundError:
        return None


async def replay_dead_letters(nats_url: str, sequences: list[int] | None = None) -> list[int]:
    """Publish each dead letter again on its original subject, for the consumer that set it aside, then remove it.

    The replay names that consumer (REPLAY_FOR): every other consumer of the subject acknowledges it unhandled,
    and the consumer itself skips it if it handled the event meanwhile (its inbox), so a replay is safe to
    repeat. The message id is new, or JetStream's de-duplication window would drop the replay.
    """
    nc = await connect_nats(nats_url)
    replayed: list[int] = []
    try:
        js = nc.jetstream(timeout=CONNECT_TIMEOUT_SECONDS)
        # Each once, in the order named: a sequence named twice would be replayed, then not found to delete.
        wanted = list(dict.fromkeys(sequences or [letter["sequence"] for letter in await list_dead_letters(nats_url)]))
        letters = []
        for sequence in wanted:  # all found before any is replayed: a mistyped sequence changes nothing
            msg = await dead_letter_at(js, sequence)
            if msg is None:
                raise NoSuchDeadLetter(
                    f"there is no dead letter {sequence}; `partnernet deadletters list` shows those there are"
                )
            letters.append((sequence, msg))
        for sequence, msg in letters:
            headers = dict(msg.headers or {})
            subject = headers.get(ORIGINAL_SUBJECT)
            if not subject or msg.data is None:
                continue
            replay_headers = {"Nats-Msg-Id": f"replay-{DEAD_LETTER_STREAM}-{sequence}", REPLAYED_FROM: str(sequence)}
            if consumer := headers.get(CONSUMER):
                replay_headers[REPLAY_FOR] = consumer  # only the consumer that set it aside handles it again
            await js.publish(subject, msg.data, stream=headers.get(ORIGINAL_STREAM), headers=replay_headers)
            try:
                await js.delete_msg(DEAD_LETTER_STREAM, sequence)
            except nats.js.errors.APIError:
                # Two operators replaying it at once: the other's publish was the same message id (dropped as a
                # duplicate), and its delete came first. Replayed, once; anything else is an error of its own.
                if await dead_letter_at(js, sequence) is not None:
                    raise
            replayed.append(sequence)
        return replayed
    finally:
        await nc.close()
