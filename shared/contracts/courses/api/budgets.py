"""Requests and views of a library's budgets per year, its budget holders and the approval threshold."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from shared.contracts.vocabulary import DEFAULT_LIMIT, Cents, Cursor, ExpectedVersion, Limit, Slug, Year


class BudgetAmount(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    amount_cents: Cents
    expected_version: ExpectedVersion | None = None


class SetBudget(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    library: Slug
    year: Year
    budget: BudgetAmount


class GetBudget(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    library: Slug
    year: Year


class ListBudgets(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """By library, newest year first."""

    library: Slug | None = None
    year: Year | None = None
    cursor: Cursor | None = None
    limit: Limit = DEFAULT_LIMIT


class BudgetView(msgspec.Struct, frozen=True, kw_only=True):
    library: str
    municipality: str
    year: int
    amount_cents: int
    committed_cents: int
    spent_cents: int
    available_cents: int
    version: int  # 0 while no budget has been set for the year


class BudgetHolder(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    subject: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]  # the staff member's token subject


class AppointBudgetHolder(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    library: Slug
    holder: BudgetHolder


class RemoveBudgetHolder(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    library: Slug
    subject: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class ListBudgetHolders(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    library: Slug
    cursor: Cursor | None = None
    limit: Limit = DEFAULT_LIMIT


class BudgetHolderView(msgspec.Struct, frozen=True, kw_only=True):
    library: str
    subject: str
    appointed_by: str
    appointed_at: datetime


class ListBudgetHolderChanges(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Who appointed and removed the library's budget holders, oldest first."""

    library: Slug
    cursor: Cursor | None = None
    limit: Limit = DEFAULT_LIMIT


class BudgetHolderChange(msgspec.Struct, frozen=True, kw_only=True):
    library: str
    subject: str
    change: str  # appointed | removed
    actor: str
    actor_role: str  # coordinator, staff (a budget holder) or operator
    at: datetime


class Threshold(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    second_approver_above_cents: Cents  # approvals of more than this need two different budget holders
    expected_version: ExpectedVersion | None = None


class SetPurchasingPolicy(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    library: Slug
    threshold: Threshold


class GetPurchasingPolicy(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    library: Slug


class PurchasingPolicyView(msgspec.Struct, frozen=True, kw_only=True):
    library: str
    second_approver_above_cents: int
    version: int  # 0 while the library uses the default


class Removed(msgspec.Struct, frozen=True, kw_only=True):
    """The answer to a removal: what is gone."""

    library: str
    subject: str
