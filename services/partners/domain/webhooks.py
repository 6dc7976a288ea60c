"""Webhook rules: what deliveries look like, when a failed one is tried again. Pure. Where they may go:
services/partners/domain/targets.py."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

CLOUDEVENTS_JSON = "application/cloudevents+json; charset=utf-8"


def signing_secrets(
    secret: str, previous: str | None, previous_valid_until: datetime | None, now: datetime
) -> list[str]:
    """The current secret, and the previous one while its overlap lasts."""
    if previous and previous_valid_until is not None and now < previous_valid_until:
        return [secret, previous]
    return [secret]


def cloud_event(
    *,
    event_id: str,
    source: str | None,
    event_type: str,
    time: datetime,
    subject: str | None,
    data: dict[str, Any],
    position: int,
    partner_id: str,
) -> bytes:
    """The delivery's body: a CloudEvents 1.0 event in structured JSON mode (attributes and data together)."""
    event: dict[str, Any] = {
        "specversion": "1.0",
        "id": event_id,
        "source": source or "/partnernet",
        "type": event_type,
        "time": time,
        "datacontenttype": "application/json",
        "data": data,
        "feedposition": position,  # extension: the entry's position in the partner's feed
        "partnerid": partner_id,  # extension: whose feed it is
    }
    if subject:
        event["subject"] = subject
    return msgspec.json.encode(event)


def describe_failure(status_code: int | None, error: BaseException | None) -> str:
    if error is not None:
        return f"{type(error).__name__}: {error}"[:500]
    return f"the endpoint answered HTTP {status_code}"
