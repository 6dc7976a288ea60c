"""Whether the library may contact a participant itself (to say a place came free). Pure: no I/O, no clock reads."""

from __future__ import annotations

from datetime import datetime

from services.referrals.domain.consent import consent_state
from shared.contracts.referrals.api.referrals import Consent, ConsentParty, ConsentState, ContactChannel
from shared.contracts.referrals.events import SharedData


def may_contact_participant(
    channel: ContactChannel, consent: Consent, kept: ConsentState, library: str, anonymised: bool, now: datetime
) -> bool:
    """Only by a channel of the participant's own (`via_referrer`: the referrer keeps the contact), under a consent
    still in force that gives the library their contact details, while it still has them."""
    if anonymised or channel is ContactChannel.VIA_REFERRER:
        return False
    if consent_state(kept, consent.valid_until, now) is not ConsentState.GIVEN:
        return False
    return ConsentParty(library=library) in consent.given_to and SharedData.CONTACT_DETAILS in consent.shares
