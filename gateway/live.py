"""Live feeds as server-sent events, resumable: the event id is a position, `Last-Event-ID` resumes after it.

- A partner's feed (`/partners/{id}/feed/live`): the id is the entry's feed position; the backlog after the
  position comes from `rpc.partners.get_feed` page by page, then the gateway asks again every half second.
- A library's referrals for its staff (`/libraries/{slug}/referrals/live`): every event of the library's
  referrals, in both directions (submitted, accepted, declined, overdue, intake planned and held, waiting list,
  enrolled, completed, withdrawn, no-show, expired, a participant to tell …; pseudonyms only), read straight
  from the referrals' JetStream stream; the SSE `event` is the type without its version (`referral.accepted`),
  the id the stream sequence, so a reconnect starts at the next one.
Positions only grow, so a client that reconnects with the last id it saw gets every entry exactly once.
Both end when their credential no longer holds (gateway/stream_guard.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any
from uuid import UUID

import msgspec
import nats.errors
from litestar import Controller, Request, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, HeaderParameter, QueryParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage
from nats.js.api import ConsumerConfig, DeliverPolicy

from gateway.auth import Caller
from gateway.dependencies import MAX_POSITION, LibraryPath
from gateway.problems import READ_PROBLEMS, problem_responses
from gateway.stream_guard import LiveStreams
from shared.contracts import nats_subject, short_type
from shared.contracts.partners.api import operations as ops
from shared.contracts.partners.api.feeds import FeedPage, GetFeed
from shared.errors import Forbidden, InvalidInput, NotFound, PartnernetError, ServiceUnavailable
from shared.messaging import event_stream_name
from shared.rpc import RpcClient
from shared.tenancy import SLUG_PATTERN, Actor, Role

log = logging.getLogger(__name__)

POLL_SECONDS = 0.5
KEEPALIVE_SECONDS = 15.0
PAGE = 200
RECONNECT_MS = 2000

# What start_position takes, said in the OpenAPI document (gateway/docs.py); anything else is a 422 there.
LAST_EVENT_ID_PATTERN = r"^ *([0-9]{1,18})? *$"
LastEventId = Annotated[
    str | None,
    HeaderParameter(
        name="Last-Event-ID", description="the id of the last event received: the feed resumes after it", required=False
    ),
]
After = Annotated[
    int | None, QueryParameter(ge=0, le=MAX_POSITION, description="start after this position (a new stream)")
]

SSE_RESPONSE = {
    200: "text/event-stream; each event's `id` is its position, `event` its type and `data` its JSON",
}


def start_position(last_event_id: str | None, after: int | None) -> int | None:
    """Last-Event-ID (the browser's reconnect) wins over `after` (a client's first connect)."""
    if last_event_id is not None and last_event_id.strip():
        given = last_event_id.strip()
        if not (given.isascii() and given.isdigit()) or len(given) > 19 or int(given) > MAX_POSITION:
            raise InvalidInput("Last-Event-ID must be an id this feed gave out")
        return int(given)
    return after


class LiveController(Controller):
    path = "/api/v1"
    tags = ["live"]

    @get(
        "/partners/{partner_id:uuid}/feed/live",
        summary="The partner's feed, live (server-sent events); resumes after Last-Event-ID",
        responses=problem_responses(*READ_PROBLEMS),
        response_description=SSE_RESPONSE[200],
        media_type="text/event-stream",
    )
    async def partner_feed(
        self,
        request: Request[Any, Any, Any],
        partner_id: FromPath[UUID],
        caller: NamedDependency[Caller],
        rpc: NamedDependency[RpcClient],
        state: State,
        last_event_id: LastEventId = None,
        after: After = None,
    ) -> ServerSentEvent:
        actor = caller.actor
        position = start_position(last_event_id, after) or 0
        # The first page before the stream starts: a feed outside the caller's scope is a 404 problem.
        first = await rpc.call(ops.GET_FEED, actor, GetFeed(partner_id=partner_id, after=position, limit=PAGE))
        streams: LiveStreams = state.live_streams
        return ServerSentEvent(
            streams.follow(caller, request.headers, follow_partner_feed(rpc, actor, partner_id, position, first))
        )

    @get(
        "/libraries/{library:str}/referrals/live",
        summary="What happens to a library's referrals, live (server-sent events) for its staff; resumes after "
        "Last-Event-ID",
        responses=problem_responses(*READ_PROBLEMS),
        response_description=SSE_RESPONSE[200],
        media_type="text/event-stream",
    )
    async def library_referrals(
        self,
        request: Request[Any, Any, Any],
        library: LibraryPath,
        caller: NamedDependency[Caller],
        state: State,
        last_event_id: LastEventId = None,
        after: After = None,
    ) -> ServerSentEvent:
        actor = caller.actor
        if actor.role not in (Role.STAFF, Role.OPERATOR):
            raise Forbidden("the live referrals of a library are for its staff")
        if (actor.role is Role.STAFF and actor.library != library) or not SLUG_PATTERN.match(library):
            raise NotFound(f"library {library} not found")  # a slug only: it becomes part of a NATS subject
        subject = library_referrals_subject(actor.municipality if actor.role is Role.STAFF else "*", library)
        position = start_position(last_event_id, after)
        try:
            subscription = await subscribe_from(state.nats.jetstream(), subject, position)
        except (nats.errors.Error, OSError) as exc:
            raise ServiceUnavailable("the event stream is not reachable", service="referrals") from exc
        streams: LiveStreams = state.live_streams
        return ServerSentEvent(streams.follow(caller, request.headers, follow_subscription(subscription)))


def library_referrals_subject(municipality: str | None, library: str | None) -> str:
    """Every referral event (any type, any version) of one library: the last two tokens of a subject are its tenant."""
    return nats_subject("referrals", "referral.*.*", municipality, library)


def _hello() -> ServerSentEventMessage:
    return ServerSentEventMessage(comment="connected", retry=RECONNECT_MS, data=None)


async def follow_partner_feed(
    rpc: RpcClient, actor: Actor, partner_id: UUID, position: int, page: FeedPage
) -> AsyncIterator[ServerSentEventMessage]:
    yield _hello()
    quiet_since = time.monotonic()
    while True:
        for entry in page.items:
            if entry.position <= position:
                continue  # never twice, even if a page overlaps
            position = entry.position
            yield ServerSentEventMessage(id=entry.position, event=entry.type, data=msgspec.json.encode(entry).decode())
            quiet_since = time.monotonic()
        if len(page.items) < PAGE:
            await asyncio.sleep(POLL_SECONDS)
            if time.monotonic() - quiet_since > KEEPALIVE_SECONDS:
                yield ServerSentEventMessage(comment="keep-alive", data=None)
                quiet_since = time.monotonic()
        try:
            page = await rpc.call(ops.GET_FEED, actor, GetFeed(partner_id=partner_id, after=position, limit=PAGE))
        except PartnernetError as exc:
            # The partners service is away for a moment; the position holds, so nothing is lost.
            yield ServerSentEventMessage(comment=f"waiting: {exc.detail}", data=None)
            page = FeedPage(items=[], next_after=position)
            await asyncio.sleep(RECONNECT_MS / 1000)


async def subscribe_from(js: Any, subject: str, position: int | None) -> Any:
    if position is None:
        config = ConsumerConfig(deliver_policy=DeliverPolicy.NEW)
    else:
        config = ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=position + 1)
    return await js.subscribe(
        subject, stream=event_stream_name("referrals"), ordered_consumer=True, config=config, inactive_threshold=60.0
    )


async def follow_subscription(subscription: Any) -> AsyncIterator[ServerSentEventMessage]:
    try:
        yield _hello()
        while True:
            try:
                message = await subscription.next_msg(timeout=KEEPALIVE_SECONDS)
            except nats.errors.TimeoutError:
                yield ServerSentEventMessage(comment="keep-alive", data=None)
                continue
            sequence = message.metadata.sequence.stream
            # `events.referrals.referral.accepted.v1.<municipality>.<library>`: the type is in the subject
            event = short_type(".".join(message.subject.split(".")[2:5]))
            yield ServerSentEventMessage(id=sequence, event=event, data=message.data.decode())
    finally:
        with contextlib.suppress(Exception):
            await subscription.unsubscribe()
