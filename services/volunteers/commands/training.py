"""Training: modules (the library's, a volunteer organisation's, or bought), sessions, attendance, qualifications."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

import sqlalchemy as sa

from services.volunteers import store
from services.volunteers.commands import bought_training
from services.volunteers.commands.recruitment import library_municipality, supplier
from services.volunteers.domain import scope, training
from services.volunteers.queries.training import module_view, session_view
from services.volunteers.store import recruitment as recruitment_store
from services.volunteers.store import training as training_store
from shared.clock import local_date
from shared.contracts import Envelope
from shared.contracts.courses.events import PurchaseDelivered
from shared.contracts.partners.api.partnerships import Contribution
from shared.contracts.partners.events import PartnerKind
from shared.contracts.volunteers.api.training import (
    AddTrainingModule,
    RecordAttendance,
    ScheduleTrainingSession,
    TrainingModuleView,
    TrainingSessionView,
    UpdateTrainingModule,
)
from shared.contracts.volunteers.api.volunteers import VolunteerStatus
from shared.contracts.volunteers.events import (
    ModuleDelivery,
    QualificationExpired,
    TrainingModuleAdded,
    TrainingSessionScheduled,
    VolunteerKind,
    VolunteerQualified,
)
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.ids import new_id
from shared.tenancy import Actor, Role
from shared.unit_of_work import Transaction, UnitOfWork
from shared.versions import is_stale, version_conflict

BATCH = 500  # qualifications marked expired per transaction


async def check_trainer(tx: Transaction, actor: Actor, library: str, municipality: str) -> UUID | None:
    """A partner trains a library's volunteers only as a volunteer organisation in good standing whose active
    partnership with the library brings `training`. Returns that partner; None for the library's own side."""
    if actor.role is not Role.PARTNER:
        return None
    partner = scope.partner_of(actor)
    if partner is None:
        raise Forbidden("the token names no partner")
    found = await supplier(tx, partner, library, None, Contribution.TRAINING)
    scope.check_supplier(
        actor,
        partner,
        found,
        library,
        municipality,
        None,
        kind=PartnerKind.VOLUNTEER_ORGANISATION,
        contribution=Contribution.TRAINING,
    )
    return partner


def _module_terms(actor: Actor, command: AddTrainingModule) -> tuple[str, UUID | None]:
    """The library a new module belongs to and who gives it: a volunteer organisation adds only its own."""
    if actor.role is not Role.PARTNER:
        return scope.library_for_new(actor, command.library), command.provider_partner_id
    partner = scope.partner_of(actor)
    if command.library is None:
        raise InvalidInput("name the library")
    if command.delivered_by is not ModuleDelivery.VOLUNTEER_ORGANISATION or command.provider_partner_id not in (
        None,
        partner,
    ):
        raise Forbidden("a volunteer organisation adds only modules it gives itself")
    return command.library, partner


async def add_training_module(work: UnitOfWork, actor: Actor, command: AddTrainingModule) -> TrainingModuleView:
    scope.check_may_train(actor)
    library, provider = _module_terms(actor, command)
    training.check_provider(command.delivered_by, provider)
    module_id = new_id()
    async with work.transaction() as tx:
        municipality = await library_municipality(tx, actor, library)
        if await check_trainer(tx, actor, library, municipality) is None and provider is not None:
            found = await supplier(tx, provider, library, None)
            scope.check_supplier(
                actor, provider, found, library, municipality, None, kind=PartnerKind.VOLUNTEER_ORGANISATION
            )
        await _add_module(
            tx,
            module_id=module_id,
            library=library,
            municipality=municipality,
            title=command.title,
            description=command.description,
            delivered_by=command.delivered_by,
            provider_partner_id=provider,
            purchase_id=None,
            qualification=command.qualification or training.qualification_code(command.title),
            validity_months=command.validity_months,
        )
        row = await store.find(tx.session, store.training_modules, module_id)
    assert row is not None
    return module_view(row)


async def add_purchased_module(tx: Transaction, envelope: Envelope, event: PurchaseDelivered) -> None:
    """A programme bought for volunteers and delivered becomes a module of the library that bought it."""
    if not event.for_volunteers:
        return
    # Delivered twice (a second event for the same purchase): one module.
    if await training_store.module_of_purchase(tx.session, event.purchase_id) is not None:
        return
    if event.qualifications:  # bought for training needs: a module per qualification it renews
        for module in await bought_training.module_terms(tx, event):
            await _add_module(tx, **module)
        return
    await _add_module(
        tx,
        module_id=new_id(),
        library=event.library,
        municipality=event.municipality,
        title=event.title,
        description="",
        delivered_by=ModuleDelivery.PURCHASE,
        provider_partner_id=event.provider_partner_id,
        purchase_id=event.purchase_id,
        qualification=training.qualification_code(event.title),
        validity_months=None,
    )


