"""Purchasing: the lifecycle of a purchase, approvals with a second approver above a threshold, budgets. Pure."""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime

from shared.clock import LOCAL_TIME
from shared.contracts.courses.api.purchasing import PurchaseStatus
from shared.errors import Conflict, Forbidden, IllegalTransition, InvalidInput, NotFound
from shared.tenancy import Actor, Role

# Approvals of more than this need two budget holders, unless a library sets its own threshold (€5,000).
DEFAULT_SECOND_APPROVER_ABOVE_CENTS = 500_000


class PurchaseStep(enum.StrEnum):
    ADD_QUOTE = "add_quote"
    APPROVE_FIRST = "approve_first"  # the first of two approvals
    APPROVE = "approve"  # the approval that completes it
    REJECT = "reject"
    CANCEL = "cancel"
    ORDER = "order"
    DELIVER = "deliver"
    INVOICE = "invoice"
    CLOSE = "close"


P = PurchaseStatus
TRANSITIONS: dict[tuple[PurchaseStatus, PurchaseStep], PurchaseStatus] = {
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
    (P.APPROVED, PurchaseStep.CANCEL): P.CANCELLED,  # gives the commitment back to the budget
    (P.APPROVED, PurchaseStep.ORDER): P.ORDERED,
    (P.ORDERED, PurchaseStep.DELIVER): P.DELIVERED,
    (P.DELIVERED, PurchaseStep.INVOICE): P.INVOICED,
    (P.INVOICED, PurchaseStep.CLOSE): P.CLOSED,
}


def apply_step(status: PurchaseStatus, step: PurchaseStep) -> PurchaseStatus:
    try:
        return TRANSITIONS[(status, step)]
    except KeyError:
        allowed = sorted(s.value for (state, s) in TRANSITIONS if state is status)
        raise IllegalTransition(
            f"a purchase that is {status.value} cannot {step.value.replace('_', ' ')}"
            + (f"; possible now: {', '.join(allowed)}" if allowed else "; it is finished"),
            state=status.value,
            step=step.value,
        ) from None


def budget_year_of(now: datetime) -> int:
    return now.astimezone(LOCAL_TIME).year


# --- approvals -------------------------------------------------------------------------------------


def approval_step(status: PurchaseStatus, *, amount_cents: int, threshold_cents: int) -> PurchaseStep:
    """Above the threshold the first approval only counts half; a second, different budget holder completes it."""
    if status is PurchaseStatus.AWAITING_SECOND_APPROVAL:
        return PurchaseStep.APPROVE
    return PurchaseStep.APPROVE_FIRST if amount_cents > threshold_cents else PurchaseStep.APPROVE


def check_may_approve(
    actor: Actor, *, library: str, holders: set[str], requested_by: str, earlier_approvers: list[str]
) -> None:
    """A budget holder of the library, who did not ask for it, and not twice."""
    if actor.role is not Role.STAFF or actor.library != library:
        raise Forbidden(f"only budget holders of library {library} approve its purchases")
    if actor.subject not in holders:
        raise Forbidden(f"{actor.subject} is not a budget holder of library {library}")
    if actor.subject == requested_by:
        raise Forbidden("who requested a purchase does not approve it; another budget holder must")
    if actor.subject in earlier_approvers:
        raise Forbidden(
            f"{actor.subject} already approved this purchase; the second approval must come from another budget holder"
        )


def check_may_reject(actor: Actor, *, library: str, holders: set[str]) -> None:
    if actor.role is not Role.STAFF or actor.library != library or actor.subject not in holders:
        raise Forbidden(f"only budget holders of library {library} reject its purchases")


