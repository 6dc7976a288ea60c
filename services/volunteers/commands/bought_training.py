"""Training bought for training needs: the modules a delivered purchase becomes, so that completing one renews
the qualification the need was for, with the validity the library's qualification has."""

from __future__ import annotations

from typing import Any

from services.volunteers.domain import training_needs as rules
from services.volunteers.store import training_needs as needs
from services.volunteers.store.training_needs import NeedKey
from shared.contracts.courses.events import PurchaseDelivered
from shared.contracts.volunteers.events import ModuleDelivery
from shared.ids import new_id
from shared.unit_of_work import Transaction


async def module_terms(tx: Transaction, event: PurchaseDelivered) -> list[dict[str, Any]]:
    """One module per qualification the purchase renews. The first carries the purchase (one module per purchase
    is the rule of `training_modules`); the others name the qualification in their title."""
    modules = []
    for position, code in enumerate(event.qualifications):
        key = NeedKey(event.library, event.municipality, code)
        modules.append(
            {
                "module_id": new_id(),
                "library": event.library,
                "municipality": event.municipality,
                "title": event.title if len(event.qualifications) == 1 else f"{event.title}: {code}",
                "description": event.purpose or "",
                "delivered_by": ModuleDelivery.PURCHASE,
                "provider_partner_id": event.provider_partner_id,
                "purchase_id": event.purchase_id if position == 0 else None,
                "qualification": code,
                "validity_months": rules.validity_months(*await needs.validity_evidence(tx.session, key)),
            }
        )
    return modules
