"""Consent and disclosure: whom a participant's consent names, when it ends, and what each party of a referral is
shown of the participant. Pure: no I/O, no clock reads.

The platform holds a participant's data only to pass it between the parties of a referral under their consent. So
once the consent ends (revoked, or its last day passed) no party is shown who the participant is any more; the
sealed data stays for the participant's own rights (export, erasure by the library's staff) until retention.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import msgspec

from services.referrals.domain import Parties, Side, may_read_personal_data, sides_of
from shared.clock import local_date
from shared.contracts.referrals.api.referrals import (
    Consent,
    ConsentParty,
    ConsentState,
    ReferralStatus,
    Withholding,
)
from shared.contracts.referrals.events import ConsentSide, SharedData
from shared.errors import Conflict, Forbidden, InvalidInput
from shared.tenancy import Actor, Role


def receiving_party(parties: Parties) -> ConsentParty:
    if parties.receiving_partner_id is not None:
        return ConsentParty(partner_id=parties.receiving_partner_id)
    return ConsentParty(library=parties.library)


def referral_parties(parties: Parties) -> list[ConsentParty]:
    """The parties a consent may name: the library and the partner(s) of this referral, nobody else."""
    named = [ConsentParty(library=parties.library)]
    for partner_id in (parties.referring_partner_id, parties.receiving_partner_id):
        if partner_id is not None:
            named.append(ConsentParty(partner_id=partner_id))
    return named


def describe(party: ConsentParty) -> str:
    return f"library {party.library}" if party.library is not None else f"partner {party.partner_id}"


def check_consent(consent: Consent, parties: Parties, now: datetime) -> Consent:
    """No consent, no referral: given already, still holding, to this referral's receiving party (by its id, not a
    typed name) and to no one outside the referral. Returns it as kept: each party and each share once."""
    if consent.given_at > now:
        raise InvalidInput("consent cannot be given in the future")
    if consent.valid_until < local_date(now):  # a consent's last day is a Dutch calendar day
        raise InvalidInput("consent has expired")
    for party in consent.given_to:
        if (party.library is None) == (party.partner_id is None):
            raise InvalidInput("name each party of the consent by its library or by its partner_id, not both")
    allowed = referral_parties(parties)
    for party in consent.given_to:
        if party not in allowed:
            raise InvalidInput(
                f"consent can only be given to the parties of this referral; {describe(party)} is not one of them",
                field="consent.given_to",
            )
    receiving = receiving_party(parties)
    if receiving not in consent.given_to:
        raise InvalidInput(
            f"consent must name the party that receives the referral ({describe(receiving)})",
            field="consent.given_to",
        )
    return msgspec.structs.replace(
        consent,
        given_to=list(dict.fromkeys(consent.given_to)),
        shares=sorted(set(consent.shares)),
    )


def consent_state(kept: ConsentState, valid_until: date, now: datetime) -> ConsentState:
    """The consent's state now. A last day that has passed counts at once, on every read, whether or not the
    periodic job has recorded the expiry yet: the job only writes down (and announces) what is already true."""
    if kept is ConsentState.GIVEN and valid_until < local_date(now):
        return ConsentState.EXPIRED
    return kept


def consent_lapsed(valid_until: date, now: datetime) -> bool:
    return valid_until < local_date(now)


def check_may_revoke(
    actor: Actor, parties: Parties, state: ConsentState, told_at: datetime, now: datetime
) -> ConsentSide:
    """Either side records what the participant told it; the side is named in the revocation's record."""
    sides = sides_of(actor, parties)
    if not sides:
        raise Forbidden("only the referring or the receiving side of this referral records a revocation")
    if state is not ConsentState.GIVEN:
        raise Conflict(f"the consent is already {state.value}", consent_state=state.value)
    if told_at > now:
        raise InvalidInput("a revocation cannot have been told in the future")
    return ConsentSide.RECEIVING if Side.RECEIVING in sides else ConsentSide.REFERRING


