"""Problems in plain words: every problem type the API gives has a sentence, with the detail kept beside it."""

from __future__ import annotations

import msgspec
import pytest

from gateway.console.explain import code_of, explain, field_of, plain_words
from gateway.console.messages import NL
from gateway.problems import HTTP_CODES, problem_type
from shared.contracts.referrals.api.referrals import SubmitReferral
from shared.errors import ERRORS_BY_CODE, Conflict, IllegalTransition, NotFound

# The console never sends what the API could refuse as these, so they read as an internal error.
NEVER_SENT = {"method-not-allowed", "not-acceptable", "unsupported-media-type"}


@pytest.mark.parametrize("code", sorted({*ERRORS_BY_CODE, *HTTP_CODES.values()} - NEVER_SENT))
def test_every_problem_type_of_the_api_has_a_sentence(code: str) -> None:
    explanation = plain_words("nl", problem_type(code), "the detail")
    assert explanation.code == code
    assert explanation.sentence == NL[f"problem.{code}"]
    assert explanation.detail == "the detail"
    assert explanation.type == problem_type(code)


def test_an_unknown_problem_type_reads_as_an_internal_error() -> None:
    assert code_of("urn:partnernet:problem:something-new") == "internal"
    assert code_of("about:blank") == "internal"


def test_a_services_error_keeps_its_detail_and_status() -> None:
    explanation = explain("en", IllegalTransition("referral is declined: cannot accept"))
    assert explanation.sentence.startswith("This step is not possible")
    assert explanation.detail == "referral is declined: cannot accept"
    assert explanation.status == 409
    assert explain("nl", Conflict("stale", current={"version": 3})).status == 409
    assert explain("nl", NotFound("referral x not found")).status == 404


def test_a_validation_error_points_at_its_field() -> None:
    with pytest.raises(msgspec.ValidationError) as raised:
        msgspec.convert({"library": "Not A Slug"}, SubmitReferral)
    explanation = explain("nl", raised.value)
    assert explanation.code == "invalid-input"
    assert explanation.field == "library"
    assert explanation.field_label == "Bibliotheek"  # as the form calls it
    assert explain("en", NotFound("at `$.something_new`")).field_label == "something_new"


@pytest.mark.parametrize(
    ("detail", "field"),
    [
        ("Expected `str` of length >= 1 - at `$.participant.name`", "participant.name"),
        ("Object missing required field `reason`", "reason"),
        ("Object missing required field `name` - at `$.contact_person`", "contact_person.name"),
        ("the library is unknown", None),
    ],
)
def test_field_of_reads_where_msgspec_says(detail: str, field: str | None) -> None:
    assert field_of(detail) == field
