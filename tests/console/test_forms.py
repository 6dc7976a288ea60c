"""Form posts into the services' requests: Dutch local time, empty fields left out, errors that name the field."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import msgspec
import pytest
from litestar.datastructures import FormMultiDict

from gateway.console import forms
from gateway.console.explain import explain
from shared.contracts.referrals.api import operations as ops
from shared.contracts.referrals.api.referrals import PlanIntake
from shared.contracts.referrals.events import DeclineReason
from shared.contracts.vocabulary import SkillArea
from shared.errors import InvalidInput

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


def form(**fields: str | list[str]) -> FormMultiDict:
    pairs = [(key, item) for key, value in fields.items() for item in (value if isinstance(value, list) else [value])]
    return FormMultiDict(pairs)


def referral_form(**overrides: str | list[str]) -> FormMultiDict:
    fields: dict[str, str | list[str]] = {
        "library": "bibliotheek-zuid",
        "participant_name": "Fatima El Amrani",
        "participant_birth_date": "1984-03-02",
        "participant_phone": "",
        "needs": ["language", "digital"],
        "needs_language_level": "A2",
        "needs_digital_level": "",
        "reason": "Wil solliciteren",
        "preferred_channel": "phone",
        "contact_person_name": "Jan de Consulent",
        "contact_person_email": "jan@werkplein.example",
        "consent_given_at": "2026-11-20T10:30",
        "consent_shares": ["contact_details", "reason", "outcome"],
        "consent_purpose": "warme doorverwijzing",
        "consent_valid_until": "2027-11-20",
    }
    fields.update(overrides)
    return form(**fields)


def test_a_partners_referral_form_becomes_a_submission_in_dutch_time() -> None:
    partner = str(uuid4())
    body = forms.submit_referral(referral_form(), referring_partner_id=partner, library=None, now=NOW)
    assert body.library == "bibliotheek-zuid"
    assert str(body.referring_partner_id) == partner and body.receiving_partner_id is None
    assert [(n.area, n.level) for n in body.needs] == [(SkillArea.LANGUAGE, "A2"), (SkillArea.DIGITAL, None)]
    assert body.participant.phone is None  # empty is left out, not an empty string
    assert body.consent.given_at.utcoffset() is not None
    assert body.consent.given_at.astimezone(UTC).hour == 9  # 10:30 in Amsterdam in November is 09:30 UTC
    assert body.consent.valid_until.isoformat() == "2027-11-20"


def test_a_librarys_referral_goes_to_the_chosen_partner() -> None:
    partner = str(uuid4())
    body = forms.submit_referral(
        referral_form(library="ignored", receiving_partner_id=partner),
        referring_partner_id=None,
        library="eigen-bieb",
        now=NOW,
    )
    assert body.library == "eigen-bieb"
    assert str(body.receiving_partner_id) == partner


def test_a_referral_without_needs_is_refused_naming_the_field() -> None:
    with pytest.raises(msgspec.ValidationError) as raised:
        forms.submit_referral(referral_form(needs=[]), referring_partner_id=str(uuid4()), library=None, now=NOW)
    assert explain("nl", raised.value).field == "needs"


def test_a_date_that_is_no_date_names_its_field() -> None:
    with pytest.raises(InvalidInput) as raised:
        forms.submit_referral(
            referral_form(consent_valid_until="20-11-2027"), referring_partner_id=None, library="b", now=NOW
        )
    assert explain("en", raised.value).field == "consent.valid_until"


def test_planning_an_intake_takes_the_place_the_person_and_the_version() -> None:
    operation, command = forms.referral_step(
        form(
            intake_at="2026-12-03T14:00",
            place="Vestiging Noord, zaal 2",
            contact_person_name="Els",
            expected_version="2",
            note="",
        ),
        "plan-intake",
    )
    assert operation is ops.PLAN_INTAKE
    assert isinstance(command, PlanIntake)
    assert command.intake_at.astimezone(UTC).hour == 13
    assert command.contact_person.name == "Els" and command.expected_version == 2 and command.note is None


def test_each_step_maps_to_its_operation() -> None:
    operations = {
        "accept": form(expected_version="1"),
        "decline": form(reason=DeclineReason.NO_CAPACITY.value),
        "withdraw": form(reason="no_longer_needed"),
        "no-show": form(),
        "complete": form(outcome_course_finished="on"),
    }
    found = {step: forms.referral_step(fields, step)[0] for step, fields in operations.items()}
    assert found == {
        "accept": ops.ACCEPT_REFERRAL,
        "decline": ops.DECLINE_REFERRAL,
        "withdraw": ops.WITHDRAW_REFERRAL,
        "no-show": ops.RECORD_NO_SHOW,
        "complete": ops.COMPLETE_REFERRAL,
    }
    _, completed = forms.referral_step(form(outcome_course_finished="on"), "complete")
    assert completed.outcome.course_finished and not completed.outcome.moved_to_work


def test_declining_without_a_reason_is_refused() -> None:
    with pytest.raises(msgspec.ValidationError):
        forms.referral_step(form(), "decline")
