"""Recruitment: applications and the pipeline (vacancies: commands/vacancies.py; the certificate of conduct:
commands/screening.py)."""

from __future__ import annotations

from uuid import UUID

import sqlalchemy as sa

from services.volunteers import store
from services.volunteers.commands.assignments import end_active_assignments
from services.volunteers.domain import applications, pipeline, scope
from services.volunteers.queries.recruitment import certificates_of, volunteer_view
from services.volunteers.store import personal_data
from services.volunteers.store import recruitment as recruitment_store
from services.volunteers.store.personal_data import PersonVault
from shared.clock import local_date
from shared.contracts import EventData
from shared.contracts.partners.api.partnerships import Contribution, PartnershipRole
from shared.contracts.partners.events import PartnerKind
from shared.contracts.volunteers.api.access_log import VolunteerReadPurpose
from shared.contracts.volunteers.api.vacancies import (
    VacancyStatus,
)
from shared.contracts.volunteers.api.volunteers import (
    Apply,
    TakeVolunteerStep,
    UpdateVolunteer,
    VolunteerPerson,
    VolunteerStatus,
    VolunteerStep,
    VolunteerView,
)
from shared.contracts.volunteers.events import (
    ApplicationChannel,
    InternEnded,
    VolunteerActivated,
    VolunteerApplied,
    VolunteerDeactivated,
    VolunteerIntakeStarted,
    VolunteerKind,
    VolunteerReactivated,
    VolunteerRejected,
    VolunteerScreeningStarted,
    VolunteerWithdrawn,
)
from shared.errors import Conflict, NotFound
from shared.ids import new_id
from shared.tenancy import Actor, Role
from shared.unit_of_work import Transaction, UnitOfWork
from shared.versions import is_stale, version_conflict

# --- vacancies ----------------------------------------------------------------------------------


async def library_municipality(tx: Transaction, actor: Actor, library: str) -> str:
    """The municipality of a library the actor may reach; an unknown or unreachable one is not found."""
    municipality = await store.known.library_municipality(tx.session, library)
    reachable = municipality is not None and (
        actor.role is Role.PARTNER or actor.can_see_library(library, municipality)
    )
    if not reachable:
        raise NotFound(f"library {library} not found")
    assert municipality is not None
    return municipality


# --- applications and the pipeline --------------------------------------------------------------


async def supplier(
    tx: Transaction,
    partner_id: UUID,
    library: str,
    role: PartnershipRole | None,
    contribution: Contribution | None = None,
) -> scope.Supplier | None:
    """The partner as far as this service knows it, and whether it partners with the library (in `role`, bringing
    `contribution`, where named)."""
    row = await store.known.find_partner(tx.session, partner_id)
    if row is None:
        return None
    return scope.Supplier(
        partner_id=partner_id,
        kind=PartnerKind(row.kind) if row.kind else None,
        municipality=row.municipality,
        status=row.status,
        partners_with_library=await store.has_active_partnership(
            tx.session, partner_id, library, role.value if role else None, contribution.value if contribution else None
        ),
    )


async def check_supplier_acts(tx: Transaction, actor: Actor, row: sa.Row) -> None:
    """A partner acts on someone it supplied only while its partnership with their library runs in the role it
    supplied them in (a suspended one pauses it: 403, nothing changes)."""
    if actor.role is not Role.PARTNER or row.via_partner_id is None:
        return
    kind = VolunteerKind(row.kind)
    role = PartnershipRole.INTERN_SUPPLIER if kind is VolunteerKind.INTERN else PartnershipRole.VOLUNTEER_SUPPLIER
    found = await supplier(tx, row.via_partner_id, row.library, role)
    scope.check_supplier(actor, row.via_partner_id, found, row.library, row.municipality, role)


