"""Partnerships between a library and a partner: drafted and kept by the library's own staff, activated, suspended
and resumed, ended (by hand, or by the clock when the end date has passed); reviews that fall due remind the library.
Every change leaves a history entry."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from services.partners import store
from services.partners.domain import access, lifecycle
from services.partners.queries.views import partnership_view
from services.partners.store import partnership
from shared.clock import local_date
from shared.contracts.partners.api.organisations import PartnerStatus
from shared.contracts.partners.api.partnerships import (
    ChangePartnershipStatus,
    CreatePartnership,
    PartnershipStatus,
    PartnershipView,
    UpdatePartnership,
)
from shared.contracts.partners.events import (
    PartnershipActivated,
    PartnershipChanged,
    PartnershipEnded,
    PartnershipReviewRequested,
    PartnershipSuspended,
)
from shared.errors import Conflict, InvalidInput, NotFound
from shared.ids import new_id
from shared.tenancy import Actor
from shared.unit_of_work import Transaction, UnitOfWork
from shared.versions import is_stale, version_conflict

# The terms other services act on: a change of one while the partnership runs is announced.
TERMS = frozenset({"roles", "library_contributions", "partner_contributions"})


async def create_partnership(work: UnitOfWork, actor: Actor, command: CreatePartnership) -> PartnershipView:
    access.check_may_manage_partnership(actor, command.library)
    lifecycle.check_partnership_dates(command.starts_on, command.ends_on, command.review_on)
    partnership_id = new_id()
    try:
        async with work.transaction() as tx:
            library = await store.find_library(tx.session, command.library)
            if library is None:
                raise InvalidInput(f"library {command.library} does not exist")
            partner = await store.find_partner(tx.session, command.partner_id)
            if partner is None or partner.municipality != library.municipality:
                raise InvalidInput(f"partner {command.partner_id} is not a partner in {library.municipality}")
            if partner.status == PartnerStatus.ENDED:
                raise Conflict(f"partner {command.partner_id} has ended: it cannot start a partnership")
            now = tx.clock.now()
            await partnership.add_partnership(
                tx.session,
                id=partnership_id,
                library=library.slug,
                municipality=library.municipality,
                partner_id=partner.id,
                roles=[r.value for r in lifecycle.distinct(command.roles)],
                library_contributions=[c.value for c in lifecycle.distinct(command.library_contributions)],
                partner_contributions=[c.value for c in lifecycle.distinct(command.partner_contributions)],
                starts_on=command.starts_on,
                ends_on=command.ends_on,
                review_on=command.review_on,
                status=PartnershipStatus.DRAFT.value,
                note=command.note,
                version=1,
                created_at=now,
                updated_at=now,
            )
            await store.add_history(
                tx.session,
                partner_id=partner.id,
                partnership_id=partnership_id,
                at=now,
                actor=actor.subject,
                action="create",
                version=1,
                reason=command.note,
            )
            row = await store.find_partnership(tx.session, partnership_id)
    except IntegrityError as exc:
        raise Conflict(
            f"library {command.library} already has a partnership with partner {command.partner_id} that has not ended"
        ) from exc
    assert row is not None
    return partnership_view(row)


async def _load_for_change(tx: Transaction, actor: Actor, partnership_id: UUID) -> sa.Row:
    row = await store.find_partnership(tx.session, partnership_id, for_update=True)
    if row is None or not access.may_see_partnership(
        actor, library=row.library, municipality=row.municipality, partner_id=row.partner_id
    ):
        raise NotFound(f"partnership {partnership_id} not found")
    access.check_may_manage_partnership(actor, row.library)
    return row


async def update_partnership(work: UnitOfWork, actor: Actor, command: UpdatePartnership) -> PartnershipView:
    access.check_role_may_manage_partnerships(actor)
    changes = command.changes
    async with work.transaction() as tx:
        row = await _load_for_change(tx, actor, command.partnership_id)
        if is_stale(changes.expected_version, row.version):
            raise version_conflict(f"partnership {row.id}", changes.expected_version, partnership_view(row))
        lifecycle.check_partnership_may_change(PartnershipStatus(row.status))
        # A merge patch: what is left out stays; None clears (an empty list for the contributions).
        values: dict[str, Any] = {}
        for field, value in changes.touched().items():
            if field in ("roles", "library_contributions", "partner_contributions"):
                values[field] = [item.value for item in lifecycle.distinct(value or [])]
            else:
                values[field] = value
        lifecycle.check_partnership_dates(
            values.get("starts_on", row.starts_on),
            values.get("ends_on", row.ends_on),
            values.get("review_on", row.review_on),
        )
        now = tx.clock.now()
        await partnership.update_partnership(tx.session, row.id, **values, version=row.version + 1, updated_at=now)
        if PartnershipStatus(row.status) in lifecycle.RUNNING and TERMS & values.keys():
            # Other services act on the terms of a running partnership (a partner trains the library's volunteers
            # only where its side brings `training`): they follow the change.
            terms = {name: values.get(name, row._mapping[name]) for name in TERMS}
            await tx.stage(
                PartnershipChanged(
                    partnership_id=row.id,
                    partner_id=row.partner_id,
                    library=row.library,
                    municipality=row.municipality,
                    roles=list(terms["roles"]),
                    library_contributions=list(terms["library_contributions"] or []),
                    partner_contributions=list(terms["partner_contributions"] or []),
                    partnership_version=row.version + 1,
                ),
                municipality=row.municipality,
                library=row.library,
            )
        await store.add_history(
            tx.session,
            partner_id=row.partner_id,
            partnership_id=row.id,
            at=now,
            actor=actor.subject,
            action="update",
            version=row.version + 1,
            changes=store.changed(row, values),
        )
        updated = await store.find_partnership(tx.session, row.id)
    assert updated is not None
    return partnership_view(updated)


async def change_partnership_status(
    work: UnitOfWork, actor: Actor, command: ChangePartnershipStatus
) -> PartnershipView:
    access.check_role_may_manage_partnerships(actor)
    async with work.transaction() as tx:
        row = await _load_for_change(tx, actor, command.partnership_id)
        if is_stale(command.change.expected_version, row.version):
            raise version_conflict(f"partnership {row.id}", command.change.expected_version, partnership_view(row))
        before = PartnershipStatus(row.status)
        status = lifecycle.apply_partnership_step(before, command.step)
        if status is PartnershipStatus.ACTIVE:  # activated, or resumed
            partner = await store.find_partner(tx.session, row.partner_id)
            assert partner is not None
            lifecycle.check_partner_may_start_partnership(PartnerStatus(partner.status))
            lifecycle.check_not_past_end(row.ends_on, local_date(tx.clock.now()), command.step)
        await _set_status(tx, row, status, reason=command.change.reason, was=before, actor=actor.subject)
        updated = await store.find_partnership(tx.session, row.id)
    assert updated is not None
    return partnership_view(updated)


async def _set_status(
    tx: Transaction, row: sa.Row, status: PartnershipStatus, *, reason: str | None, was: PartnershipStatus, actor: str
) -> None:
    now = tx.clock.now()
    values: dict[str, Any] = {"status": status.value, "version": row.version + 1, "updated_at": now}
    where = {"municipality": row.municipality, "library": row.library}
    parties = {"partnership_id": row.id, "partner_id": row.partner_id, **where}
    if status is PartnershipStatus.ACTIVE:
        if row.activated_at is None:  # resuming keeps when it first came into force
            values["activated_at"] = now
        activated = PartnershipActivated(
            **parties,
            roles=list(row.roles),
            library_contributions=list(row.library_contributions or []),
            partner_contributions=list(row.partner_contributions or []),
            partnership_version=row.version + 1,
        )
        await tx.stage(activated, **where)
    elif status is PartnershipStatus.SUSPENDED:
        await tx.stage(PartnershipSuspended(**parties), **where)
    elif status is PartnershipStatus.ENDED:
        values.update(ended_at=now, end_reason=reason)
        if was in lifecycle.RUNNING:  # a draft that never started concerns nobody else
            await tx.stage(PartnershipEnded(**parties), **where)
    await partnership.update_partnership(tx.session, row.id, **values)
    action = {
        PartnershipStatus.ACTIVE: "activate" if was is PartnershipStatus.DRAFT else "resume",
        PartnershipStatus.SUSPENDED: "suspend",
    }.get(status, "end")
    await store.add_history(
        tx.session,
        partner_id=row.partner_id,
        partnership_id=row.id,
        at=now,
        actor=actor,
        action=action,
        version=row.version + 1,
        changes={"status": {"from": was.value, "to": status.value}},
        reason=reason,
    )


# The history's actor for what the clock does.
CLOCK = "partners:clock"


async def end_lapsed_partnerships(work: UnitOfWork, today: date | None = None) -> int:
    """Running partnerships whose end date has passed end by themselves (a periodic job; tests pass `today`)."""
    async with work.transaction() as tx:
        today = today or local_date(tx.clock.now())
        rows = await partnership.running_past_end(tx.session, [s.value for s in lifecycle.RUNNING], today)
        lapsed = [r for r in rows if lifecycle.ended_by_date(PartnershipStatus(r.status), r.ends_on, today)]
        for row in lapsed:
            await _set_status(
                tx,
                row,
                PartnershipStatus.ENDED,
                reason="its end date passed",
                was=PartnershipStatus(row.status),
                actor=CLOCK,
            )
    return len(lapsed)


async def remind_reviews(work: UnitOfWork, today: date | None = None) -> int:
    """Running partnerships whose review date has come remind the library, once per review date: an event (the
    library's staff follow it) and `review_due` on the partnership and in the overview until a new date is set."""
    async with work.transaction() as tx:
        today = today or local_date(tx.clock.now())
        rows = await partnership.running_with_review_due(tx.session, [s.value for s in lifecycle.RUNNING], today)
        due = [
            r
            for r in rows
            if lifecycle.review_due(PartnershipStatus(r.status), r.review_on, r.review_reminded_for, today)
        ]
        for row in due:
            await partnership.update_partnership(tx.session, row.id, review_reminded_for=row.review_on)
            await tx.stage(
                PartnershipReviewRequested(
                    partnership_id=row.id,
                    partner_id=row.partner_id,
                    library=row.library,
                    municipality=row.municipality,
                    review_on=row.review_on,
                ),
                municipality=row.municipality,
                library=row.library,
            )
            await store.add_history(
                tx.session,
                partner_id=row.partner_id,
                partnership_id=row.id,
                at=tx.clock.now(),
                actor=CLOCK,
                action="review_due",
                version=row.version,
                reason=f"the review agreed for {row.review_on.isoformat()} has come",
            )
    return len(due)
