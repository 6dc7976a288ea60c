"""Vacancies, volunteers and interns as the caller may see them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.volunteers import store
from services.volunteers.domain import scope
from services.volunteers.domain.screening import Certificate, certificate_view
from services.volunteers.domain.training import holds_on
from services.volunteers.store import access_log, personal_data
from services.volunteers.store.personal_data import PersonVault
from shared.clock import local_date
from shared.contracts.partners.api.partnerships import PartnershipRole
from shared.contracts.volunteers.api.access_log import VolunteerReadPurpose
from shared.contracts.volunteers.api.vacancies import GetVacancy, ListVacancies, VacancyStatus, VacancyView
from shared.contracts.volunteers.api.volunteers import (
    AssessedGoalView,
    AssessmentView,
    GetVolunteer,
    InternshipView,
    ListVolunteers,
    QualificationView,
    VolunteerPerson,
    VolunteerStatus,
    VolunteerView,
)
from shared.contracts.volunteers.events import ApplicationChannel, VolunteerKind
from shared.errors import Forbidden, NotFound
from shared.pagination import Page, keyset_page
from shared.tenancy import Actor, Role
from shared.unit_of_work import UnitOfWork


def vacancy_view(row: sa.Row) -> VacancyView:
    return VacancyView(
        id=row.id,
        library=row.library,
        municipality=row.municipality,
        title=row.title,
        description=row.description,
        hours_per_week=row.hours_per_week,
        qualifications_needed=list(row.qualifications_needed),
        certificate_of_conduct_required=row.certificate_of_conduct_required,
        status=VacancyStatus(row.status),
        version=row.version,
        created_at=row.created_at,
        published_at=row.published_at,
        closed_at=row.closed_at,
    )


# Vacancies are for the volunteer organisations that supply the library with volunteers.
VOLUNTEER_SUPPLIER = PartnershipRole.VOLUNTEER_SUPPLIER.value


def may_see_vacancy(actor: Actor, row: sa.Row, partnered: bool) -> bool:
    """Partners see the published vacancies of the libraries they partner with; the rest by library scope."""
    if actor.role is Role.PARTNER:
        return partnered and row.status == VacancyStatus.PUBLISHED.value
    return scope.may_see(actor, row.library, row.municipality)


async def get_vacancy(work: UnitOfWork, actor: Actor, query: GetVacancy) -> VacancyView:
    async with work.read() as session:
        row = await store.find(session, store.vacancies, query.vacancy_id)
        partnered = (
            row is not None
            and (partner := scope.partner_of(actor)) is not None
            and await store.has_active_partnership(session, partner, row.library, VOLUNTEER_SUPPLIER)
        )
    if row is None or not may_see_vacancy(actor, row, partnered):
        raise NotFound(f"vacancy {query.vacancy_id} not found")
    return vacancy_view(row)


def _in_scope(statement: sa.Select, actor: Actor, table: sa.Table) -> sa.Select:
    """Narrow a list to the actor's libraries (partners are handled by each list)."""
    if actor.role is Role.STAFF:
        return statement.where(table.c.library == actor.library)
    if actor.role is Role.COORDINATOR:
        return statement.where(table.c.municipality == actor.municipality)
    return statement


async def list_vacancies(work: UnitOfWork, actor: Actor, query: ListVacancies) -> Page[VacancyView]:
    v = store.vacancies
    statement = sa.select(v)
    if actor.role is Role.PARTNER:
        statement = statement.where(
            v.c.status == VacancyStatus.PUBLISHED.value,
            v.c.library.in_(store.partnered_libraries(scope.partner_of(actor), VOLUNTEER_SUPPLIER)),
        )
    else:
        statement = _in_scope(statement, actor, v)
    if query.status is not None:
        statement = statement.where(v.c.status == query.status.value)
    if query.library is not None:
        statement = statement.where(v.c.library == query.library)
    async with work.read() as session:
        rows, next_cursor = await keyset_page(session, statement, [v.c.created_at, v.c.id], query.cursor, query.limit)
    return Page(items=[vacancy_view(row) for row in rows], next_cursor=next_cursor)


# --- volunteers and interns ---------------------------------------------------------------------


def certificates_of(rows: Sequence[sa.Row]) -> list[Certificate]:
    return [
        Certificate(
            requested_at=r.requested_at, received_at=r.received_at, issued_on=r.issued_on, valid_until=r.valid_until
        )
        for r in rows
    ]


def qualification_views(rows: Sequence[sa.Row], today: date) -> list[QualificationView]:
    return [
        QualificationView(
            code=r.code,
            module_id=r.module_id,
            obtained_on=r.obtained_on,
            valid_until=r.valid_until,
            valid=holds_on(r.valid_until, today),
        )
        for r in rows
    ]