async def apply(work: UnitOfWork, vault: PersonVault, actor: Actor, command: Apply) -> VolunteerView:
    """An application through the library's own channel or a partner volunteer organisation (recorded)."""
    library, via_partner_id = scope.check_may_apply(actor, command.library, command.via_partner_id)
    assert library is not None
    volunteer_id = new_id()
    async with work.transaction() as tx:
        municipality = await library_municipality(tx, actor, library)
        if via_partner_id is not None:
            found = await supplier(tx, via_partner_id, library, PartnershipRole.VOLUNTEER_SUPPLIER)
            scope.check_supplier(
                actor, via_partner_id, found, library, municipality, PartnershipRole.VOLUNTEER_SUPPLIER
            )
        certificate_required = (
            command.certificate_of_conduct_required if command.certificate_of_conduct_required is not None else True
        )
        if command.vacancy_id is not None:
            vacancy = await store.find(tx.session, store.vacancies, command.vacancy_id)
            # A partner sees the library's published vacancies only; anything else is not there for it.
            hidden = (
                vacancy is None
                or vacancy.library != library
                or (actor.role is Role.PARTNER and vacancy.status != VacancyStatus.PUBLISHED.value)
            )
            if hidden or vacancy is None:
                raise NotFound(f"vacancy {command.vacancy_id} not found")
            if vacancy.status != VacancyStatus.PUBLISHED.value:
                raise Conflict(
                    f"vacancy {vacancy.id} is {vacancy.status}: applications are for published vacancies",
                    state=vacancy.status,
                )
            certificate_required = vacancy.certificate_of_conduct_required
        if command.person.email and command.vacancy_id is not None:
            await _check_first_application(tx, vault, actor, library, command.person.email, command.vacancy_id)
        now = tx.clock.now()
        channel = ApplicationChannel.LIBRARY if via_partner_id is None else ApplicationChannel.VOLUNTEER_ORGANISATION
        await recruitment_store.add_volunteer(
            tx.session,
            id=volunteer_id,
            kind=VolunteerKind.VOLUNTEER.value,
            library=library,
            municipality=municipality,
            status=VolunteerStatus.APPLIED.value,
            channel=channel.value,
            via_partner_id=via_partner_id,
            vacancy_id=command.vacancy_id,
            **personal_data.person_columns(vault, command.person, command.motivation),
            certificate_of_conduct_required=certificate_required,
            version=1,
            applied_at=now,
            updated_at=now,
        )
        await personal_data.save_name_digests(tx.session, vault, volunteer_id, command.person.name)
        await record_history(tx, volunteer_id, VolunteerStatus.APPLIED, None, actor, None)
        await tx.stage(
            VolunteerApplied(
                volunteer_id=volunteer_id,
                library=library,
                municipality=municipality,
                via_partner_id=via_partner_id,
                vacancy_id=command.vacancy_id,
                channel=channel,
            ),
            municipality=municipality,
            library=library,
        )
        return await view_of(tx, vault, actor, volunteer_id)


async def _check_first_application(
    tx: Transaction, vault: PersonVault, actor: Actor, library: str, email: str, vacancy_id: UUID
) -> None:
    """One application per person and vacancy, whichever channel it came through (the e-mail's digest decides)."""
    rows = await personal_data.with_email(tx.session, vault, library, email, lock=True)
    earlier = [
        applications.EarlierApplication(
            volunteer_id=row.id,
            kind=VolunteerKind(row.kind),
            status=VolunteerStatus(row.status),
            vacancy_id=row.vacancy_id,
        )
        for row in rows
    ]
    standing = applications.standing_application(earlier, vacancy_id)
    if standing is not None:
        row = next(r for r in rows if r.id == standing.volunteer_id)
        may_see = scope.may_see_volunteer(actor, row.library, row.municipality, row.via_partner_id)
        applications.check_first_application([standing], vacancy_id, may_see=may_see)


async def record_history(
    tx: Transaction,
    volunteer_id: UUID,
    status: VolunteerStatus,
    step: VolunteerStep | None,
    actor: Actor,
    reason: str | None,
) -> None:
    await recruitment_store.add_history(
        tx.session,
        volunteer_id=volunteer_id,
        status=status.value,
        step=step.value if step else None,
        at=tx.clock.now(),
        actor=scope.acting(actor),
        reason=reason,
    )


async def view_of(tx: Transaction, vault: PersonVault, actor: Actor, volunteer_id: UUID) -> VolunteerView:
    row = await store.find(tx.session, store.volunteers, volunteer_id)
    assert row is not None
    return await volunteer_view(tx.session, vault, row, actor, tx.clock.now(), VolunteerReadPurpose.CHANGE)


async def volunteer_for_change(
    tx: Transaction, vault: PersonVault, actor: Actor, volunteer_id: UUID, expected: int | None
) -> sa.Row:
    row = await store.find(tx.session, store.volunteers, volunteer_id, for_update=True)
    if row is None:
        raise NotFound(f"volunteer {volunteer_id} not found")
    scope.check_may_act_on_volunteer(
        actor, row.library, row.municipality, row.via_partner_id, f"volunteer {volunteer_id}"
    )
    if is_stale(expected, row.version):
        current = await volunteer_view(tx.session, vault, row, actor, tx.clock.now(), VolunteerReadPurpose.CHANGE)
        raise version_conflict(f"volunteer {volunteer_id}", expected, current)
    return row


STEP_EVENTS: dict[VolunteerStep, type[EventData]] = {
    VolunteerStep.START_INTAKE: VolunteerIntakeStarted,
    VolunteerStep.START_SCREENING: VolunteerScreeningStarted,
    VolunteerStep.ACTIVATE: VolunteerActivated,
    VolunteerStep.WITHDRAW: VolunteerWithdrawn,
    VolunteerStep.REJECT: VolunteerRejected,
    VolunteerStep.DEACTIVATE: VolunteerDeactivated,
    VolunteerStep.REACTIVATE: VolunteerReactivated,
}
OUT_OF_SERVICE = frozenset(
    {VolunteerStatus.INACTIVE, VolunteerStatus.WITHDRAWN, VolunteerStatus.REJECTED, VolunteerStatus.ENDED}
)


