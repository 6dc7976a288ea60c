"""Interns: registered with their school's internship, its period confirmed by the school, assessed by the library at
the end, ended by themselves once the period is over."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import sqlalchemy as sa

from services.volunteers import store
from services.volunteers.commands.recruitment import (
    change_status,
    check_supplier_acts,
    library_municipality,
    supplier,
    view_of,
    volunteer_for_change,
)
from services.volunteers.domain import internship, pipeline, scope
from services.volunteers.store import personal_data
from services.volunteers.store import recruitment as recruitment_store
from services.volunteers.store.personal_data import PersonVault
from shared.clock import local_date
from shared.contracts.partners.api.partnerships import PartnershipRole
from shared.contracts.volunteers.api.volunteers import (
    AssessIntern,
    ConfirmInternship,
    GoalResult,
    InternAssessment,
    RegisterIntern,
    VolunteerStatus,
    VolunteerStep,
    VolunteerView,
)
from shared.contracts.volunteers.events import (
    ApplicationChannel,
    InternAssessed,
    InternEnded,
    InternPeriodConfirmed,
    InternRegistered,
    VolunteerKind,
)
from shared.errors import NotFound
from shared.ids import new_id
from shared.tenancy import SYSTEM, Actor
from shared.unit_of_work import Transaction, UnitOfWork

BATCH = 200  # interns ended per transaction; the periodic job comes back for the rest


async def register_intern(work: UnitOfWork, vault: PersonVault, actor: Actor, command: RegisterIntern) -> VolunteerView:
    """Library staff register an intern their partner school supplies, or the school registers its own; the intern
    starts with an intake, like any newcomer, and is active only after screening."""
    library, school_id = scope.check_may_apply(actor, command.library, command.school_partner_id)
    assert library is not None and school_id is not None
    internship.check_period(command.starts_on, command.ends_on)
    volunteer_id = new_id()
    async with work.transaction() as tx:
        municipality = await library_municipality(tx, actor, library)
        found = await supplier(tx, school_id, library, PartnershipRole.INTERN_SUPPLIER)
        scope.check_supplier(actor, school_id, found, library, municipality, PartnershipRole.INTERN_SUPPLIER)
        now = tx.clock.now()
        await recruitment_store.add_volunteer(
            tx.session,
            id=volunteer_id,
            kind=VolunteerKind.INTERN.value,
            library=library,
            municipality=municipality,
            status=pipeline.INTERN_ARRIVES_IN.value,
            channel=ApplicationChannel.EDUCATIONAL_INSTITUTION.value,
            via_partner_id=school_id,
            vacancy_id=None,
            **personal_data.person_columns(vault, command.person, None),
            certificate_of_conduct_required=command.certificate_of_conduct_required,
            version=1,
            applied_at=now,
            updated_at=now,
        )
        await recruitment_store.add_internship(
            tx.session,
            volunteer_id=volunteer_id,
            school_partner_id=school_id,
            starts_on=command.starts_on,
            ends_on=command.ends_on,
            supervisor_sealed=vault.seal(command.supervisor),
            learning_goals=list(command.learning_goals),
            hours=command.hours,
        )
        await personal_data.save_name_digests(tx.session, vault, volunteer_id, command.person.name)
        await recruitment_store.add_history(
            tx.session, volunteer_id=volunteer_id, status=pipeline.INTERN_ARRIVES_IN.value, at=now, actor=actor.subject
        )
        await tx.stage(
            InternRegistered(
                volunteer_id=volunteer_id,
                library=library,
                municipality=municipality,
                kind=VolunteerKind.INTERN,
                via_partner_id=school_id,
                school_partner_id=school_id,
                starts_on=command.starts_on,
                ends_on=command.ends_on,
            ),
            municipality=municipality,
            library=library,
        )
        return await view_of(tx, vault, actor, volunteer_id)


async def _intern_for_change(
    tx: Transaction, vault: PersonVault, actor: Actor, volunteer_id: UUID, expected: int | None
) -> tuple[sa.Row, sa.Row]:
    """The intern and their internship, locked; someone who is not an intern is not one here (not found)."""
    row = await volunteer_for_change(tx, vault, actor, volunteer_id, expected)
    internship_row = await store.find_internship(tx.session, row.id)
    if VolunteerKind(row.kind) is not VolunteerKind.INTERN or internship_row is None:
        raise NotFound(f"intern {volunteer_id} not found")
    return row, internship_row


async def _changed(tx: Transaction, actor: Actor, row: sa.Row, step: str, reason: str | None) -> None:
    """The intern's version moves on, and their history says who did what."""
    now = tx.clock.now()
    await recruitment_store.update_volunteer(tx.session, row.id, version=row.version + 1, updated_at=now)
    await recruitment_store.add_history(
        tx.session, volunteer_id=row.id, status=row.status, step=step, at=now, actor=scope.acting(actor), reason=reason
    )