# --- budgets ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Budget:
    """A library's budget of one year: committed on approval, spent on invoice. Integer cents throughout."""

    library: str
    year: int
    amount: int = 0
    committed: int = 0
    spent: int = 0

    @property
    def available(self) -> int:
        return self.amount - self.committed - self.spent

    def check_room(self, cents: int, what: str) -> None:
        if cents > self.available:
            raise Conflict(
                f"budget {self.year} of library {self.library}: {self.amount} cents, committed {self.committed}, "
                f"spent {self.spent}; {what} of {cents} cents exceeds it by {cents - self.available}",
                budget_cents=self.amount,
                committed_cents=self.committed,
                spent_cents=self.spent,
                available_cents=self.available,
                requested_cents=cents,
                excess_cents=cents - self.available,
                year=self.year,
            )

    def commit(self, cents: int) -> Budget:
        self.check_room(cents, "this approval")
        return replace(self, committed=self.committed + cents)

    def release(self, cents: int) -> Budget:
        return replace(self, committed=self.committed - cents)

    def spend(self, *, committed_cents: int, invoice_cents: int) -> Budget:
        """The commitment moves to spent; an invoice above it must fit in what is left."""
        released = self.release(committed_cents)
        released.check_room(invoice_cents, "this invoice")
        return replace(released, spent=released.spent + invoice_cents)

    def reallocate(self, amount: int) -> Budget:
        if amount < self.committed + self.spent:
            raise Conflict(
                f"budget {self.year} of library {self.library} cannot become {amount} cents: "
                f"{self.committed} committed and {self.spent} spent already",
                committed_cents=self.committed,
                spent_cents=self.spent,
            )
        return replace(self, amount=amount)


# --- who may do what -------------------------------------------------------------------------------


def check_may_read_purchasing(actor: Actor) -> None:
    """The role first: partners take no part in a library's purchasing."""
    actor.require(Role.STAFF, Role.COORDINATOR, Role.OPERATOR)


def check_may_purchase(actor: Actor) -> None:
    actor.require(Role.STAFF, Role.OPERATOR)


def purchasing_library(actor: Actor, library: str | None) -> str:
    """The library a request is made for: staff buy for their own library only."""
    if actor.role is Role.STAFF:
        if library not in (None, actor.library):
            raise Forbidden(f"staff may only purchase for their own library, not for {library}")
        assert actor.library is not None
        return actor.library
    if library is None:
        raise InvalidInput("name the library the purchase is for")
    return library


def check_may_read_library(actor: Actor, library: str, municipality: str | None, *, what: str) -> None:
    if municipality is None or not actor.can_see_library(library, municipality):
        raise NotFound(f"{what} not found")


def check_may_act_for(actor: Actor, library: str, municipality: str | None, *, what: str) -> None:
    """Out of sight answers like missing; visible but another's (a coordinator's view) is forbidden."""
    check_may_read_library(actor, library, municipality, what=what)
    if not actor.can_act_for_library(library):
        raise Forbidden(f"only staff of library {library} may do this")


def check_may_manage_holders(actor: Actor, library: str, holders: set[str]) -> None:
    """Staff appoint the first budget holder; after that only budget holders appoint and remove them."""
    actor.require(Role.STAFF, Role.OPERATOR)
    if actor.role is Role.OPERATOR:
        return
    if actor.library != library:
        raise Forbidden(f"staff manage the budget holders of their own library only, not of {library}")
    if holders and actor.subject not in holders:
        raise Forbidden(f"only a budget holder of library {library} appoints or removes budget holders")


def check_may_set_budget(actor: Actor, library: str, holders: set[str]) -> None:
    """Budgets and the approval threshold are set by the library's budget holders (or operators)."""
    actor.require(Role.STAFF, Role.OPERATOR)
    if actor.role is Role.OPERATOR:
        return
    if actor.library != library or actor.subject not in holders:
        raise Forbidden(f"only a budget holder of library {library} sets its budgets and approval threshold")


def check_keeps_a_holder(holders: set[str], removing: str) -> None:
    if holders == {removing}:
        raise Conflict("a library keeps at least one budget holder; appoint another one first")
