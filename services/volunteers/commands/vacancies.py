"""Vacancies: a library's staff draft one, change what it asks, publish it (volunteer organisations that partner
with the library see it) and close it."""

from __future__ import annotations

from uuid import UUID

import sqlalchemy as sa

from services.volunteers import store
from services.volunteers.commands.recruitment import library_municipality
from services.volunteers.domain import pipeline, scope
from services.volunteers.queries.recruitment import vacancy_view
from services.volunteers.store import recruitment as recruitment_store
from shared.contracts import EventData
from shared.contracts.volunteers.api.vacancies import (
    CreateVacancy,
    TakeVacancyStep,
    UpdateVacancy,
    VacancyStatus,
    VacancyStep,
    VacancyView,
)
from shared.contracts.volunteers.events import (
    VacancyClosed,
    VacancyPublished,
)
from shared.errors import NotFound
from shared.ids import new_id
from shared.tenancy import Actor
from shared.unit_of_work import Transaction, UnitOfWork
from shared.versions import is_stale, version_conflict


async def create_vacancy(work: UnitOfWork, actor: Actor, command: CreateVacancy) -> VacancyView:
    scope.check_may_manage(actor)
    library = scope.library_for_new(actor, command.library)
    vacancy_id = new_id()
    async with work.transaction() as tx:
        municipality = await library_municipality(tx, actor, library)
        now = tx.clock.now()
        await recruitment_store.add_vacancy(
            tx.session,
            id=vacancy_id,
            library=library,
            municipality=municipality,
            title=command.title,
            description=command.description,
            hours_per_week=command.hours_per_week,
            qualifications_needed=sorted(set(command.qualifications_needed)),
            certificate_of_conduct_required=command.certificate_of_conduct_required,
            status=VacancyStatus.DRAFT.value,
            version=1,
            created_at=now,
            updated_at=now,
        )
        row = await store.find(tx.session, store.vacancies, vacancy_id)
    assert row is not None
    return vacancy_view(row)


async def _vacancy_for_change(tx: Transaction, actor: Actor, vacancy_id: UUID, expected: int | None) -> sa.Row:
    row = await store.find(tx.session, store.vacancies, vacancy_id, for_update=True)
    if row is None:
        raise NotFound(f"vacancy {vacancy_id} not found")
    scope.check_may_act(actor, row.library, row.municipality, f"vacancy {vacancy_id}")
    if is_stale(expected, row.version):
        raise version_conflict(f"vacancy {vacancy_id}", expected, vacancy_view(row))
    return row


VACANCY_CHANGES = ("title", "description", "hours_per_week", "qualifications_needed", "certificate_of_conduct_required")


async def update_vacancy(work: UnitOfWork, actor: Actor, command: UpdateVacancy) -> VacancyView:
    scope.check_may_manage(actor)
    async with work.transaction() as tx:
        row = await _vacancy_for_change(tx, actor, command.vacancy_id, command.expected_version)
        # A merge patch: what is left out stays; None clears the hours per week.
        changes: dict[str, object] = {
            name: value for name, value in command.touched().items() if name in VACANCY_CHANGES
        }
        if "qualifications_needed" in changes:
            changes["qualifications_needed"] = sorted(set(command.qualifications_needed or []))
        await recruitment_store.update_vacancy(
            tx.session, row.id, **changes, version=row.version + 1, updated_at=tx.clock.now()
        )
        updated = await store.find(tx.session, store.vacancies, row.id)
    assert updated is not None
    return vacancy_view(updated)


async def take_vacancy_step(work: UnitOfWork, actor: Actor, command: TakeVacancyStep) -> VacancyView:
    """Publish (the event puts it in the feeds of partnering volunteer organisations) or close."""
    scope.check_may_manage(actor)
    async with work.transaction() as tx:
        row = await _vacancy_for_change(tx, actor, command.vacancy_id, command.expected_version)
        status = pipeline.apply_vacancy_step(VacancyStatus(row.status), command.step)
        now = tx.clock.now()
        stamp = {"published_at": now} if command.step is VacancyStep.PUBLISH else {"closed_at": now}
        await recruitment_store.update_vacancy(
            tx.session, row.id, status=status.value, version=row.version + 1, updated_at=now, **stamp
        )
        event: EventData
        if command.step is VacancyStep.PUBLISH:
            event = VacancyPublished(
                vacancy_id=row.id,
                library=row.library,
                municipality=row.municipality,
                title=row.title,
                hours_per_week=row.hours_per_week,
                qualifications_needed=list(row.qualifications_needed),
                description=row.description or None,
                certificate_of_conduct_required=row.certificate_of_conduct_required,
            )
        else:
            event = VacancyClosed(vacancy_id=row.id, library=row.library, municipality=row.municipality)
        await tx.stage(event, municipality=row.municipality, library=row.library)
        updated = await store.find(tx.session, store.vacancies, row.id)
    assert updated is not None
    return vacancy_view(updated)
