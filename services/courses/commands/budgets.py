"""Use cases of a library's purchasing setup: its budgets per year, its budget holders, its approval threshold."""

from __future__ import annotations

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from services.courses import store
from services.courses.domain import purchasing as domain
from services.courses.queries import budgets as budget_queries
from services.courses.store import purchasing as purchasing_store
from shared.contracts.courses.api.budgets import (
    AppointBudgetHolder,
    BudgetHolderView,
    BudgetView,
    PurchasingPolicyView,
    RemoveBudgetHolder,
    Removed,
    SetBudget,
    SetPurchasingPolicy,
)
from shared.contracts.courses.events import BudgetAllocated, BudgetHolderAppointed, BudgetHolderRemoved
from shared.errors import Conflict, NotFound
from shared.tenancy import Actor, Role
from shared.unit_of_work import Transaction, UnitOfWork
from shared.versions import is_stale, version_conflict


async def library_in_reach(session: AsyncSession, actor: Actor, library: str) -> str:
    municipality = await store.known.library_municipality(session, library)
    domain.check_may_read_library(actor, library, municipality, what=f"library {library}")
    assert municipality is not None
    return municipality


async def set_budget(work: UnitOfWork, actor: Actor, command: SetBudget) -> BudgetView:
    actor.require(Role.STAFF, Role.OPERATOR)
    wanted = command.budget
    async with work.transaction() as tx:
        municipality = await library_in_reach(tx.session, actor, command.library)
        domain.check_may_set_budget(
            actor, command.library, await purchasing_store.holders_of(tx.session, command.library)
        )
        budget = await budget_queries.load_budget(tx.session, command.library, command.year, for_update=True)
        current = await budget_queries.load_budget_view(tx.session, command.library, municipality, command.year)
        if is_stale(wanted.expected_version, current.version):
            raise version_conflict(
                f"budget {command.year} of library {command.library}", wanted.expected_version, current
            )
        budget = budget.reallocate(wanted.amount_cents)
        await purchasing_store.save_budget_amount(
            tx.session,
            command.library,
            command.year,
            municipality=municipality,
            amount=budget.amount,
            version=current.version + 1,
            at=tx.clock.now(),
        )
        await tx.stage(
            BudgetAllocated(
                library=command.library, municipality=municipality, year=command.year, amount_cents=budget.amount
            ),
            municipality=municipality,
            library=command.library,
        )
        return await budget_queries.load_budget_view(tx.session, command.library, municipality, command.year)


async def appoint_budget_holder(work: UnitOfWork, actor: Actor, command: AppointBudgetHolder) -> BudgetHolderView:
    """The municipality's coordinator or a budget holder appoints; the appointment is kept and published."""
    actor.require(Role.STAFF, Role.COORDINATOR, Role.OPERATOR)
    async with work.transaction() as tx:
        municipality = await library_in_reach(tx.session, actor, command.library)
        holders = await purchasing_store.holders_of(tx.session, command.library, for_update=True)
        domain.check_may_manage_holders(actor, command.library, municipality, holders)
        now = tx.clock.now()
        added = await purchasing_store.add_holder(
            tx.session,
            command.library,
            command.holder.subject,
            municipality=municipality,
            appointed_by=actor.subject,
            appointed_at=now,
        )
        if not added:
            raise Conflict(f"{command.holder.subject} is a budget holder of library {command.library} already")
        await record_holder_change(tx, actor, command.library, municipality, command.holder.subject, "appointed")
        await tx.stage(
            BudgetHolderAppointed(
                library=command.library,
                municipality=municipality,
                subject=command.holder.subject,
                appointed_by=actor.subject,
                appointed_by_role=actor.role.value,
            ),
            municipality=municipality,
            library=command.library,
        )
    return BudgetHolderView(
        library=command.library, subject=command.holder.subject, appointed_by=actor.subject, appointed_at=now
    )


async def remove_budget_holder(work: UnitOfWork, actor: Actor, command: RemoveBudgetHolder) -> Removed:
    actor.require(Role.STAFF, Role.COORDINATOR, Role.OPERATOR)
    async with work.transaction() as tx:
        municipality = await library_in_reach(tx.session, actor, command.library)
        holders = await purchasing_store.holders_of(tx.session, command.library, for_update=True)
        domain.check_may_manage_holders(actor, command.library, municipality, holders)
        if command.subject not in holders:
            raise NotFound(f"{command.subject} is not a budget holder of library {command.library}")
        domain.check_keeps_a_holder(holders, command.subject)
        await purchasing_store.remove_holder(tx.session, command.library, command.subject)
        await record_holder_change(tx, actor, command.library, municipality, command.subject, "removed")
        await tx.stage(
            BudgetHolderRemoved(
                library=command.library,
                municipality=municipality,
                subject=command.subject,
                removed_by=actor.subject,
                removed_by_role=actor.role.value,
            ),
            municipality=municipality,
            library=command.library,
        )
    return Removed(library=command.library, subject=command.subject)


async def record_holder_change(
    tx: Transaction, actor: Actor, library: str, municipality: str, subject: str, change: str
) -> None:
    await purchasing_store.add_holder_change(
        tx.session,
        library=library,
        municipality=municipality,
        subject=subject,
        change=change,
        actor=actor.subject,
        actor_role=actor.role.value,
        at=tx.clock.now(),
    )


async def set_purchasing_policy(work: UnitOfWork, actor: Actor, command: SetPurchasingPolicy) -> PurchasingPolicyView:
    actor.require(Role.STAFF, Role.OPERATOR)
    wanted = command.threshold
    async with work.transaction() as tx:
        municipality = await library_in_reach(tx.session, actor, command.library)
        domain.check_may_set_budget(
            actor, command.library, await purchasing_store.holders_of(tx.session, command.library)
        )
        locked = await purchasing_store.lock_policy(tx.session, command.library)
        current = await budget_queries.load_policy(tx.session, command.library)
        if is_stale(wanted.expected_version, current.version):
            raise version_conflict(
                f"the purchasing policy of library {command.library}", wanted.expected_version, current
            )
        values = {
            "second_approver_above_cents": wanted.second_approver_above_cents,
            "version": (locked.version if locked else 0) + 1,
            "updated_by": actor.subject,
            "updated_at": tx.clock.now(),
        }
        await purchasing_store.save_policy(tx.session, command.library, municipality, **values)
        return msgspec.structs.replace(current, **{k: values[k] for k in ("second_approver_above_cents", "version")})
