"""Consent and disclosure without servers: whom a consent may name, when it ends, who may revoke it, and what each
party is shown of the participant."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import pytest

from services.referrals.domain import Parties
from services.referrals.domain.consent import check_consent, check_may_revoke, consent_state, disclosure
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

NOW = datetime(2025, 3, 14, 10, 0, tzinfo=UTC)
ACCEPTED = ReferralStatus.ACCEPTED
LIBRARY = "centrale"
REFERRER = UUID("0190a000-0000-7000-8000-000000000001")
ELSEWHERE = UUID("0190a000-0000-7000-8000-000000000009")
TO_LIBRARY = Parties(library=LIBRARY, municipality="m", referring_partner_id=REFERRER)
TO_PARTNER = Parties(library=LIBRARY, municipality="m", referring_partner_id=None, receiving_partner_id=REFERRER)
STAFF = Actor(subject="s", role=Role.STAFF, municipality="m", library=LIBRARY)
PARTNER = Actor(subject="p", role=Role.PARTNER, municipality="m", partner=str(REFERRER))
COORDINATOR = Actor(subject="c", role=Role.COORDINATOR, municipality="m")


def consent(
    *,
    given_at: datetime = NOW - timedelta(days=1),
    valid_until: date = date(2025, 12, 31),
    given_to: list[ConsentParty] | None = None,
    shares: list[SharedData] | None = None,
) -> Consent:
    return Consent(
        given_at=given_at,
        given_to=given_to if given_to is not None else [ConsentParty(library=LIBRARY)],
        shares=shares if shares is not None else list(SharedData),
        purpose="taalcursus",
        valid_until=valid_until,
    )


def test_consent_given_in_the_past_and_still_valid_is_accepted() -> None:
    check_consent(consent(), TO_LIBRARY, NOW)  # does not raise


def test_consent_given_just_now_and_valid_until_today_is_accepted() -> None:
    check_consent(consent(given_at=NOW, valid_until=NOW.date()), TO_LIBRARY, NOW)  # the boundaries are inclusive


def test_consent_given_in_the_future_is_rejected() -> None:
    with pytest.raises(InvalidInput, match="future"):
        check_consent(consent(given_at=NOW + timedelta(minutes=1)), TO_LIBRARY, NOW)


def test_expired_consent_is_rejected() -> None:
    with pytest.raises(InvalidInput, match="expired"):
        check_consent(consent(valid_until=NOW.date() - timedelta(days=1)), TO_LIBRARY, NOW)


def test_consent_must_name_the_receiving_party() -> None:
    with pytest.raises(InvalidInput, match=f"receives the referral \\(partner {REFERRER}\\)"):
        check_consent(consent(), TO_PARTNER, NOW)  # given to the library, but a partner receives
    check_consent(consent(given_to=[ConsentParty(partner_id=REFERRER)]), TO_PARTNER, NOW)


def test_consent_names_no_one_outside_the_referral() -> None:
    outsider = [ConsentParty(library=LIBRARY), ConsentParty(partner_id=ELSEWHERE)]
    with pytest.raises(InvalidInput, match=f"partner {ELSEWHERE} is not one of them"):
        check_consent(consent(given_to=outsider), TO_LIBRARY, NOW)
    with pytest.raises(InvalidInput, match="library other is not one of them"):
        check_consent(consent(given_to=[ConsentParty(library="other")]), TO_LIBRARY, NOW)


@pytest.mark.parametrize("party", [ConsentParty(), ConsentParty(library=LIBRARY, partner_id=REFERRER)])
def test_each_party_of_a_consent_is_a_library_or_a_partner(party: ConsentParty) -> None:
    with pytest.raises(InvalidInput, match="not both"):
        check_consent(consent(given_to=[party]), TO_LIBRARY, NOW)


def test_consent_is_kept_with_each_party_and_share_once() -> None:
    twice = consent(
        given_to=[ConsentParty(library=LIBRARY)] * 2, shares=[SharedData.REASON, SharedData.CONTACT_DETAILS] * 2
    )
    kept = check_consent(twice, TO_LIBRARY, NOW)
    assert kept.given_to == [ConsentParty(library=LIBRARY)]
    assert kept.shares == [SharedData.CONTACT_DETAILS, SharedData.REASON]


def test_consent_past_its_last_day_counts_as_expired_before_the_job_records_it() -> None:
    last_day = date(2025, 3, 13)
    assert consent_state(ConsentState.GIVEN, last_day, NOW) is ConsentState.EXPIRED
    assert consent_state(ConsentState.GIVEN, NOW.date(), NOW) is ConsentState.GIVEN
    assert consent_state(ConsentState.REVOKED, date(2099, 1, 1), NOW) is ConsentState.REVOKED


def test_either_side_records_a_revocation_and_is_named_in_it() -> None:
    assert check_may_revoke(STAFF, TO_LIBRARY, ConsentState.GIVEN, NOW, NOW) is ConsentSide.RECEIVING
    assert check_may_revoke(PARTNER, TO_LIBRARY, ConsentState.GIVEN, NOW, NOW) is ConsentSide.REFERRING
    with pytest.raises(Forbidden):
        check_may_revoke(COORDINATOR, TO_LIBRARY, ConsentState.GIVEN, NOW, NOW)
    with pytest.raises(Conflict, match="already revoked"):
        check_may_revoke(STAFF, TO_LIBRARY, ConsentState.REVOKED, NOW, NOW)
    with pytest.raises(InvalidInput, match="future"):
        check_may_revoke(STAFF, TO_LIBRARY, ConsentState.GIVEN, NOW + timedelta(hours=1), NOW)


@pytest.mark.parametrize(
    ("state", "because"),
    [(ConsentState.REVOKED, Withholding.CONSENT_REVOKED), (ConsentState.EXPIRED, Withholding.CONSENT_EXPIRED)],
)
@pytest.mark.parametrize("actor", [STAFF, PARTNER])
def test_once_consent_ends_no_party_sees_the_person(state: ConsentState, because: Withholding, actor: Actor) -> None:
    shown = disclosure(actor, TO_LIBRARY, consent=consent(), state=state, status=ACCEPTED)
    assert (shown.person, shown.reason, shown.because) == (False, False, because)
    assert shown.withheld == [SharedData.CONTACT_DETAILS, SharedData.REASON]


def test_the_outcome_goes_back_to_the_referrer_only_where_the_consent_shares_it() -> None:
    without_outcome = consent(shares=[SharedData.CONTACT_DETAILS, SharedData.REASON])
    shown = disclosure(PARTNER, TO_LIBRARY, consent=without_outcome, state=ConsentState.GIVEN, status=ACCEPTED)
    assert (shown.person, shown.outcome, shown.because) == (True, False, Withholding.CONSENT_SCOPE)
    assert disclosure(PARTNER, TO_LIBRARY, consent=consent(), state=ConsentState.GIVEN, status=ACCEPTED).outcome is True


def test_those_who_are_no_party_never_see_the_person() -> None:
    assert (
        disclosure(COORDINATOR, TO_LIBRARY, consent=consent(), state=ConsentState.GIVEN, status=ACCEPTED).person
        is False
    )


def test_a_partner_whose_organisation_or_partnership_ended_sees_pseudonyms_only() -> None:
    given, state = consent(), ConsentState.GIVEN
    inactive = disclosure(PARTNER, TO_LIBRARY, consent=given, state=state, status=ACCEPTED, organisation_active=False)
    ended = disclosure(PARTNER, TO_LIBRARY, consent=given, state=state, status=ACCEPTED, partnership_ended=True)
    assert (inactive.person, inactive.because) == (False, Withholding.PARTNER_INACTIVE)
    assert (ended.person, ended.because) == (False, Withholding.PARTNERSHIP_ENDED)
    assert (
        disclosure(STAFF, TO_LIBRARY, consent=given, state=state, status=ACCEPTED, partnership_ended=True).person
        is True
    )


@pytest.mark.parametrize("status", [ReferralStatus.SUBMITTED, ReferralStatus.DECLINED, ReferralStatus.EXPIRED])
def test_before_accepting_the_receiving_side_sees_what_it_needs_to_decide_and_not_who_it_is(
    status: ReferralStatus,
) -> None:
    shown = disclosure(STAFF, TO_LIBRARY, consent=consent(), state=ConsentState.GIVEN, status=status)
    assert (shown.person, shown.reason, shown.because) == (False, True, Withholding.NOT_ACCEPTED)
    # The referring side brought the person itself: it sees them at every step.
    assert disclosure(PARTNER, TO_LIBRARY, consent=consent(), state=ConsentState.GIVEN, status=status).person


def test_after_accepting_the_receiving_side_sees_only_what_the_consent_shares() -> None:
    reason_only = consent(shares=[SharedData.REASON])
    shown = disclosure(STAFF, TO_LIBRARY, consent=reason_only, state=ConsentState.GIVEN, status=ACCEPTED)
    assert (shown.person, shown.reason, shown.because) == (False, True, Withholding.CONSENT_SCOPE)
    contact_only = consent(shares=[SharedData.CONTACT_DETAILS])
    shown = disclosure(PARTNER, TO_PARTNER, consent=contact_only, state=ConsentState.GIVEN, status=ACCEPTED)
    assert (shown.person, shown.reason, shown.because) == (True, False, Withholding.CONSENT_SCOPE)


def test_the_library_that_logged_a_walk_in_sees_the_person_before_accepting() -> None:
    walk_in = Parties(library=LIBRARY, municipality="m", referring_partner_id=None)
    shown = disclosure(STAFF, walk_in, consent=consent(), state=ConsentState.GIVEN, status=ReferralStatus.SUBMITTED)
    assert (shown.person, shown.because) == (True, None)
