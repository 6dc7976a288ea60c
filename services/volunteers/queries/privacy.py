"""What is held about a person (the right of access), and a library's retention policy."""

from __future__ import annotations

from collections import defaultdict
from uuid import UUID

import sqlalchemy as sa

from services.volunteers import store
from services.volunteers.domain import retention, screening
from services.volunteers.queries import access_log
from services.volunteers.queries.hours import entry_view
from services.volunteers.queries.recruitment import volunteer_view
from services.volunteers.store import hours_history, personal_data
from services.volunteers.store.personal_data import PersonVault, served
from shared.contracts.volunteers.api.access_log import VolunteerReadPurpose
from shared.contracts.volunteers.api.assignments import AssignmentStatus
from shared.contracts.volunteers.api.personal_data import (
    AssignmentRecord,
    CertificateRecord,
    ExportVolunteerData,
    GetVolunteerPolicy,
    HoursRecord,
    TrainingRecord,
    VolunteerExport,
    VolunteerHistoryEntry,
    VolunteerPolicyView,
)
from shared.contracts.volunteers.api.volunteers import VolunteerStatus
from shared.contracts.volunteers.events import AssignmentKind
from shared.errors import NotFound
from shared.tenancy import Actor
from shared.unit_of_work import UnitOfWork


def policy_view(library: str, row: sa.Row | None) -> VolunteerPolicyView:
    screening_rules = screening_policy(row)
    if row is None:
        return VolunteerPolicyView(
            library=library,
            applicant_retention_days=retention.DEFAULT_POLICY.applicant_days,
            volunteer_retention_days=retention.DEFAULT_POLICY.volunteer_days,
            is_default=True,
            version=0,
            certificate_validity_months=screening_rules.validity_months,
            certificate_max_age_months=screening_rules.max_age_months,
        )
    return VolunteerPolicyView(
        library=library,
        applicant_retention_days=row.applicant_retention_days,
        volunteer_retention_days=row.volunteer_retention_days,
        is_default=False,
        version=row.version,
        certificate_validity_months=screening_rules.validity_months,
        certificate_max_age_months=screening_rules.max_age_months,
    )


def screening_policy(row: sa.Row | None) -> screening.ScreeningPolicy:
    """The library's rules for certificates of conduct; the defaults where it set none."""
    default = screening.DEFAULT_SCREENING
    if row is None:
        return default
    return screening.ScreeningPolicy(
        validity_months=row.certificate_validity_months or default.validity_months,
        max_age_months=row.certificate_max_age_months or default.max_age_months,
    )


async def get_policy(work: UnitOfWork, actor: Actor, query: GetVolunteerPolicy) -> VolunteerPolicyView:
    library = retention.check_may_read_policy(actor, query.library)
    async with work.read() as session:
        municipality = await store.known.library_municipality(session, library)
        if municipality is None or not actor.can_see_library(library, municipality):
            raise NotFound(f"library {library} not found")
        return policy_view(library, await personal_data.find_policy(session, library))


async def export_volunteer_data(
    work: UnitOfWork, vault: PersonVault, actor: Actor, query: ExportVolunteerData
) -> VolunteerExport:
    """Everything held about the person, for the library's staff to hand over (machine-readable JSON)."""
    retention.check_may_handle_personal_data(actor)
    async with work.read() as session:
        row = await store.find(session, store.volunteers, query.volunteer_id)
        if row is None:
            raise NotFound(f"volunteer {query.volunteer_id} not found")
        retention.check_is_theirs(actor, row.library, f"volunteer {query.volunteer_id}")
        now = work.clock.now()
        view = await volunteer_view(session, vault, row, actor, now, VolunteerReadPurpose.EXPORT)
        h, a, hr, t = store.volunteer_history, store.assignments, store.hours, store.attendance
        history = (await session.execute(sa.select(h).where(h.c.volunteer_id == row.id).order_by(h.c.id))).all()
        assignments = (
            await session.execute(sa.select(a).where(a.c.volunteer_id == row.id).order_by(a.c.assigned_at, a.c.id))
        ).all()
        hours = (
            await session.execute(sa.select(hr).where(hr.c.volunteer_id == row.id).order_by(hr.c.worked_on, hr.c.id))
        ).all()
        training = (
            await session.execute(sa.select(t).where(t.c.volunteer_id == row.id).order_by(t.c.recorded_at))
        ).all()
        changes: dict[UUID, list[sa.Row]] = defaultdict(list)
        for change in await hours_history.changes_of(session, *[x.id for x in hours]) if hours else []:
            changes[change.entry_id].append(change)
        certificates = await store.find_certificates(session, row.id)
        policy = policy_view(row.library, await personal_data.find_policy(session, row.library))
        was_in_service = bool((await session.execute(sa.select(served(sa.literal(row.id))))).scalar())
        reads = await access_log.reads_of(session, row.id)
    rules = retention.RetentionPolicy(policy.applicant_retention_days, policy.volunteer_retention_days)
    return VolunteerExport(
        volunteer=view,
        history=[
            VolunteerHistoryEntry(
                status=VolunteerStatus(e.status), step=e.step, at=e.at, actor=e.actor, reason=e.reason
            )
            for e in history
        ],
        certificates_of_conduct=[
            CertificateRecord(
                requested_at=c.requested_at, received_at=c.received_at, issued_on=c.issued_on, valid_until=c.valid_until
            )
            for c in certificates
        ],
        assignments=[
            AssignmentRecord(
                id=x.id,
                kind=AssignmentKind(x.kind),
                status=AssignmentStatus(x.status),
                course_id=x.course_id,
                starts_on=x.starts_on,
                ends_on=x.ends_on,
                assigned_at=x.assigned_at,
                ended_at=x.ended_at,
            )
            for x in assignments
        ],
        hours=[
            HoursRecord(
                assignment_id=x.assignment_id,
                worked_on=x.worked_on,
                minutes=x.minutes,
                note=x.note,
                logged_at=x.logged_at,
                removed_at=x.removed_at,
                id=x.id,
                history=entry_view(x, changes[x.id]).history,
            )
            for x in hours
        ],
        training=[
            TrainingRecord(
                session_id=x.session_id, attended=x.attended, completed=x.completed, recorded_at=x.recorded_at
            )
            for x in training
        ],
        retention=policy,
        erase_after=None if row.anonymised_at else retention.erase_after(row.left_service_at, was_in_service, rules),
        exported_at=now,
        access_log=reads,
    )
