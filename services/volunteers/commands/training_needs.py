"""Training needs: published when volunteers' qualifications are about to run out (a periodic use case on a
clock) or when an assignment is refused for lack of one; closed when nobody needs the training any more.

One open need per library and qualification, its numbers kept up to date: `training.needed` goes out when a
need opens and again only when its numbers change (with a higher revision), `training_need.met` when it
closes. The courses service turns a library's needs into a purchase request draft; the training it buys comes
back as a module here (commands/bought_training.py), and completing it renews the qualification and closes the need.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from uuid import UUID

from opentelemetry.trace import Tracer

from services.volunteers import store
from services.volunteers.commands import assignments, training
from services.volunteers.domain import training_needs as rules
from services.volunteers.store import training as training_store
from services.volunteers.store import training_needs as needs
from services.volunteers.store.training_needs import NeedKey
from shared.clock import local_date
from shared.contracts.volunteers.api.assignments import AssignmentView, AssignVolunteer
from shared.contracts.volunteers.api.training import RecordAttendance, TrainingSessionView
from shared.contracts.volunteers.events import (
    QualificationRenewalRequested,
    TrainingNeeded,
    TrainingNeedMet,
    VolunteerKind,
)
from shared.errors import Conflict
from shared.ids import new_id
from shared.tenancy import Actor
from shared.unit_of_work import Transaction, UnitOfWork

log = logging.getLogger(__name__)


@contextmanager
def _span(tracer: Tracer | None, name: str, **attributes: Any) -> Iterator[None]:
    """A job on a clock starts a trace of its own; the events it stages carry it on (the outbox keeps it)."""
    if tracer is None:
        yield
        return
    with tracer.start_as_current_span(name, attributes=attributes):
        yield


async def plan_training_needs(
    work: UnitOfWork, now: datetime, *, library: str | None = None, tracer: Tracer | None = None
) -> int:
    """Review every library and qualification with expiring grants, refusals or an open need; returns how many
    needs were published (opened, changed or met). Safe on every replica at once: one lock per need."""
    today = local_date(now)
    with _span(tracer, "plan training needs", **({"partnernet.library": library} if library else {})):
        async with work.read() as session:
            keys = await needs.keys_to_review(session, rules.horizon(today), library)
        published = 0
        for key in keys:
            async with work.transaction() as tx:
                published += await review_need(tx, key, today)
    if published:
        log.info("training needs published: %d", published)
    return published


async def tell_suppliers_of_expiring_qualifications(work: UnitOfWork, now: datetime) -> int:
    """A volunteer organisation (or school) is told when a qualification of someone it supplied runs out within the
    horizon, once per last valid day (`qualification.renewal_requested`, into its feed): it sees to their training.
    A periodic use case on the clock; returns how many it told."""
    today = local_date(now)
    async with work.transaction() as tx:
        rows = await training_store.qualifications_to_tell_suppliers(
            tx.session, today, rules.horizon(today), [s.value for s in rules.IN_SERVICE], training.BATCH
        )
        for row in rows:
            await training_store.mark_supplier_told(tx.session, row.volunteer_id, row.code, row.valid_until)
            await tx.stage(
                QualificationRenewalRequested(
                    volunteer_id=row.volunteer_id,
                    library=row.library,
                    municipality=row.municipality,
                    kind=VolunteerKind(row.kind),
                    via_partner_id=row.via_partner_id,
                    qualification=row.code,
                    valid_until=row.valid_until,
                ),
                municipality=row.municipality,
                library=row.library,
            )
    return len(rows)


async def review_need(tx: Transaction, key: NeedKey, today: Any) -> int:
    """Bring one library's need for one qualification up to date; 1 if that published an event, else 0."""
    await needs.lock_key(tx.session, key)
    holders = await needs.holders(tx.session, key)
    refusals = await needs.refusals(tx.session, key, local_date)
    figures = rules.assess(holders, refusals, today)
    until = rules.horizon(today)
    satisfied = [r.volunteer_id for r in refusals if r.holds and (r.valid_until is None or r.valid_until > until)]
    await needs.forget_refusals(tx.session, key, satisfied)
    current = await needs.open_need(tx.session, key)
    now = tx.clock.now()
    if figures is None:
        if current is None:
            return 0
        revision = current.revision + 1
        await needs.update_need(tx.session, current.id, status=needs.MET, met_at=now, updated_at=now, revision=revision)
        await tx.stage(
            TrainingNeedMet(
                need_id=current.id,
                library=key.library,
                municipality=key.municipality,
                qualification=key.qualification,
                revision=revision,
            ),
            municipality=key.municipality,
            library=key.library,
        )
        return 1
    if current is not None and not rules.differs(
        figures, current.volunteers, current.expiring, current.refused, current.needed_by
    ):
        return 0
    validity = rules.validity_months(*await needs.validity_evidence(tx.session, key))
    numbers: dict[str, Any] = {
        "volunteers": figures.volunteers,
        "expiring": figures.expiring,
        "refused": figures.refused,
        "needed_by": figures.needed_by,
        "validity_months": validity,
    }
    if current is None:
        need_id, revision = new_id(), 1
        await needs.add_need(
            tx.session,
            id=need_id,
            library=key.library,
            municipality=key.municipality,
            qualification=key.qualification,
            revision=revision,
            opened_at=now,
            updated_at=now,
            **numbers,
        )
    else:
        need_id, revision = current.id, current.revision + 1
        await needs.update_need(tx.session, need_id, revision=revision, updated_at=now, **numbers)
    await tx.stage(
        TrainingNeeded(
            need_id=need_id,
            library=key.library,
            municipality=key.municipality,
            qualification=key.qualification,
            revision=revision,
            **numbers,
        ),
        municipality=key.municipality,
        library=key.library,
    )
    return 1


async def assign_volunteer(work: UnitOfWork, actor: Actor, command: AssignVolunteer) -> AssignmentView:
    """Assignment as before; a refusal for lack of a qualification is also a training need of the library."""
    try:
        return await assignments.assign_volunteer(work, actor, command)
    except Conflict as exc:
        missing = exc.extra.get("missing") or []
        codes = sorted({m["qualification"] for m in missing if m.get("requirement") == "qualification"})
        if codes:
            await note_refusal(work, command.volunteer_id, codes)
        raise


async def note_refusal(work: UnitOfWork, volunteer_id: UUID, codes: list[str]) -> None:
    """In a transaction of its own: the refused assignment itself was rolled back."""
    async with work.transaction() as tx:
        volunteer = await store.find(tx.session, store.volunteers, volunteer_id)
        if volunteer is None:
            return
        today = local_date(tx.clock.now())
        for code in codes:
            await needs.record_refusal(
                tx.session, volunteer.id, code, volunteer.library, volunteer.municipality, tx.clock.now()
            )
            await review_need(tx, NeedKey(volunteer.library, volunteer.municipality, code), today)


async def record_attendance(work: UnitOfWork, actor: Actor, command: RecordAttendance) -> TrainingSessionView:
    """Attendance as before; a completed module may have met an open need for its qualification."""
    view = await training.record_attendance(work, actor, command)
    if command.completed:
        async with work.transaction() as tx:
            session_row = await store.find(tx.session, store.training_sessions, command.session_id)
            module = (
                await store.find(tx.session, store.training_modules, session_row.module_id) if session_row else None
            )
            if module is not None and module.qualification is not None:
                key = NeedKey(module.library, module.municipality, module.qualification)
                # Only to meet (or shrink) a need: new needs open on the clock's review or a refusal.
                if await needs.open_need(tx.session, key) is not None:
                    await review_need(tx, key, local_date(tx.clock.now()))
    return view