async def _add_module(
    tx: Transaction,
    *,
    module_id: UUID,
    library: str,
    municipality: str,
    title: str,
    description: str,
    delivered_by: ModuleDelivery,
    provider_partner_id: UUID | None,
    purchase_id: UUID | None,
    qualification: str,
    validity_months: int | None,
) -> None:
    now = tx.clock.now()
    await training_store.add_module(
        tx.session,
        id=module_id,
        library=library,
        municipality=municipality,
        title=title,
        description=description,
        delivered_by=delivered_by.value,
        provider_partner_id=provider_partner_id,
        purchase_id=purchase_id,
        qualification=qualification,
        validity_months=validity_months,
        version=1,
        created_at=now,
        updated_at=now,
    )
    await tx.stage(
        TrainingModuleAdded(
            module_id=module_id,
            library=library,
            municipality=municipality,
            title=title,
            delivered_by=delivered_by,
            provider_partner_id=provider_partner_id,
            purchase_id=purchase_id,
            qualification=qualification,
        ),
        municipality=municipality,
        library=library,
    )


MODULE_CHANGES = ("title", "description", "qualification", "validity_months")


async def update_training_module(work: UnitOfWork, actor: Actor, command: UpdateTrainingModule) -> TrainingModuleView:
    """Name the qualification a (bought) module gives, or how long it holds; later grants follow it."""
    scope.check_may_manage(actor)
    async with work.transaction() as tx:
        row = await store.find(tx.session, store.training_modules, command.module_id, for_update=True)
        if row is None:
            raise NotFound(f"training module {command.module_id} not found")
        scope.check_may_act(actor, row.library, row.municipality, f"training module {command.module_id}")
        if is_stale(command.expected_version, row.version):
            raise version_conflict(f"training module {row.id}", command.expected_version, module_view(row))
        # A merge patch: what is left out stays; None clears the qualification or the validity.
        changes = {name: value for name, value in command.touched().items() if name in MODULE_CHANGES}
        await training_store.update_module(
            tx.session, row.id, **changes, version=row.version + 1, updated_at=tx.clock.now()
        )
        updated = await store.find(tx.session, store.training_modules, row.id)
    assert updated is not None
    return module_view(updated)


async def schedule_training_session(
    work: UnitOfWork, actor: Actor, command: ScheduleTrainingSession
) -> TrainingSessionView:
    scope.check_may_train(actor)
    if command.ends_at is not None and command.ends_at < command.starts_at:
        raise InvalidInput("a session cannot end before it starts")
    session_id = new_id()
    async with work.transaction() as tx:
        module = await store.find(tx.session, store.training_modules, command.module_id)
        trainer = await _check_may_train_with(tx, actor, module, f"training module {command.module_id}")
        assert module is not None
        await training_store.add_session(
            tx.session,
            id=session_id,
            module_id=module.id,
            library=module.library,
            municipality=module.municipality,
            starts_at=command.starts_at,
            ends_at=command.ends_at,
            place=command.place,
            capacity=command.capacity,
            created_at=tx.clock.now(),
            scheduled_by=scope.acting(actor),
        )
        await tx.stage(
            TrainingSessionScheduled(
                session_id=session_id,
                module_id=module.id,
                library=module.library,
                municipality=module.municipality,
                starts_at=command.starts_at,
                scheduled_by_partner_id=trainer,
            ),
            municipality=module.municipality,
            library=module.library,
        )
        row = await store.find(tx.session, store.training_sessions, session_id)
        assert row is not None
        return session_view(row, [])


