"""Whether the library tells a participant itself that a place came free: pure rules, no servers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from services.referrals.domain.contact import may_contact_participant
from shared.contracts.referrals.api.referrals import Consent, ConsentParty, ConsentState, ContactChannel
from shared.contracts.referrals.events import SharedData

NOW = datetime(2025, 3, 14, 10, 0, tzinfo=UTC)
LIBRARY = "bibliotheek-centrum"


def consent(
    *,
    valid_until: date = date(2025, 12, 31),
    library: str = LIBRARY,
    shares: tuple[SharedData, ...] = tuple(SharedData),
) -> Consent:
    return Consent(
        given_at=NOW - timedelta(days=1),
        given_to=[ConsentParty(library=library)],
        shares=list(shares),
        purpose="taalcursus",
        valid_until=valid_until,
    )


@pytest.mark.parametrize(
    ("channel", "given", "kept", "anonymised", "allowed"),
    [
        (ContactChannel.PHONE, consent(), ConsentState.GIVEN, False, True),
        (ContactChannel.EMAIL, consent(valid_until=date(2025, 3, 14)), ConsentState.GIVEN, False, True),
        (ContactChannel.VIA_REFERRER, consent(), ConsentState.GIVEN, False, False),
        (ContactChannel.PHONE, consent(valid_until=date(2025, 3, 13)), ConsentState.GIVEN, False, False),
        (ContactChannel.PHONE, consent(), ConsentState.REVOKED, False, False),
        (ContactChannel.PHONE, consent(library="elders"), ConsentState.GIVEN, False, False),
        (ContactChannel.PHONE, consent(shares=(SharedData.REASON,)), ConsentState.GIVEN, False, False),
        (ContactChannel.PHONE, consent(), ConsentState.GIVEN, True, False),
    ],
    ids=[
        "phone",
        "consents-last-day",
        "via-referrer",
        "lapsed-consent",
        "revoked-consent",
        "consent-to-another-party",
        "contact-details-not-shared",
        "erased",
    ],
)
def test_the_library_contacts_the_participant_only_where_it_may(
    channel: ContactChannel, given: Consent, kept: ConsentState, anonymised: bool, allowed: bool
) -> None:
    assert may_contact_participant(channel, given, kept, LIBRARY, anonymised, NOW) is allowed