async def volunteer_views(
    session: AsyncSession,
    vault: PersonVault,
    rows: Sequence[sa.Row],
    actor: Actor,
    now: datetime,
    purpose: VolunteerReadPurpose = VolunteerReadPurpose.VIEW,
) -> list[VolunteerView]:
    """Views of many volunteers in four queries, not four per volunteer (and one more that logs, for everyone whose
    personal data the view shows, who saw it, when and why: in the caller's transaction, before the answer)."""
    ids = [row.id for row in rows]
    if not ids:
        return []
    today = local_date(now)
    certificates: dict[UUID, list[sa.Row]] = {i: [] for i in ids}
    qualifications: dict[UUID, list[sa.Row]] = {i: [] for i in ids}
    for found in await store.find_certificates(session, *ids):
        certificates[found.volunteer_id].append(found)
    for found in await store.find_qualifications(session, *ids):
        qualifications[found.volunteer_id].append(found)
    internships = {found.volunteer_id: found for found in await store.find_internships(session, *ids)}
    views = []
    for row in rows:
        show_person = scope.may_see_person(actor, row.library, row.via_partner_id)
        internship = internships.get(row.id)
        # Opened only for those who may see it: a coordinator's list decrypts nothing.
        person = personal_data.person_of(vault, row) if show_person else None
        views.append(
            VolunteerView(
                id=row.id,
                kind=VolunteerKind(row.kind),
                library=row.library,
                municipality=row.municipality,
                status=VolunteerStatus(row.status),
                status_reason=row.status_reason,
                channel=ApplicationChannel(row.channel),
                via_partner_id=row.via_partner_id,
                vacancy_id=row.vacancy_id,
                certificate_of_conduct_required=row.certificate_of_conduct_required,
                certificate=certificate_view(certificates_of(certificates[row.id]), today),
                qualifications=qualification_views(qualifications[row.id], today),
                internship=internship_view(vault, internship, show_person) if internship is not None else None,
                version=row.version,
                applied_at=row.applied_at,
                updated_at=row.updated_at,
                person=VolunteerPerson(name=person.name, email=person.email, phone=person.phone) if person else None,
                motivation=person.motivation if person else None,
                anonymised_at=row.anonymised_at,
            )
        )
    shown = [(view.id, view.library) for view in views if view.person is not None]
    await access_log.log_reads(session, shown, actor, purpose, now)
    return views


async def volunteer_view(
    session: AsyncSession,
    vault: PersonVault,
    row: sa.Row,
    actor: Actor,
    now: datetime,
    purpose: VolunteerReadPurpose = VolunteerReadPurpose.VIEW,
) -> VolunteerView:
    (view,) = await volunteer_views(session, vault, [row], actor, now, purpose)
    return view


def internship_view(vault: PersonVault, row: sa.Row, show_person: bool) -> InternshipView:
    return InternshipView(
        school_partner_id=row.school_partner_id,
        starts_on=row.starts_on,
        ends_on=row.ends_on,
        supervisor=personal_data.supervisor_of(vault, row) if show_person else None,
        learning_goals=list(row.learning_goals),
        hours=row.hours,
        ended_on=row.ended_on,
        confirmed_at=row.confirmed_at,
        confirmed_by=row.confirmed_by,
        assessment=_assessment_view(vault, row) if show_person else None,
    )


def _assessment_view(vault: PersonVault, row: sa.Row) -> AssessmentView | None:
    if row.assessment_sealed is None:
        return None
    assessment = vault.assessment(row.assessment_sealed)
    return AssessmentView(
        summary=assessment.summary,
        goals=[AssessedGoalView(goal=g.goal, result=g.result) for g in assessment.goals],
        assessed_at=row.assessed_at,
        assessed_by=row.assessed_by,
    )


async def get_volunteer(work: UnitOfWork, vault: PersonVault, actor: Actor, query: GetVolunteer) -> VolunteerView:
    async with work.read() as session:
        row = await store.find(session, store.volunteers, query.volunteer_id)
        if row is None or not scope.may_see_volunteer(actor, row.library, row.municipality, row.via_partner_id):
            raise NotFound(f"volunteer {query.volunteer_id} not found")
        return await volunteer_view(session, vault, row, actor, work.clock.now())


async def list_volunteers(
    work: UnitOfWork, vault: PersonVault, actor: Actor, query: ListVolunteers
) -> Page[VolunteerView]:
    v = store.volunteers
    statement = sa.select(v)
    if actor.role is Role.PARTNER:
        statement = statement.where(store.is_partner(v.c.via_partner_id, scope.partner_of(actor)))
    else:
        statement = _in_scope(statement, actor, v)
    for column, value in (
        (v.c.kind, query.kind),
        (v.c.status, query.status),
        (v.c.library, query.library),
        (v.c.vacancy_id, query.vacancy_id),
        (v.c.via_partner_id, query.via_partner_id),
    ):
        if value is not None:
            statement = statement.where(column == value)
    if query.name is not None:
        # Only where names are theirs to see: a search must not tell others who is registered.
        if actor.role is not Role.STAFF:
            raise Forbidden("only the library's staff search volunteers by name")
        statement = statement.where(personal_data.named(vault, query.name))
    async with work.read() as session:
        rows, next_cursor = await keyset_page(session, statement, [v.c.applied_at, v.c.id], query.cursor, query.limit)
        items = await volunteer_views(session, vault, rows, actor, work.clock.now(), VolunteerReadPurpose.LIST)
    return Page(items=items, next_cursor=next_cursor)
