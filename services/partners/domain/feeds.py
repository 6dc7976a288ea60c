"""What goes into a partner's feed, and how the feed reaches it over NATS. Pure.

A feed entry is made from the event's envelope, not from its type: every referral event names its
parties the same way (`referring_partner_id`, `receiving_partner_id`, `course_id` …), so event types
added later reach the partners concerned without a change here. What a partner sees is the event's
data with the participant's pseudonym replaced by one of the partner's own (stable within its feed,
different between partners, not traceable without the partner's key), and nothing personal.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from typing import Any
from uuid import UUID

from shared.contracts import EVENT_TYPE_PREFIX

FEED_STREAM = "PARTNER_FEEDS"  # declared in shared/messaging.py
PSEUDONYM_FIELD = "participant_pseudonym"
PARTY_FIELDS = ("referring_partner_id", "receiving_partner_id")
# Never in a partner's feed, whatever an event may carry one day.
PERSONAL_FIELDS = frozenset({"participant", "contact_person", "note", "notes", "name", "email", "phone", "address"})


def feed_pseudonym(feed_key: bytes, pseudonym: str) -> str:
    """The participant as this partner knows it: the referral's pseudonym, keyed with the partner's key."""
    digest = hmac.new(feed_key, pseudonym.encode(), hashlib.sha256).digest()
    return "F-" + base64.b32encode(digest[:10]).decode().rstrip("=")


def _uuid(value: object) -> UUID | None:
    if value in (None, ""):
        return None
    try:
        return UUID(str(value))
    except ValueError:
        return None


def partners_named(data: Mapping[str, Any]) -> set[UUID]:
    """The partners a referral event is about: the one that referred, the one that receives."""
    return {partner for field in PARTY_FIELDS if (partner := _uuid(data.get(field))) is not None}


def supplier_of(data: Mapping[str, Any]) -> UUID | None:
    """The partner that supplied the volunteer or intern a volunteers event is about."""
    return _uuid(data.get("via_partner_id"))


def course_of(data: Mapping[str, Any]) -> UUID | None:
    return _uuid(data.get("course_id"))


def entry_data(data: Mapping[str, Any], feed_key: bytes) -> dict[str, Any]:
    """The event's data as the partner may see it."""
    shown = {key: value for key, value in data.items() if key not in PERSONAL_FIELDS}
    if isinstance(pseudonym := data.get(PSEUDONYM_FIELD), str) and pseudonym:
        shown[PSEUDONYM_FIELD] = feed_pseudonym(feed_key, pseudonym)
    return shown


def short_type(qualified_type: str) -> str:
    """`nl.partnernet.referral.accepted.v1` → `referral.accepted`."""
    name = qualified_type.removeprefix(EVENT_TYPE_PREFIX)
    resource, _, rest = name.partition(".")
    verb = rest.rsplit(".v", 1)[0] if ".v" in rest else rest
    return f"{resource}.{verb}"


def patterns_of_no_event(patterns: Iterable[str], known_types: Iterable[str]) -> list[str]:
    """The patterns that no event type of the catalogue matches (`referral.acepted`, `refferal.*`): a webhook with
    only those would never get a delivery, and nobody would be told why."""
    short = {short_type(qualified) for qualified in known_types}
    resources = {name.partition(".")[0] for name in short}
    return [p for p in patterns if p != "*" and p not in short and not (p.endswith(".*") and p[:-2] in resources)]


def type_matches(patterns: Iterable[str], qualified_type: str) -> bool:
    """`*`, `referral.*` or `referral.accepted` (every version of it)."""
    wanted = short_type(qualified_type)
    resource = wanted.partition(".")[0]
    return any(p == "*" or p == wanted or p == f"{resource}.*" for p in patterns)


# --- the partner's feed on NATS: one subject, one durable consumer, credentials for those only -----


def feed_subject(partner_id: UUID) -> str:
    return f"feeds.{partner_id}"


def feed_durable(partner_id: UUID) -> str:
    return f"feed-{partner_id}"


def feed_inbox_prefix(partner_id: UUID) -> str:
    """The partner's client must use this inbox prefix: it may receive nothing else."""
    return f"_FEED.{partner_id}"


def nats_permissions(partner_id: UUID) -> dict[str, Any]:
    """What a partner's NATS user may do: pull from its own durable consumer and ack, read its own subject.

    Anything else (another partner's feed or consumer, `events.>`, `rpc.>`, the JetStream API beyond its
    consumer, other clients' inboxes) is a permissions violation.
    """
    durable = feed_durable(partner_id)
    return {
        "pub": {
            "allow": [
                f"$JS.API.CONSUMER.INFO.{FEED_STREAM}.{durable}",
                f"$JS.API.CONSUMER.MSG.NEXT.{FEED_STREAM}.{durable}",
                f"$JS.ACK.{FEED_STREAM}.{durable}.>",
            ]
        },
        "sub": {"allow": [f"{feed_inbox_prefix(partner_id)}.>", feed_subject(partner_id)]},
        "subs": -1,
        "data": -1,
        "payload": -1,
    }
