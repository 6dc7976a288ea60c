"""Partner organisations: register, keep their record current, and suspend, reactivate or end them."""

from __future__ import annotations

import secrets
from typing import Any

import msgspec

from services.partners import domain, store
from services.partners.domain import access, lifecycle
from services.partners.queries.views import partner_view
from services.partners.store import organisations, partnership
from shared.contracts.partners.api.organisations import (
    ChangePartnerStatus,
    OpenDataChoices,
    PartnerStatus,
    PartnerStep,
    PartnerView,
    RegisterPartner,
    UpdatePartner,
)
from shared.contracts.partners.events import (
    PartnerEnded,
    PartnerReactivated,
    PartnerRegistered,
    PartnershipEnded,
    PartnerSuspended,
)
from shared.errors import IllegalTransition, InvalidInput, NotFound
from shared.ids import new_id
from shared.tenancy import Actor
from shared.unit_of_work import Transaction, UnitOfWork
from shared.versions import is_stale, version_conflict


async def register_partner(work: UnitOfWork, actor: Actor, command: RegisterPartner) -> PartnerView:
    domain.check_may_register_partner(actor, command.municipality)
    partner_id = new_id()
    async with work.transaction() as tx:
        if not await store.municipality_exists(tx.session, command.municipality):
            raise InvalidInput(f"municipality {command.municipality} does not exist")
        now = tx.clock.now()
        await organisations.add_partner(
            tx.session,
            id=partner_id,
            municipality=command.municipality,
            name=command.name,
            kind=command.kind.value,
            chamber_of_commerce_number=command.chamber_of_commerce_number,
            registered_at=now,
            status=PartnerStatus.ACTIVE.value,
            addresses=msgspec.to_builtins(command.addresses),
            contacts=msgspec.to_builtins(command.contacts),
            skill_areas=[area.value for area in lifecycle.distinct(command.skill_areas)],
            email=command.email,
            phone=command.phone,
            website=command.website,
            version=1,
            updated_at=now,
            feed_key=secrets.token_bytes(32),
        )
        await tx.stage(
            PartnerRegistered(
                partner_id=partner_id, municipality=command.municipality, name=command.name, kind=command.kind
            ),
            municipality=command.municipality,
            library=None,
        )
        await store.add_history(
            tx.session, partner_id=partner_id, at=now, actor=actor.subject, action="register", version=1
        )
        row = await store.find_partner(tx.session, partner_id)
    assert row is not None
    return partner_view(row)


async def update_partner(work: UnitOfWork, actor: Actor, command: UpdatePartner) -> PartnerView:
    changes = command.changes
    async with work.transaction() as tx:
        row = await store.find_partner(tx.session, command.partner_id, for_update=True)
        if row is None:
            raise NotFound(f"partner {command.partner_id} not found")
        access.check_may_update_partner(actor, row.id, row.municipality, changes)
        if is_stale(changes.expected_version, row.version):
            raise version_conflict(f"partner {row.id}", changes.expected_version, partner_view(row))
        if row.status == PartnerStatus.ENDED:
            raise IllegalTransition("an ended partner cannot be changed", state=row.status, step="update")
        # A merge patch: what is left out stays; None clears (an empty list for the lists).
        values: dict[str, Any] = {}
        for field, value in changes.touched().items():
            if field == "kind":
                values[field] = value.value
            elif field == "skill_areas":
                values[field] = [area.value for area in lifecycle.distinct(value or [])]
            elif field in ("addresses", "contacts"):
                values[field] = msgspec.to_builtins(value or [])
            elif field == "open_data":
                values[field] = msgspec.to_builtins(value or OpenDataChoices())
            else:
                values[field] = value
        now = tx.clock.now()
        await organisations.update_partner(tx.session, row.id, **values, version=row.version + 1, updated_at=now)
        await store.add_history(
            tx.session,
            partner_id=row.id,
            at=now,
            actor=actor.subject,
            action="update",
            version=row.version + 1,
            changes=store.changed(row, values),
        )
        updated = await store.find_partner(tx.session, row.id)
    assert updated is not None
    return partner_view(updated)


async def change_partner_status(work: UnitOfWork, actor: Actor, command: ChangePartnerStatus) -> PartnerView:
    """Suspend, reactivate or end: an event every service acts on (referrals refuses a suspended referrer)."""
    access.check_role_may_change_partner_status(actor)
    async with work.transaction() as tx:
        row = await store.find_partner(tx.session, command.partner_id, for_update=True)
        if row is None:
            raise NotFound(f"partner {command.partner_id} not found")
        access.check_may_change_partner_status(actor, row.id, row.municipality)
        if is_stale(command.change.expected_version, row.version):
            raise version_conflict(f"partner {row.id}", command.change.expected_version, partner_view(row))
        status = lifecycle.apply_partner_step(PartnerStatus(row.status), command.step)
        now = tx.clock.now()
        await organisations.update_partner(
            tx.session,
            row.id,
            status=status.value,
            status_reason=command.change.reason,
            version=row.version + 1,
            updated_at=now,
        )
        if command.step is PartnerStep.SUSPEND:
            event: Any = PartnerSuspended(
                partner_id=row.id, municipality=row.municipality, reason=command.change.reason
            )
        elif command.step is PartnerStep.REACTIVATE:
            event = PartnerReactivated(partner_id=row.id, municipality=row.municipality)
        else:
            event = PartnerEnded(partner_id=row.id, municipality=row.municipality)
            await end_partnerships_of(tx, row.id, reason="the partner ended", actor=actor.subject)
        await tx.stage(event, municipality=row.municipality, library=None)
        await store.add_history(
            tx.session,
            partner_id=row.id,
            at=now,
            actor=actor.subject,
            action=command.step.value,
            version=row.version + 1,
            changes={"status": {"from": row.status, "to": status.value}},
            reason=command.change.reason,
        )
        updated = await store.find_partner(tx.session, row.id)
    assert updated is not None
    return partner_view(updated)


async def end_partnerships_of(tx: Transaction, partner_id: Any, *, reason: str, actor: str) -> None:
    """A partner that ends takes its partnerships with it; those that were active say so in an event."""
    ended = await partnership.end_all_of(tx.session, partner_id, reason=reason, at=tx.clock.now())
    for ended_one in ended:
        await store.add_history(
            tx.session,
            partner_id=partner_id,
            partnership_id=ended_one.id,
            at=tx.clock.now(),
            actor=actor,
            action="end",
            version=ended_one.version,
            reason=reason,
        )
        if ended_one.activated_at is not None:
            await tx.stage(
                PartnershipEnded(
                    partnership_id=ended_one.id,
                    partner_id=partner_id,
                    library=ended_one.library,
                    municipality=ended_one.municipality,
                ),
                municipality=ended_one.municipality,
                library=ended_one.library,
            )
