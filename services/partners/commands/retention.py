"""Delivered webhook deliveries and a partner's feed entries do not stay for ever.

Deliveries: only delivered ones go, with their tries, after PARTNERNET_DELIVERY_RETENTION_DAYS; a pending delivery
is still being tried, and a failed one waits for its partner to replay it
(`POST /api/v1/webhooks/{id}/deliveries/{id}/replay`).

Feed entries go after PARTNERNET_FEED_RETENTION_DAYS (by the event's time), each partner's horizon raised to the
highest position pruned, so a cursor before it is refused (410, queries/feeds.py) rather than moved past what went.
An entry stays while a delivery needs it or the relay has not published it on NATS yet. The window is at least
the deliveries' (a delivered one names its entry until it goes) and the partner feeds' NATS stream age (what a
partner can still read over NATS it can still read over HTTP); the service refuses to start with less.

A batch per transaction, rows a writer holds skipped.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from services.partners.store.feed import PRUNE_FEED
from services.partners.store.notices import PRUNE_MAIL
from services.partners.store.subscriptions import PRUNE_DELIVERIES
from shared.messaging import STREAMS
from shared.retention import BATCH, prune
from shared.settings import Settings
from shared.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


def feed_window(settings: Settings) -> timedelta:
    """The feed's window, refused at start when it would prune what a delivery or the NATS feed still shows."""
    window = timedelta(days=settings.feed_retention_days)
    stream_age = timedelta(seconds=next(s.max_age_seconds for s in STREAMS if s.name == "PARTNER_FEEDS"))
    if window < timedelta(days=settings.delivery_retention_days) or window < stream_age:
        raise ValueError(
            "PARTNERNET_FEED_RETENTION_DAYS must be at least PARTNERNET_DELIVERY_RETENTION_DAYS and the partner "
            f"feeds' NATS stream age ({stream_age.days} days)"
        )
    return window


async def prune_feed(work: UnitOfWork, window: timedelta, *, batch: int = BATCH) -> int:
    pruned = await prune(work, PRUNE_FEED, work.clock.now() - window, batch=batch)
    if pruned:
        log.info("pruned %d feed entries past their retention", pruned)
    return pruned


async def prune_delivered(work: UnitOfWork, window: timedelta, *, batch: int = BATCH) -> int:
    pruned = await prune(work, PRUNE_DELIVERIES, work.clock.now() - window, batch=batch)
    if pruned:
        log.info("pruned %d delivered webhook deliveries past their retention", pruned)
    return pruned


async def prune_mail(work: UnitOfWork, window: timedelta, *, batch: int = BATCH) -> int:
    pruned = await prune(work, PRUNE_MAIL, work.clock.now() - window, batch=batch)
    if pruned:
        log.info("pruned %d sent or failed notices past their retention", pruned)
    return pruned
