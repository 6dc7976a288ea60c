"""Training needs into a purchase: which needs a draft answers, what it says and costs, whether a new revision
of a need counts, and the budget check with its numbers. Pure: callers pass the day and the budget."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from services.courses.domain.purchasing import Budget
from shared.contracts.courses.api.purchasing import BudgetCheck, PurchaseStatus

GENERATED_BY = "system:training-needs"  # requested_by of a draft: any budget holder may approve it

# The estimate a draft starts with, per volunteer to train; the quotes that follow replace it. (€150: a
# day's refresher course per person, as the libraries' past purchases for volunteers cost.)
ESTIMATED_CENTS_PER_VOLUNTEER = 15_000

P = PurchaseStatus
# Where a need goes when a new revision arrives, by the status of the purchase it is linked to:
DRAFT = frozenset({P.REQUESTED})  # still a draft: the draft follows the need
IN_PROGRESS = frozenset({P.QUOTED, P.AWAITING_SECOND_APPROVAL, P.APPROVED, P.ORDERED})  # bought: the need waits
# Rejected, cancelled, or delivered (and the need is still there): it goes into a new draft.


@dataclass(frozen=True)
class Need:
    qualification: str
    volunteers: int
    needed_by: date


@dataclass(frozen=True)
class Draft:
    title: str
    purpose: str
    estimated_cost_cents: int
    budget_year: int


def is_newer(revision: int, known: int | None) -> bool:
    """Events of one need may arrive out of order (separate consumers, redeliveries): the newest wins."""
    return known is None or revision > known


def needs_new_draft(linked_status: PurchaseStatus | None) -> bool:
    return linked_status is None or linked_status not in DRAFT | IN_PROGRESS


def draft_for(needs: Sequence[Need], this_year: int) -> Draft:
    """A library's open needs as one purchase request: one training per qualification, for its volunteers."""
    ordered = sorted(needs, key=lambda n: (n.needed_by, n.qualification))
    codes = ", ".join(sorted({n.qualification for n in needs}))
    title = f"Training voor vrijwilligers: {codes}"
    if len(title) > 200:
        title = title[:197] + "..."
    lines = [
        f"{n.qualification}: {n.volunteers} vrijwilliger{'s' if n.volunteers != 1 else ''}, nodig op {n.needed_by}"
        for n in ordered
    ]
    purpose = ("Opgesteld uit de trainingsbehoeften van de bibliotheek. " + "; ".join(lines) + ".")[:2000]
    return Draft(
        title=title,
        purpose=purpose,
        estimated_cost_cents=sum(n.volunteers for n in needs) * ESTIMATED_CENTS_PER_VOLUNTEER,
        # Paid from the budget of the year it is needed in: the earliest need, not before this year.
        budget_year=max(this_year, ordered[0].needed_by.year),
    )


def budget_check(budget: Budget, requested_cents: int) -> BudgetCheck:
    """What `Budget.check_room` decides, as numbers for the approver instead of a refusal: a draft is made
    either way, so that staff see the need and what it would take."""
    return BudgetCheck(
        year=budget.year,
        budget_cents=budget.amount,
        committed_cents=budget.committed,
        spent_cents=budget.spent,
        available_cents=budget.available,
        requested_cents=requested_cents,
        fits=requested_cents <= budget.available,
        short_cents=max(0, requested_cents - budget.available),
    )
