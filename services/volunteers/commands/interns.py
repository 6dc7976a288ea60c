"""Interns: registered with their school's internship, ended by themselves once the period is over."""

from __future__ import annotations

from datetime import datetime

from services.volunteers.commands.recruitment import change_status, library_municipality, supplier, view_of
from services.volunteers.domain import internship, pipeline, scope
from services.volunteers.store import personal_data
from services.volunteers.store import recruitment as recruitment_store
from services.volunteers.store.personal_data import PersonVault
from shared.clock import local_date
from shared.contracts.partners.api.partnerships import PartnershipRole
from shared.contracts.volunteers.api.volunteers import RegisterIntern, VolunteerStatus, VolunteerStep, VolunteerView
from shared.contracts.volunteers.events import ApplicationChannel, InternEnded, InternRegistered, VolunteerKind
from shared.ids import new_id
from shared.tenancy import SYSTEM, Actor
from shared.unit_of_work import UnitOfWork

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