async def take_volunteer_step(
    work: UnitOfWork, vault: PersonVault, actor: Actor, command: TakeVolunteerStep
) -> VolunteerView:
    """One step of the pipeline; into `active` only with a valid certificate of conduct where required."""
    scope.check_may_take_step(actor, command.step)
    pipeline.check_reason(command.step, command.reason)
    async with work.transaction() as tx:
        row = await volunteer_for_change(tx, vault, actor, command.volunteer_id, command.expected_version)
        today = local_date(tx.clock.now())
        kind, status = VolunteerKind(row.kind), VolunteerStatus(row.status)
        await check_supplier_acts(tx, actor, row)
        new_status = pipeline.apply_volunteer_step(kind, status, command.step)
        certificates = certificates_of(await store.find_certificates(tx.session, row.id))
        pipeline.check_may_enter_service(
            row.id, status, command.step, row.certificate_of_conduct_required, certificates, today
        )
        await move(tx, actor, row, new_status, command.step, command.reason)
        return await view_of(tx, vault, actor, row.id)


async def move(
    tx: Transaction, actor: Actor, row: sa.Row, status: VolunteerStatus, step: VolunteerStep, reason: str | None
) -> None:
    """Save a step that was decided legal, with its event (an intern's end also closes the internship)."""
    await change_status(tx, actor, row, status, step, reason)
    kind = VolunteerKind(row.kind)
    if kind is VolunteerKind.INTERN and step is VolunteerStep.END:
        today = local_date(tx.clock.now())
        internship = await store.find_internship(tx.session, row.id)
        assert internship is not None
        await recruitment_store.update_internship(tx.session, row.id, ended_on=today)
        event: EventData = InternEnded(
            volunteer_id=row.id,
            library=row.library,
            municipality=row.municipality,
            kind=kind,
            via_partner_id=row.via_partner_id,
            school_partner_id=internship.school_partner_id,
            ended_on=today,
            before_period_end=today < internship.ends_on,
        )
    else:
        event = STEP_EVENTS[step](
            volunteer_id=row.id,
            library=row.library,
            municipality=row.municipality,
            kind=kind,
            via_partner_id=row.via_partner_id,
        )
    await tx.stage(event, municipality=row.municipality, library=row.library)


async def change_status(
    tx: Transaction,
    actor: Actor,
    row: sa.Row,
    status: VolunteerStatus,
    step: VolunteerStep | None,
    reason: str | None,
) -> None:
    """Save a new status (and its history); leaving service ends the person's running assignments, and starts
    the time after which their personal data is erased (the library's retention policy)."""
    now = tx.clock.now()
    left = status in OUT_OF_SERVICE
    if left and VolunteerStatus(row.status) in OUT_OF_SERVICE and row.left_service_at is not None:
        left_at = row.left_service_at  # from inactive to ended: still out since the first day
    else:
        left_at = now if left else None
    await recruitment_store.update_volunteer(
        tx.session,
        row.id,
        status=status.value,
        status_reason=reason,
        version=row.version + 1,
        updated_at=now,
        left_service_at=left_at,
    )
    await record_history(tx, row.id, status, step, actor, reason)
    if status in OUT_OF_SERVICE:
        await end_active_assignments(tx, row)


async def update_volunteer(
    work: UnitOfWork, vault: PersonVault, actor: Actor, command: UpdateVolunteer
) -> VolunteerView:
    scope.check_may_manage(actor)
    async with work.transaction() as tx:
        row = await volunteer_for_change(tx, vault, actor, command.volunteer_id, command.expected_version)
        changes: dict[str, object] = {}
        if row.anonymised_at is not None:
            raise Conflict(f"volunteer {row.id} was anonymised: there is no one to change", state="anonymised")
        if command.person is not None or command.motivation is not None:
            current = personal_data.person_of(vault, row)
            assert current is not None
            person = command.person or VolunteerPerson(name=current.name, email=current.email, phone=current.phone)
            motivation = command.motivation if command.motivation is not None else current.motivation
            changes.update(personal_data.person_columns(vault, person, motivation))
            await personal_data.save_name_digests(tx.session, vault, row.id, person.name)
        if command.certificate_of_conduct_required is not None:
            changes["certificate_of_conduct_required"] = command.certificate_of_conduct_required
        await recruitment_store.update_volunteer(
            tx.session, row.id, **changes, version=row.version + 1, updated_at=tx.clock.now()
        )
        return await view_of(tx, vault, actor, row.id)
