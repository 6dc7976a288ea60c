"""Purchasing: the lifecycle of a purchase, approvals with a second approver above a threshold, budgets. Pure."""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import date, datetime

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
    INVOICE = "invoice"  # an invoice within the approved amount
    HOLD_INVOICE = "hold_invoice"  # an invoice above it: the difference awaits approval
    APPROVE_EXCESS_FIRST = "approve_excess_first"  # the first of two approvals of the difference
    APPROVE_EXCESS = "approve_excess"  # the approval of the difference that completes it
    REFUSE_INVOICE = "refuse_invoice"  # the difference is not approved: the invoice goes back
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
    (P.DELIVERED, PurchaseStep.HOLD_INVOICE): P.INVOICE_AWAITING_APPROVAL,
    (P.INVOICE_AWAITING_APPROVAL, PurchaseStep.APPROVE_EXCESS_FIRST): P.INVOICE_AWAITING_APPROVAL,
    (P.INVOICE_AWAITING_APPROVAL, PurchaseStep.APPROVE_EXCESS): P.INVOICED,
    (P.INVOICE_AWAITING_APPROVAL, PurchaseStep.REFUSE_INVOICE): P.DELIVERED,
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
    check_approver(actor, library=library, holders=holders, earlier_approvers=earlier_approvers, what="purchase")
    if actor.subject == requested_by:
        raise Forbidden("who requested a purchase does not approve it; another budget holder must")


def check_approver(actor: Actor, *, library: str, holders: set[str], earlier_approvers: list[str], what: str) -> None:
    if actor.role is not Role.STAFF or actor.library != library:
        raise Forbidden(f"only budget holders of library {library} approve its purchases")
    if actor.subject not in holders:
        raise Forbidden(f"{actor.subject} is not a budget holder of library {library}")
    if actor.subject in earlier_approvers:
        raise Forbidden(
            f"{actor.subject} already approved this {what}; the second approval must come from another budget holder"
        )


def check_may_reject(actor: Actor, *, library: str, holders: set[str]) -> None:
    if actor.role is not Role.STAFF or actor.library != library or actor.subject not in holders:
        raise Forbidden(f"only budget holders of library {library} reject its purchases")


def check_quote_still_valid(quote_id: object, valid_until: date | None, today: date) -> None:
    """A quote binds the provider until its last day (a Dutch calendar day); after that it cannot be approved."""
    if valid_until is not None and valid_until < today:
        raise Conflict(
            f"quote {quote_id} was valid until {valid_until}; ask the provider for a new quote",
            quote_id=str(quote_id),
            valid_until=valid_until.isoformat(),
        )


def check_new_quote(valid_until: date | None, today: date) -> None:
    if valid_until is not None and valid_until < today:
        raise InvalidInput(f"the quote was valid until {valid_until}; an expired quote cannot be added")


# --- delivery and invoice ----------------------------------------------------------------------------


def check_delivery_date(delivered_on: date, ordered_on: date, today: date) -> None:
    """Delivered after it was ordered, and not on a day still to come (Dutch calendar days)."""
    if delivered_on > today:
        raise InvalidInput("a delivery is recorded once it has happened, not for a day still to come")
    if delivered_on < ordered_on:
        raise InvalidInput(f"a delivery on {delivered_on} is before the order of {ordered_on}")


def invoice_step(invoice_cents: int, approved_cents: int) -> PurchaseStep:
    """Up to the approved amount an invoice is booked at once; above it the difference needs approval first."""
    return PurchaseStep.INVOICE if invoice_cents <= approved_cents else PurchaseStep.HOLD_INVOICE


def excess_approvers_needed(invoice_cents: int, threshold_cents: int) -> int:
    """The difference is approved under the threshold the purchase was approved under, applied to what the
    purchase now costs: an invoice above the threshold needs two budget holders for its difference, so a
    purchase approved by one holder just below the threshold cannot grow past it on one signature."""
    return 2 if invoice_cents > threshold_cents else 1


def excess_step(approvals_so_far: int, needed: int) -> PurchaseStep:
    return PurchaseStep.APPROVE_EXCESS if approvals_so_far + 1 >= needed else PurchaseStep.APPROVE_EXCESS_FIRST


def check_may_approve_excess(
    actor: Actor, *, library: str, holders: set[str], requested_by: str, recorded_by: str, earlier_approvers: list[str]
) -> None:
    """A budget holder who neither asked for the purchase nor recorded the invoice, and not twice."""
    check_approver(actor, library=library, holders=holders, earlier_approvers=earlier_approvers, what="invoice")
    if actor.subject == requested_by:
        raise Forbidden("who requested a purchase does not approve its invoice; another budget holder must")
    if actor.subject == recorded_by:
        raise Forbidden("who recorded an invoice does not approve it; another budget holder must")


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
    """The role first: partners see only the purchases they were invited to, through their own view."""
    actor.require(Role.STAFF, Role.COORDINATOR, Role.OPERATOR)


def check_acts_as_partner(actor: Actor, partner_id: object) -> None:
    """A partner quotes and reads its purchases for itself; another partner's answer like missing."""
    actor.require(Role.PARTNER)
    if actor.partner != str(partner_id):
        raise NotFound(f"partner {partner_id} not found")


def check_partner_may_quote(partner_id: object, partner_status: str) -> None:
    """A suspended or ended partner takes part in no new purchases."""
    if partner_status != "active":
        raise Conflict(
            f"partner {partner_id} is {partner_status}: it cannot be invited or quote",
            partner_id=str(partner_id),
            partner_status=partner_status,
        )


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


def check_may_manage_holders(actor: Actor, library: str, municipality: str, holders: set[str]) -> None:
    """The municipality's coordinator appoints a library's budget holders (the first one too), and so does a
    budget holder of the library; no staff member makes themselves one. Operators may, for set-up."""
    actor.require(Role.STAFF, Role.COORDINATOR, Role.OPERATOR)
    if actor.role is Role.OPERATOR:
        return
    if actor.role is Role.COORDINATOR:
        if actor.municipality != municipality:
            raise NotFound(f"library {library} not found")
        return
    if actor.library != library:
        raise Forbidden(f"staff manage the budget holders of their own library only, not of {library}")
    if actor.subject not in holders:
        raise Forbidden(
            f"only a budget holder of library {library} or the municipality's coordinator appoints or removes "
            "budget holders"
        )


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
