"""Purchasing rules without servers: the lifecycle, approvals and the second approver, budgets in cents."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from services.courses.domain import purchasing
from services.courses.domain.purchasing import Budget, PurchaseStep
from shared.contracts.courses.api.purchasing import PurchaseStatus
from shared.errors import Conflict, Forbidden, IllegalTransition, InvalidInput, NotFound
from shared.tenancy import Actor, Role

P = PurchaseStatus
LEGAL = {
    (P.REQUESTED, PurchaseStep.ADD_QUOTE): P.QUOTED,
    (P.REQUESTED, PurchaseStep.REJECT): P.REJECTED,
    (P.REQUESTED, PurchaseStep.CANCEL): P.CANCELLED,
    (P.QUOTED, PurchaseStep.ADD_QUOTE): P.QUOTED,
    (P.QUOTED, PurchaseStep.APPROVE_FIRST): P.AWAITING_SECOND_APPROVAL,
    (P.QUOTED, PurchaseStep.APPROVE): P.APPROVED,
    (P.QUOTED, PurchaseStep.REJECT): P.REJECTED,
    (P.QUOTED, PurchaseStep.CANCEL): P.CANCELLED,
    (P.AWAITING_SECOND_APPROVAL, PurchaseStep.APPROVE): P.APPROVED,
    (P.AWAITING_SECOND_APPROVAL, PurchaseStep.REJECT): P.REJECTED,
    (P.AWAITING_SECOND_APPROVAL, PurchaseStep.CANCEL): P.CANCELLED,
    (P.APPROVED, PurchaseStep.CANCEL): P.CANCELLED,
    (P.APPROVED, PurchaseStep.ORDER): P.ORDERED,
    (P.ORDERED, PurchaseStep.DELIVER): P.DELIVERED,
    (P.DELIVERED, PurchaseStep.INVOICE): P.INVOICED,
    (P.DELIVERED, PurchaseStep.HOLD_INVOICE): P.INVOICE_AWAITING_APPROVAL,
    (P.INVOICE_AWAITING_APPROVAL, PurchaseStep.APPROVE_EXCESS_FIRST): P.INVOICE_AWAITING_APPROVAL,
    (P.INVOICE_AWAITING_APPROVAL, PurchaseStep.APPROVE_EXCESS): P.INVOICED,
    (P.INVOICE_AWAITING_APPROVAL, PurchaseStep.REFUSE_INVOICE): P.DELIVERED,
    (P.INVOICED, PurchaseStep.CLOSE): P.CLOSED,
}


@pytest.mark.parametrize("status", list(PurchaseStatus))
@pytest.mark.parametrize("step", list(PurchaseStep))
def test_purchase_lifecycle_allows_only_the_table(status: PurchaseStatus, step: PurchaseStep) -> None:
    if (status, step) in LEGAL:
        assert purchasing.apply_step(status, step) is LEGAL[(status, step)]
    else:
        with pytest.raises(IllegalTransition) as raised:
            purchasing.apply_step(status, step)
        assert raised.value.extra == {"state": status.value, "step": step.value}


def test_an_illegal_step_says_the_state_and_what_is_possible_now() -> None:
    with pytest.raises(IllegalTransition) as raised:
        purchasing.apply_step(P.REQUESTED, PurchaseStep.ORDER)
    assert raised.value.detail == "a purchase that is requested cannot order; possible now: add_quote, cancel, reject"
    with pytest.raises(IllegalTransition, match="closed cannot cancel; it is finished"):
        purchasing.apply_step(P.CLOSED, PurchaseStep.CANCEL)


@pytest.mark.parametrize(
    ("status", "amount", "threshold", "expected"),
    [
        (P.QUOTED, 500_000, 500_000, PurchaseStep.APPROVE),  # at the threshold: one approver
        (P.QUOTED, 500_001, 500_000, PurchaseStep.APPROVE_FIRST),  # above: the first of two
        (P.QUOTED, 0, 0, PurchaseStep.APPROVE),
        (P.QUOTED, 1, 0, PurchaseStep.APPROVE_FIRST),
        (P.AWAITING_SECOND_APPROVAL, 900_000, 500_000, PurchaseStep.APPROVE),
    ],
)
def test_above_the_threshold_an_approval_needs_a_second_approver(
    status: PurchaseStatus, amount: int, threshold: int, expected: PurchaseStep
) -> None:
    assert purchasing.approval_step(status, amount_cents=amount, threshold_cents=threshold) is expected


HOLDERS = {"anna", "bram"}
ANNA = Actor(subject="anna", role=Role.STAFF, municipality="utrecht", library="centrale")
BRAM = Actor(subject="bram", role=Role.STAFF, municipality="utrecht", library="centrale")
CHRIS = Actor(subject="chris", role=Role.STAFF, municipality="utrecht", library="centrale")
ANNA_ELSEWHERE = Actor(subject="anna", role=Role.STAFF, municipality="utrecht", library="overvecht")
COORDINATOR = Actor(subject="anna", role=Role.COORDINATOR, municipality="utrecht")


def approve(actor: Actor, *, requested_by: str = "chris", earlier: list[str] | None = None) -> None:
    purchasing.check_may_approve(
        actor, library="centrale", holders=HOLDERS, requested_by=requested_by, earlier_approvers=earlier or []
    )


def test_a_budget_holder_approves_once_and_a_second_must_be_someone_else() -> None:
    approve(ANNA)
    approve(BRAM, earlier=["anna"])
    with pytest.raises(Forbidden, match="anna already approved"):
        approve(ANNA, earlier=["anna"])


@pytest.mark.parametrize(
    ("actor", "requested_by", "message"),
    [
        (CHRIS, "dirk", "chris is not a budget holder"),
        (ANNA, "anna", "who requested a purchase does not approve it"),
        (ANNA_ELSEWHERE, "chris", "only budget holders of library centrale"),
        (COORDINATOR, "chris", "only budget holders of library centrale"),
    ],
)
def test_who_may_not_approve(actor: Actor, requested_by: str, message: str) -> None:
    with pytest.raises(Forbidden, match=message):
        approve(actor, requested_by=requested_by)


def test_a_budget_refuses_what_exceeds_it_with_the_numbers() -> None:
    budget = Budget(library="centrale", year=2027, amount=500_000, committed=450_000)
    with pytest.raises(Conflict) as raised:
        budget.commit(100_000)
    assert raised.value.detail == (
        "budget 2027 of library centrale: 500000 cents, committed 450000, spent 0; "
        "this approval of 100000 cents exceeds it by 50000"
    )
    assert raised.value.extra["excess_cents"] == 50_000
    assert raised.value.extra["available_cents"] == 50_000
    assert budget.commit(50_000).committed == 500_000  # exactly what is left fits


def test_an_invoice_moves_the_commitment_to_spent() -> None:
    budget = Budget(library="centrale", year=2027, amount=500_000, committed=300_000, spent=100_000)
    after = budget.spend(committed_cents=200_000, invoice_cents=180_000)
    assert (after.committed, after.spent, after.available) == (100_000, 280_000, 120_000)
    higher = budget.spend(committed_cents=200_000, invoice_cents=300_000)  # 100,000 were still free
    assert (higher.committed, higher.spent, higher.available) == (100_000, 400_000, 0)
    with pytest.raises(Conflict, match="this invoice of 300001 cents exceeds it by 1"):
        budget.spend(committed_cents=200_000, invoice_cents=300_001)


def test_a_budget_cannot_shrink_below_what_is_committed_and_spent() -> None:
    budget = Budget(library="centrale", year=2027, amount=500_000, committed=300_000, spent=100_000)
    assert budget.reallocate(400_000).available == 0
    with pytest.raises(Conflict, match="300000 committed and 100000 spent"):
        budget.reallocate(399_999)


def test_no_budget_set_is_a_budget_of_nothing() -> None:
    with pytest.raises(Conflict, match="budget 2027 of library centrale: 0 cents"):
        Budget(library="centrale", year=2027).check_room(1, "this request")
    Budget(library="centrale", year=2027).check_room(0, "this request")  # a free programme needs no money


def test_the_budget_year_is_the_dutch_calendar_year() -> None:
    assert purchasing.budget_year_of(datetime(2026, 12, 31, 23, 30, tzinfo=UTC)) == 2027  # 00:30 in Amsterdam
    assert purchasing.budget_year_of(datetime(2026, 12, 31, 22, 30, tzinfo=UTC)) == 2026


def test_the_coordinator_or_a_holder_appoints_budget_holders_and_staff_never_appoint_themselves() -> None:
    purchasing.check_may_manage_holders(COORDINATOR, "centrale", "utrecht", set())  # the first one
    purchasing.check_may_manage_holders(COORDINATOR, "centrale", "utrecht", HOLDERS)
    purchasing.check_may_manage_holders(ANNA, "centrale", "utrecht", HOLDERS)
    purchasing.check_may_manage_holders(Actor(subject="op", role=Role.OPERATOR), "centrale", "utrecht", set())
    with pytest.raises(Forbidden, match="or the municipality's coordinator"):
        purchasing.check_may_manage_holders(CHRIS, "centrale", "utrecht", set())  # no self-appointed first holder
    with pytest.raises(Forbidden, match="only a budget holder"):
        purchasing.check_may_manage_holders(CHRIS, "centrale", "utrecht", HOLDERS)
    with pytest.raises(Forbidden, match="their own library"):
        purchasing.check_may_manage_holders(ANNA_ELSEWHERE, "centrale", "utrecht", HOLDERS)
    with pytest.raises(NotFound):
        purchasing.check_may_manage_holders(
            Actor(subject="c", role=Role.COORDINATOR, municipality="amersfoort"), "centrale", "utrecht", set()
        )
    with pytest.raises(Forbidden):
        purchasing.check_may_manage_holders(
            Actor(subject="p", role=Role.PARTNER, partner="x"), "centrale", "utrecht", set()
        )
    with pytest.raises(Conflict, match="at least one budget holder"):
        purchasing.check_keeps_a_holder({"anna"}, "anna")


def test_an_expired_quote_cannot_be_approved_or_added() -> None:
    today = date(2027, 3, 10)
    purchasing.check_quote_still_valid("q1", date(2027, 3, 10), today)  # its last day still counts
    purchasing.check_quote_still_valid("q1", None, today)  # no end stated: binding until withdrawn
    with pytest.raises(Conflict, match="quote q1 was valid until 2027-03-09; ask the provider for a new quote"):
        purchasing.check_quote_still_valid("q1", date(2027, 3, 9), today)
    purchasing.check_new_quote(date(2027, 3, 10), today)
    with pytest.raises(InvalidInput, match="an expired quote cannot be added"):
        purchasing.check_new_quote(date(2027, 3, 9), today)


def test_a_delivery_falls_between_the_order_and_today() -> None:
    ordered, today = date(2027, 3, 1), date(2027, 3, 10)
    purchasing.check_delivery_date(date(2027, 3, 1), ordered, today)
    purchasing.check_delivery_date(today, ordered, today)
    with pytest.raises(InvalidInput, match="a delivery on 2027-02-28 is before the order of 2027-03-01"):
        purchasing.check_delivery_date(date(2027, 2, 28), ordered, today)
    with pytest.raises(InvalidInput, match="not for a day still to come"):
        purchasing.check_delivery_date(date(2027, 3, 11), ordered, today)


def test_an_invoice_above_the_approved_amount_waits_for_approval_of_the_difference() -> None:
    assert purchasing.invoice_step(280_000, 280_000) is PurchaseStep.INVOICE
    assert purchasing.invoice_step(270_000, 280_000) is PurchaseStep.INVOICE
    assert purchasing.invoice_step(280_001, 280_000) is PurchaseStep.HOLD_INVOICE  # one cent above is above


@pytest.mark.parametrize(
    ("invoice", "threshold", "needed"),
    [
        (200_000, 200_000, 1),  # at the threshold: one budget holder
        (200_001, 200_000, 2),  # above it: two, however small the difference
        (380_000, 200_000, 2),  # approved at 190,000 by one holder; doubled on the invoice, two must agree
        (50_000, 200_000, 1),
    ],
)
def test_the_difference_needs_the_approvers_the_new_total_would_have_needed(
    invoice: int, threshold: int, needed: int
) -> None:
    assert purchasing.excess_approvers_needed(invoice, threshold) == needed


def test_the_approvals_of_the_difference_complete_when_enough_holders_agreed() -> None:
    assert purchasing.excess_step(0, 1) is PurchaseStep.APPROVE_EXCESS
    assert purchasing.excess_step(0, 2) is PurchaseStep.APPROVE_EXCESS_FIRST
    assert purchasing.excess_step(1, 2) is PurchaseStep.APPROVE_EXCESS


def approve_excess(actor: Actor, *, recorded_by: str = "dirk", earlier: list[str] | None = None) -> None:
    purchasing.check_may_approve_excess(
        actor,
        library="centrale",
        holders=HOLDERS,
        requested_by="chris",
        recorded_by=recorded_by,
        earlier_approvers=earlier or [],
    )


def test_who_may_approve_the_difference_of_an_invoice() -> None:
    approve_excess(ANNA)
    approve_excess(BRAM, earlier=["anna"])
    with pytest.raises(Forbidden, match="chris is not a budget holder"):
        approve_excess(CHRIS)  # the staff member who is no budget holder, as in the issue
    with pytest.raises(Forbidden, match="who recorded an invoice does not approve it"):
        approve_excess(ANNA, recorded_by="anna")
    with pytest.raises(Forbidden, match="anna already approved this invoice"):
        approve_excess(ANNA, earlier=["anna"])
    with pytest.raises(Forbidden, match="only budget holders of library centrale"):
        approve_excess(COORDINATOR)


def test_budgets_and_the_threshold_are_set_by_budget_holders() -> None:
    purchasing.check_may_set_budget(ANNA, "centrale", HOLDERS)
    purchasing.check_may_set_budget(Actor(subject="op", role=Role.OPERATOR), "centrale", set())
    with pytest.raises(Forbidden):
        purchasing.check_may_set_budget(CHRIS, "centrale", HOLDERS)


def test_staff_purchase_for_their_own_library_only() -> None:
    assert purchasing.purchasing_library(ANNA, None) == "centrale"
    with pytest.raises(Forbidden):
        purchasing.purchasing_library(ANNA, "overvecht")
    with pytest.raises(InvalidInput):
        purchasing.purchasing_library(Actor(subject="op", role=Role.OPERATOR), None)
    with pytest.raises(Forbidden):
        purchasing.check_may_purchase(COORDINATOR)
    with pytest.raises(Forbidden):
        purchasing.check_may_read_purchasing(Actor(subject="p", role=Role.PARTNER, partner="x"))
