"""Integration events: one CloudEvents envelope and the catalogue of frozen, versioned event types.

Per service, `shared/contracts/<service>/events.py` (or a package `events/`, as the courses service's) holds its
event types and `<service>/api/` the requests it answers and the views it replies with; `vocabulary.py` the words
they all share.

An event type, once published, is frozen: change it only by adding optional fields, or publish a
new version beside the old one. tests/contracts compares every type's JSON Schema with a snapshot.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, TypeVar
from uuid import UUID

import msgspec

EVENT_TYPE_PREFIX = "nl.partnernet."

T = TypeVar("T", bound="EventData")


class EventData(msgspec.Struct, frozen=True, kw_only=True):
    """Base of every event's data. Subclasses set the producing service, the type and its version."""

    service: ClassVar[str]
    type: ClassVar[str]  # `<resource>.<past verb>`, e.g. `referral.submitted`
    version: ClassVar[int] = 1

    @classmethod
    def qualified_type(cls) -> str:
        return f"{EVENT_TYPE_PREFIX}{cls.type}.v{cls.version}"


class Envelope(msgspec.Struct, frozen=True, kw_only=True):
    """CloudEvents 1.0 structured JSON; `subject` is the tenant (`<municipality>/<library>`)."""

    id: UUID
    source: str
    type: str
    time: datetime
    subject: str
    data: dict[str, Any]
    specversion: str = "1.0"
    datacontenttype: str = "application/json"
    municipality: str | None = None
    library: str | None = None


def short_type(qualified_type: str) -> str:
    """`nl.partnernet.referral.accepted.v1` → `referral.accepted`: the type whatever its version."""
    return qualified_type.removeprefix(EVENT_TYPE_PREFIX).rsplit(".v", 1)[0]


def nats_subject(service: str, qualified_type: str, municipality: str | None, library: str | None) -> str:
    """`events.<service>.<type>.v<n>.<municipality>.<library>` so NATS wildcards and permissions scope by tenant."""
    short = qualified_type.removeprefix(EVENT_TYPE_PREFIX)
    return f"events.{service}.{short}.{municipality or '_'}.{library or '_'}"


CATALOGUE: dict[str, type[EventData]] = {}


def register(cls: type[T]) -> type[T]:
    qualified = cls.qualified_type()
    if qualified in CATALOGUE:
        raise ValueError(f"event type {qualified} is registered twice")
    CATALOGUE[qualified] = cls
    return cls


def decode_data(envelope: Envelope, cls: type[T]) -> T:
    return msgspec.convert(envelope.data, cls)


def load_catalogue() -> dict[str, type[EventData]]:
    """Import every producer's event module so the catalogue is complete."""
    import shared.contracts.courses.events
    import shared.contracts.partners.events
    import shared.contracts.referrals.events
    import shared.contracts.volunteers.events  # noqa: F401

    return CATALOGUE
