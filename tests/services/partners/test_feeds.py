"""What goes into a partner's feed: routing by the parties an event names, per-partner pseudonyms, no persons."""

from __future__ import annotations

from uuid import UUID

import pytest

from services.partners.domain.feeds import (
    entry_data,
    feed_pseudonym,
    nats_permissions,
    partners_named,
    short_type,
    type_matches,
)

REFERRER = UUID("0190a000-0000-7000-8000-00000000000a")
RECEIVER = UUID("0190a000-0000-7000-8000-00000000000b")
KEY_A, KEY_B = b"a" * 32, b"b" * 32


def test_a_pseudonym_is_stable_within_a_feed_and_differs_between_feeds() -> None:
    assert feed_pseudonym(KEY_A, "P-ABC") == feed_pseudonym(KEY_A, "P-ABC")
    assert feed_pseudonym(KEY_A, "P-ABC") != feed_pseudonym(KEY_B, "P-ABC")
    assert feed_pseudonym(KEY_A, "P-ABC") != feed_pseudonym(KEY_A, "P-ABD")
    assert feed_pseudonym(KEY_A, "P-ABC").startswith("F-")


def test_the_entry_replaces_the_pseudonym_and_drops_anything_personal() -> None:
    data = {
        "referral_id": "r1",
        "participant_pseudonym": "P-ABC",
        "reason": "no_capacity",
        "note": "belde boos op",
        "participant": {"name": "Fatima"},
        "contact_person": {"name": "Jan"},
    }
    shown = entry_data(data, KEY_A)
    assert shown == {
        "referral_id": "r1",
        "participant_pseudonym": feed_pseudonym(KEY_A, "P-ABC"),
        "reason": "no_capacity",
    }
    assert data["participant_pseudonym"] == "P-ABC"  # the event itself is left alone


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"referring_partner_id": str(REFERRER), "receiving_partner_id": None}, {REFERRER}),
        ({"referring_partner_id": None, "receiving_partner_id": str(RECEIVER)}, {RECEIVER}),
        ({"referring_partner_id": str(REFERRER), "receiving_partner_id": str(RECEIVER)}, {REFERRER, RECEIVER}),
        ({"library": "centrale"}, set()),
        ({"referring_partner_id": "not-a-uuid"}, set()),
    ],
    ids=["referred-by-a-partner", "referred-to-a-partner", "both", "neither", "garbage"],
)
def test_an_event_concerns_the_partners_it_names(data: dict[str, object], expected: set[UUID]) -> None:
    assert partners_named(data) == expected


@pytest.mark.parametrize(
    ("patterns", "matches"),
    [
        (["*"], True),
        (["referral.*"], True),
        (["referral.accepted"], True),
        (["referral.declined"], False),
        (["vacancy.*"], False),
        (["vacancy.published", "referral.accepted"], True),
    ],
)
def test_event_type_patterns(patterns: list[str], matches: bool) -> None:
    assert type_matches(patterns, "nl.partnernet.referral.accepted.v1") is matches
    assert short_type("nl.partnernet.referral.no_show_recorded.v2") == "referral.no_show_recorded"


def test_a_partner_may_pull_its_own_consumer_and_read_its_own_subject_only() -> None:
    permissions = nats_permissions(REFERRER)
    durable = f"feed-{REFERRER}"
    assert permissions["pub"]["allow"] == [
        f"$JS.API.CONSUMER.INFO.PARTNER_FEEDS.{durable}",
        f"$JS.API.CONSUMER.MSG.NEXT.PARTNER_FEEDS.{durable}",
        f"$JS.ACK.PARTNER_FEEDS.{durable}.>",
    ]
    assert permissions["sub"]["allow"] == [f"_FEED.{REFERRER}.>", f"feeds.{REFERRER}"]
    assert ">" not in permissions["sub"]["allow"] and "events.>" not in str(permissions)