# --- disclosure: what each party is shown ---------------------------------------------------------


@dataclass(frozen=True)
class Disclosure:
    person: bool  # the participant's name, birth date and contact details
    reason: bool
    outcome: bool
    because: Withholding | None = None
    # The free text written about the person besides the reason (the consent's purpose, the history's notes):
    # for the parties only, who wrote it or work with the person.
    free_text: bool = True

    @property
    def withheld(self) -> list[SharedData]:
        shown = {
            SharedData.CONTACT_DETAILS: self.person,
            SharedData.REASON: self.reason,
            SharedData.OUTCOME: self.outcome,
        }
        return [kind for kind, is_shown in shown.items() if not is_shown]


def withheld_all(because: Withholding) -> Disclosure:
    # The outcome is codes about a pseudonym, no personal data: the parties keep it whatever happens to consent.
    return Disclosure(person=False, reason=False, outcome=True, because=because)


ENDED = {ConsentState.REVOKED: Withholding.CONSENT_REVOKED, ConsentState.EXPIRED: Withholding.CONSENT_EXPIRED}


def disclosure(
    actor: Actor,
    parties: Parties,
    *,
    consent: Consent,
    state: ConsentState,
    status: ReferralStatus,
    organisation_active: bool = True,
    partnership_ended: bool = False,
) -> Disclosure:
    """What of the participant `actor`, who may read the referral, is shown.

    Those who are no party (coordinators, operators) never see the person, nor the free text about them (the
    reason can hold personal data: a diagnosis, a family situation). A party sees nothing of the person once
    the consent has ended; a partner neither while it is suspended or ended, nor once its partnership with the
    library (or the municipality's agreement) has ended and none is in force. The referring side sees what it
    brought (the person, its reason) and the outcome where the consent shares it. The receiving side sees what it
    needs to decide (needs, the reason where shared, the preferred channel) and the person's contact details
    only from its acceptance on, where the consent shares them.
    """
    if not may_read_personal_data(
        actor,
        library=parties.library,
        referring_partner_id=parties.referring_partner_id,
        receiving_partner_id=parties.receiving_partner_id,
    ):
        return Disclosure(person=False, reason=False, outcome=True, because=Withholding.NOT_A_PARTY, free_text=False)
    if (because := ENDED.get(state)) is not None:
        return withheld_all(because)
    if actor.role is Role.PARTNER and not organisation_active:
        return withheld_all(Withholding.PARTNER_INACTIVE)
    if actor.role is Role.PARTNER and partnership_ended:
        return withheld_all(Withholding.PARTNERSHIP_ENDED)
    shares = set(consent.shares)
    if Side.REFERRING in sides_of(actor, parties):
        outcome = SharedData.OUTCOME in shares
        return Disclosure(
            person=True, reason=True, outcome=outcome, because=None if outcome else Withholding.CONSENT_SCOPE
        )
    # The receiving side: only what the consent shares with it, and who the person is only once it has accepted.
    reason = SharedData.REASON in shares
    if status not in ACCEPTED_ONWARDS:
        return Disclosure(person=False, reason=reason, outcome=True, because=Withholding.NOT_ACCEPTED)
    person = SharedData.CONTACT_DETAILS in shares
    return Disclosure(
        person=person,
        reason=reason,
        outcome=True,
        because=None if person and reason else Withholding.CONSENT_SCOPE,
    )


# Where the receiving side has accepted the participant and meets them: it needs to reach them. Before (and once
# declined, expired or withdrawn) it decides on needs and reason alone.
ACCEPTED_ONWARDS: frozenset[ReferralStatus] = frozenset(
    {
        ReferralStatus.ACCEPTED,
        ReferralStatus.INTAKE_PLANNED,
        ReferralStatus.INTAKE_HELD,
        ReferralStatus.ENROLLED,
        ReferralStatus.COMPLETED,
        ReferralStatus.NO_SHOW,
    }
)
