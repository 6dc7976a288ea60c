"""Language buddies without servers: the referral's state from its events, who may be matched, one at a time."""

from __future__ import annotations

from uuid import uuid4

import pytest

from services.volunteers.domain import buddies
from shared.errors import Conflict, InvalidInput


@pytest.mark.parametrize(
    ("event_type", "status"),
    [
        ("nl.partnernet.referral.submitted.v1", "submitted"),
        ("nl.partnernet.referral.submitted.v2", "submitted"),
        ("nl.partnernet.referral.accepted.v1", "accepted"),
        ("nl.partnernet.referral.no_show_recorded.v1", "no_show"),
        ("nl.partnernet.referral.intake_held.v1", "intake_held"),
        ("nl.partnernet.referral.waitlisted.v1", None),
        ("nl.partnernet.referral.anonymised.v1", "anonymised"),
        ("nl.partnernet.referral.overdue.v1", None),  # a marker: the state stays
        ("nl.partnernet.referral.something_new.v1", None),  # a type added later: the state stays
    ],
)
def test_the_referrals_state_follows_the_events_that_say_one(event_type: str, status: str | None) -> None:
    assert buddies.status_of(event_type) == status


@pytest.mark.parametrize("status", ["accepted", "intake_planned", "intake_held", "enrolled"])
def test_a_buddy_is_matched_once_the_library_took_the_participant_on(status: str) -> None:
    buddies.check_participant(status, "P-ABCD2345", named_pseudonym="P-ABCD2345", library="bieb-a")
    buddies.check_participant(status, "P-ABCD2345", named_pseudonym=None, library="bieb-a")


@pytest.mark.parametrize(
    "status", ["submitted", "declined", "withdrawn", "expired", "completed", "no_show", "anonymised"]
)
def test_no_buddy_before_the_library_took_the_participant_on_or_after_the_referral_closed(status: str) -> None:
    with pytest.raises(Conflict, match=f"the referral is {status}"):
        buddies.check_participant(status, "P-ABCD2345", named_pseudonym=None, library="bieb-a")


def test_a_participant_the_library_does_not_know_is_no_participant() -> None:
    with pytest.raises(InvalidInput, match="P-NOBODY12 is not a participant library bieb-a knows"):
        buddies.check_participant(None, None, named_pseudonym="P-NOBODY12", library="bieb-a")
    with pytest.raises(InvalidInput):  # the referral named, with another participant's pseudonym
        buddies.check_participant("accepted", "P-ABCD2345", named_pseudonym="P-OTHER234", library="bieb-a")
    with pytest.raises(InvalidInput):
        buddies.check_target(None, None, opening_id=None)


def test_one_buddy_at_a_time_and_not_the_same_one_twice() -> None:
    buddy, other = uuid4(), uuid4()
    buddies.check_one_buddy(buddy, [])
    with pytest.raises(Conflict, match="buddy already"):
        buddies.check_one_buddy(buddy, [buddy])
    with pytest.raises(Conflict, match="has a buddy already"):
        buddies.check_one_buddy(other, [buddy])