async def confirm_internship(
    work: UnitOfWork, vault: PersonVault, actor: Actor, command: ConfirmInternship
) -> VolunteerView:
    """The school confirms its intern's period as registered, once, while the internship runs and its partnership
    with the library supplies interns."""
    async with work.transaction() as tx:
        row, school = await _intern_for_change(tx, vault, actor, command.volunteer_id, command.expected_version)
        await check_supplier_acts(tx, actor, row)
        internship.check_may_confirm(VolunteerStatus(row.status), school.ended_on, school.confirmed_at)
        now = tx.clock.now()
        await recruitment_store.update_internship(
            tx.session, row.id, confirmed_at=now, confirmed_by=scope.acting(actor)
        )
        await _changed(tx, actor, row, "period_confirmed", None)
        await tx.stage(
            InternPeriodConfirmed(
                volunteer_id=row.id,
                library=row.library,
                municipality=row.municipality,
                kind=VolunteerKind.INTERN,
                via_partner_id=row.via_partner_id,
                school_partner_id=school.school_partner_id,
                starts_on=school.starts_on,
                ends_on=school.ends_on,
            ),
            municipality=row.municipality,
            library=row.library,
        )
        return await view_of(tx, vault, actor, row.id)


async def assess_intern(work: UnitOfWork, vault: PersonVault, actor: Actor, command: AssessIntern) -> VolunteerView:
    """The library's staff assess their intern at the end of the period (its last day, or ended earlier); a new
    assessment replaces the one before. The school reads it; its feed says it is there, without its words."""
    scope.check_may_manage(actor)
    async with work.transaction() as tx:
        row, school = await _intern_for_change(tx, vault, actor, command.volunteer_id, command.expected_version)
        internship.check_may_assess(school.ends_on, school.ended_on, local_date(tx.clock.now()))
        assessment = InternAssessment(summary=command.summary, goals=list(command.goals))
        await recruitment_store.update_internship(
            tx.session,
            row.id,
            assessment_sealed=vault.seal(assessment),
            assessed_at=tx.clock.now(),
            assessed_by=scope.acting(actor),
        )
        await _changed(tx, actor, row, "assessed", None)
        await tx.stage(
            InternAssessed(
                volunteer_id=row.id,
                library=row.library,
                municipality=row.municipality,
                kind=VolunteerKind.INTERN,
                via_partner_id=row.via_partner_id,
                school_partner_id=school.school_partner_id,
                goals=len(assessment.goals),
                goals_achieved=sum(1 for g in assessment.goals if g.result is GoalResult.ACHIEVED),
            ),
            municipality=row.municipality,
            library=row.library,
        )
        return await view_of(tx, vault, actor, row.id)


async def end_finished_internships(work: UnitOfWork, now: datetime) -> int:
    """End every intern whose period is over; safe when replicas run it at once (skip locked, conditional)."""
    today = local_date(now)
    async with work.transaction() as tx:
        running = [status.value for status in pipeline.INTERNSHIP_RUNNING]
        rows = await recruitment_store.interns_past_their_period(tx.session, running, today, BATCH)
        for row in rows:
            if not internship.period_is_over(row.ends_on, today):
                continue
            status = pipeline.apply_volunteer_step(VolunteerKind.INTERN, VolunteerStatus(row.status), VolunteerStep.END)
            await change_status(tx, SYSTEM, row, status, VolunteerStep.END, "the internship period ended")
            await recruitment_store.update_internship(tx.session, row.id, ended_on=row.ends_on)
            await tx.stage(
                InternEnded(
                    volunteer_id=row.id,
                    library=row.library,
                    municipality=row.municipality,
                    kind=VolunteerKind.INTERN,
                    via_partner_id=row.via_partner_id,
                    school_partner_id=row.school_partner_id,
                    ended_on=row.ends_on,
                ),
                municipality=row.municipality,
                library=row.library,
            )
    return len(rows)
