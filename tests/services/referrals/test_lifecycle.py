"""A referral's lifecycle (services/referrals/domain): the table of legal steps, what each step needs (an intake
held before an outcome, a note with another reason), the deadlines the policy sets. Unit tests: no servers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.referrals.domain import (
    CLOSED,
    TRANSITIONS,
    Policy,
    Step,
    apply_step,
    check_decline,
    check_intake_passed,
    check_may_reopen,
    intake_held_at,
)
from shared.contracts.referrals.api.referrals import ReferralStatus
from shared.contracts.referrals.events import DeclineReason
from shared.errors import Conflict, IllegalTransition, InvalidInput

NOW = datetime(2025, 3, 14, 10, 0, tzinfo=UTC)


S = ReferralStatus

# The lifecycle, written out independently of the code so that any change to it is a visible decision.
EXPECTED_TRANSITIONS: dict[tuple[ReferralStatus, Step], ReferralStatus] = {
    (S.SUBMITTED, Step.ACCEPT): S.ACCEPTED,
    (S.SUBMITTED, Step.DECLINE): S.DECLINED,
    (S.SUBMITTED, Step.WITHDRAW): S.WITHDRAWN,
    (S.SUBMITTED, Step.EXPIRE): S.EXPIRED,
    (S.ACCEPTED, Step.PLAN_INTAKE): S.INTAKE_PLANNED,
    (S.ACCEPTED, Step.ENROL): S.ENROLLED,
    (S.ACCEPTED, Step.WITHDRAW): S.WITHDRAWN,
    (S.INTAKE_PLANNED, Step.PLAN_INTAKE): S.INTAKE_PLANNED,
    (S.INTAKE_PLANNED, Step.RECORD_INTAKE_HELD): S.INTAKE_HELD,
    (S.INTAKE_PLANNED, Step.ENROL): S.ENROLLED,
    (S.INTAKE_PLANNED, Step.WITHDRAW): S.WITHDRAWN,
    (S.INTAKE_PLANNED, Step.MARK_NO_SHOW): S.NO_SHOW,
    (S.INTAKE_HELD, Step.ENROL): S.ENROLLED,
    (S.INTAKE_HELD, Step.COMPLETE): S.COMPLETED,
    (S.INTAKE_HELD, Step.WITHDRAW): S.WITHDRAWN,
    (S.ENROLLED, Step.ENROL): S.ENROLLED,
    (S.ENROLLED, Step.COMPLETE): S.COMPLETED,
    (S.ENROLLED, Step.WITHDRAW): S.WITHDRAWN,
    (S.ENROLLED, Step.MARK_NO_SHOW): S.NO_SHOW,
    (S.NO_SHOW, Step.PLAN_INTAKE): S.INTAKE_PLANNED,
}
TERMINAL = [S.DECLINED, S.COMPLETED, S.WITHDRAWN, S.EXPIRED]
CLOSED_STATUSES = [*TERMINAL, S.NO_SHOW]  # a no-show is closed until an intake is planned again
ILLEGAL = [(status, step) for status in S for step in Step if (status, step) not in EXPECTED_TRANSITIONS]


# --- the lifecycle ------------------------------------------------------------------------------


def test_transition_table_is_exactly_the_expected_lifecycle() -> None:
    assert TRANSITIONS == EXPECTED_TRANSITIONS


@pytest.mark.parametrize(
    ("status", "step", "expected"),
    [(status, step, target) for (status, step), target in EXPECTED_TRANSITIONS.items()],
    ids=[f"{status.value}-{step.value}" for status, step in EXPECTED_TRANSITIONS],
)
def test_legal_step_gives_the_expected_status(status: ReferralStatus, step: Step, expected: ReferralStatus) -> None:
    assert apply_step(status, step) is expected


@pytest.mark.parametrize(
    ("status", "step"), ILLEGAL, ids=[f"{status.value}-cannot-{step.value}" for status, step in ILLEGAL]
)
def test_illegal_step_is_refused_naming_state_and_step(status: ReferralStatus, step: Step) -> None:
    with pytest.raises(IllegalTransition) as caught:
        apply_step(status, step)

    assert status.value in caught.value.detail
    assert step.value in caught.value.detail
    # `state`, not `status`: the extras become members of the problem details, where `status` is the HTTP status.
    assert caught.value.extra == {"state": status.value, "step": step.value}
    assert caught.value.status == 409


def test_every_pair_of_status_and_step_is_either_legal_or_illegal() -> None:
    assert len(EXPECTED_TRANSITIONS) + len(ILLEGAL) == len(S) * len(Step)


def test_declined_referral_cannot_be_enrolled() -> None:
    with pytest.raises(IllegalTransition, match="a referral that is declined cannot enrol"):
        apply_step(S.DECLINED, Step.ENROL)


def test_submitted_referral_cannot_skip_acceptance_to_plan_an_intake() -> None:
    with pytest.raises(IllegalTransition, match="submitted cannot plan_intake"):
        apply_step(S.SUBMITTED, Step.PLAN_INTAKE)


def test_accepted_referral_no_longer_expires() -> None:
    with pytest.raises(IllegalTransition):
        apply_step(S.ACCEPTED, Step.EXPIRE)


def test_planning_an_intake_again_keeps_it_planned() -> None:
    assert apply_step(S.INTAKE_PLANNED, Step.PLAN_INTAKE) is S.INTAKE_PLANNED


def test_an_accepted_referral_enrols_before_any_intake_is_planned() -> None:
    assert apply_step(S.ACCEPTED, Step.ENROL) is S.ENROLLED


def test_a_planned_intake_is_no_outcome_the_intake_must_have_taken_place() -> None:
    with pytest.raises(IllegalTransition, match="intake_planned cannot complete"):
        apply_step(S.INTAKE_PLANNED, Step.COMPLETE)
    assert apply_step(apply_step(S.INTAKE_PLANNED, Step.RECORD_INTAKE_HELD), Step.COMPLETE) is S.COMPLETED


def test_a_no_show_is_invited_to_a_new_intake() -> None:
    assert apply_step(S.NO_SHOW, Step.PLAN_INTAKE) is S.INTAKE_PLANNED


def test_an_intake_next_week_cannot_be_recorded_as_held_now() -> None:
    next_week = NOW + timedelta(days=7)
    with pytest.raises(Conflict, match="record that it took place once it has"):
        intake_held_at(next_week, None, NOW)
    with pytest.raises(Conflict):
        intake_held_at(next_week, NOW + timedelta(minutes=1), NOW)  # nor said to be held in the future


def test_an_intake_is_held_at_its_planned_time_unless_told_otherwise() -> None:
    planned = NOW - timedelta(hours=2)
    assert intake_held_at(planned, None, NOW) == planned
    assert intake_held_at(planned, NOW - timedelta(hours=1), NOW) == NOW - timedelta(hours=1)


@pytest.mark.parametrize("step", [Step.COMPLETE, Step.MARK_NO_SHOW], ids=["complete", "no-show"])
def test_no_outcome_or_no_show_before_a_planned_intake_has_taken_place(step: Step) -> None:
    with pytest.raises(Conflict, match="has not taken place yet"):
        check_intake_passed(step, NOW + timedelta(days=7), False, NOW)
    check_intake_passed(step, NOW - timedelta(hours=1), False, NOW)  # its time has passed
    check_intake_passed(step, None, False, NOW)  # enrolled without a planned intake: the course is the intake
    check_intake_passed(step, NOW + timedelta(days=7), True, NOW)  # held early, on another day


def test_a_decline_for_another_reason_needs_a_note() -> None:
    for note in (None, "", "   "):
        with pytest.raises(InvalidInput, match="needs a note"):
            check_decline(DeclineReason.OTHER, note)
    check_decline(DeclineReason.OTHER, "verhuisd naar een andere gemeente")
    check_decline(DeclineReason.NO_CAPACITY, None)


def test_a_no_show_whose_personal_data_is_erased_is_not_invited_again() -> None:
    with pytest.raises(Conflict, match="erased"):
        check_may_reopen(NOW)
    check_may_reopen(None)


@pytest.mark.parametrize("status", TERMINAL, ids=[status.value for status in TERMINAL])
def test_terminal_status_has_no_way_out(status: ReferralStatus) -> None:
    assert [step for step in Step if (status, step) in TRANSITIONS] == []


def test_every_status_is_reachable_from_submitted() -> None:
    reached = {S.SUBMITTED}
    frontier = [S.SUBMITTED]
    while frontier:
        current = frontier.pop()
        for (source, _step), target in TRANSITIONS.items():
            if source is current and target not in reached:
                reached.add(target)
                frontier.append(target)

    assert reached == set(S)


# --- the library's policy -----------------------------------------------------------------------


def test_deadlines_follow_the_policy() -> None:
    policy = Policy(response_days=5, expiry_days=20, retention_days=90)

    assert policy.respond_by(NOW) == NOW + timedelta(days=5)
    assert policy.expires_at(NOW) == NOW + timedelta(days=20)
    assert policy.erase_after(NOW) == NOW + timedelta(days=90)


def test_a_referral_cannot_expire_before_its_response_time() -> None:
    with pytest.raises(InvalidInput, match="expire"):
        Policy(response_days=10, expiry_days=10, retention_days=0)


def test_the_closed_statuses_are_the_terminal_ones_and_a_no_show() -> None:
    assert set(CLOSED_STATUSES) == CLOSED