async def record_attendance(work: UnitOfWork, actor: Actor, command: RecordAttendance) -> TrainingSessionView:
    """Who attended; who completed the module gets its qualification (valid from the session's day). A volunteer
    organisation records it for the sessions of its own modules, for any of the library's volunteers it trains."""
    scope.check_may_train(actor)
    async with work.transaction() as tx:
        session_row = await store.find(tx.session, store.training_sessions, command.session_id, for_update=True)
        module = await store.find(tx.session, store.training_modules, session_row.module_id) if session_row else None
        trainer = await _check_may_train_with(tx, actor, module, f"training session {command.session_id}")
        assert session_row is not None and module is not None
        volunteer = await store.find(tx.session, store.volunteers, command.volunteer_id, for_update=True)
        if volunteer is None or volunteer.library != session_row.library:
            raise NotFound(f"volunteer {command.volunteer_id} not found")
        now = tx.clock.now()
        training.check_attendance(
            VolunteerStatus(volunteer.status), training.Attendance(command.attended, command.completed)
        )
        if command.completed and session_row.starts_at > now:
            raise Conflict("a module is completed at a session that has taken place, not before")
        attendees = await training_store.find_attendance(tx.session, session_row.id)
        others = [a for a in attendees if a.volunteer_id != volunteer.id]
        if session_row.capacity is not None and len(others) >= session_row.capacity:
            raise Conflict(f"the session is full ({session_row.capacity} places)", capacity=session_row.capacity)
        await store.upsert(
            tx.session,
            store.attendance,
            {
                "session_id": session_row.id,
                "volunteer_id": volunteer.id,
                "attended": command.attended,
                "completed": command.completed,
                "recorded_at": now,
                "recorded_by": scope.acting(actor),
            },
            key=["session_id", "volunteer_id"],
            update=["attended", "completed", "recorded_at", "recorded_by"],
        )
        if command.completed:
            await _grant(tx, actor, volunteer, module, session_row, trainer)
        return session_view(session_row, await training_store.find_attendance(tx.session, session_row.id))


async def _check_may_train_with(tx: Transaction, actor: Actor, module: sa.Row | None, what: str) -> UUID | None:
    """The library's staff train with any module of theirs; a volunteer organisation with the modules it gives, while
    its partnership brings training. Out of sight is not found. Returns the training partner, if a partner acts."""
    if module is None or (actor.role is Role.PARTNER and module.provider_partner_id != scope.partner_of(actor)):
        raise NotFound(f"{what} not found")
    if actor.role is not Role.PARTNER:
        scope.check_may_act(actor, module.library, module.municipality, what)
    return await check_trainer(tx, actor, module.library, module.municipality)


async def _grant(
    tx: Transaction, actor: Actor, volunteer: sa.Row, module: sa.Row, session_row: sa.Row, trainer: UUID | None
) -> None:
    """The module's qualification, unless the volunteer already holds it for longer; the volunteer's history says
    who recorded it (a partner that trained them, or the library's staff)."""
    if module.qualification is None:
        return
    obtained_on = local_date(session_row.starts_at)
    valid_until = training.qualification_valid_until(obtained_on, module.validity_months)
    q = store.qualifications
    held = await training_store.lock_qualification(tx.session, volunteer.id, module.qualification)
    if held is not None and not training.lasts_longer(valid_until, held.valid_until):
        return
    await store.upsert(
        tx.session,
        q,
        {
            "volunteer_id": volunteer.id,
            "code": module.qualification,
            "library": volunteer.library,
            "municipality": volunteer.municipality,
            "module_id": module.id,
            "session_id": session_row.id,
            "obtained_on": obtained_on,
            "valid_until": valid_until,
            "expired_at": None,
        },
        key=["volunteer_id", "code"],
        update=["module_id", "session_id", "obtained_on", "valid_until", "expired_at"],
    )
    await recruitment_store.update_volunteer(
        tx.session, volunteer.id, version=volunteer.version + 1, updated_at=tx.clock.now()
    )
    await recruitment_store.add_history(
        tx.session,
        volunteer_id=volunteer.id,
        status=volunteer.status,
        step="qualified",
        at=tx.clock.now(),
        actor=scope.acting(actor),
        reason=module.qualification,
    )
    await tx.stage(
        VolunteerQualified(
            volunteer_id=volunteer.id,
            library=volunteer.library,
            municipality=volunteer.municipality,
            kind=VolunteerKind(volunteer.kind),
            via_partner_id=volunteer.via_partner_id,
            qualification=module.qualification,
            module_id=module.id,
            session_id=session_row.id,
            obtained_on=obtained_on,
            valid_until=valid_until,
            granted_by_partner_id=trainer,
        ),
        municipality=volunteer.municipality,
        library=volunteer.library,
    )


async def expire_qualifications(work: UnitOfWork, now: datetime) -> int:
    """Announce each qualification whose last valid day has passed, once (it blocks assignments either way)."""
    today = local_date(now)
    async with work.transaction() as tx:
        rows = await training_store.qualifications_past_validity(tx.session, today, BATCH)
        for row in rows:
            await training_store.mark_expired(tx.session, row.volunteer_id, row.code, now)
            await tx.stage(
                QualificationExpired(
                    volunteer_id=row.volunteer_id,
                    library=row.library,
                    municipality=row.municipality,
                    kind=VolunteerKind(row.kind),
                    via_partner_id=row.via_partner_id,
                    qualification=row.code,
                    expired_on=row.valid_until + timedelta(days=1),
                ),
                municipality=row.municipality,
                library=row.library,
            )
    return len(rows)
