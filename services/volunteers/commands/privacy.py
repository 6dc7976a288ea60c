"""Volunteers' personal data over time: the library's retention policy, erasure after it (a periodic job) or on
request, key rotation, and sealing rows written in clear before sealing existed."""

from __future__ import annotations

import logging
from datetime import datetime
from uuid import UUID

import sqlalchemy as sa

from services.volunteers import store
from services.volunteers.commands.recruitment import move, view_of
from services.volunteers.domain import pipeline, retention
from services.volunteers.queries.privacy import policy_view, served
from services.volunteers.store import hours_history, personal_data
from services.volunteers.store.personal_data import PersonVault, volunteer_policies
from shared.contracts.referrals.api.participant_data import RotateEncryption, RotationResult
from shared.contracts.referrals.events import AnonymisationReason
from shared.contracts.volunteers.api.personal_data import EraseVolunteerData, SetVolunteerPolicy, VolunteerPolicyView
from shared.contracts.volunteers.api.volunteers import VolunteerStatus, VolunteerView
from shared.contracts.volunteers.events import VolunteerAnonymised, VolunteerKind
from shared.errors import NotFound
from shared.tenancy import SYSTEM, Actor, Role
from shared.unit_of_work import Transaction, UnitOfWork
from shared.versions import is_stale, version_conflict

log = logging.getLogger(__name__)

BATCH = 200  # rows per transaction; the periodic job comes back for the rest
ANONYMISE = "anonymise"  # the history's step for an erasure (not a pipeline step: nothing else may take it)


async def anonymise(tx: Transaction, row: sa.Row, *, reason: AnonymisationReason, actor: str) -> None:
    """Erase who the person is; status, kind, dates, qualifications, assignments and minutes stay for the figures."""
    now = tx.clock.now()
    v = store.volunteers
    await tx.session.execute(
        v.update()
        .where(v.c.id == row.id)
        .values(
            person_sealed=None,
            email_digest=None,
            name=None,
            email=None,
            phone=None,
            motivation=None,
            status_reason=None,
            anonymised_at=now,
            version=row.version + 1,
            updated_at=now,
        )
    )
    await personal_data.forget_name_digests(tx.session, row.id)
    i = store.internships
    await tx.session.execute(
        i.update().where(i.c.volunteer_id == row.id).values(supervisor=None, supervisor_sealed=None, learning_goals=[])
    )
    await tx.session.execute(store.certificates.delete().where(store.certificates.c.volunteer_id == row.id))
    # Free text may say anything about the person: reasons in the history, notes with hours.
    h = store.volunteer_history
    await tx.session.execute(h.update().where(h.c.volunteer_id == row.id).values(reason=None))
    await tx.session.execute(store.hours.update().where(store.hours.c.volunteer_id == row.id).values(note=None))
    await hours_history.forget_reasons(tx.session, row.id)
    await tx.session.execute(
        h.insert().values(volunteer_id=row.id, status=row.status, step=ANONYMISE, at=now, actor=actor, reason=None)
    )
    await tx.stage(
        VolunteerAnonymised(
            volunteer_id=row.id,
            library=row.library,
            municipality=row.municipality,
            kind=VolunteerKind(row.kind),
            via_partner_id=row.via_partner_id,
            reason=reason,
            anonymised_at=now,
        ),
        municipality=row.municipality,
        library=row.library,
    )
    log.info("personal data erased", extra={"library": row.library, "volunteer": str(row.id)})


async def _own_volunteer(tx: Transaction, actor: Actor, volunteer_id: UUID) -> sa.Row:
    row = await store.find(tx.session, store.volunteers, volunteer_id, for_update=True)
    if row is None:
        raise NotFound(f"volunteer {volunteer_id} not found")
    retention.check_is_theirs(actor, row.library, f"volunteer {volunteer_id}")
    return row


async def erase_volunteer_data(
    work: UnitOfWork, vault: PersonVault, actor: Actor, command: EraseVolunteerData
) -> VolunteerView:
    """The right to erasure, exercised through the library's staff: someone in service leaves it first (the
    step's own event, their assignments ended), then the personal data goes. Erasing twice changes nothing."""
    retention.check_may_handle_personal_data(actor)
    async with work.transaction() as tx:
        row = await _own_volunteer(tx, actor, command.volunteer_id)
        if row.anonymised_at is None:
            kind, status = VolunteerKind(row.kind), VolunteerStatus(row.status)
            step = retention.STEPS_OUT.get((kind, status))
            if step is not None:
                await move(tx, actor, row, pipeline.apply_volunteer_step(kind, status, step), step, None)
                row = await _own_volunteer(tx, actor, row.id)
            await anonymise(tx, row, reason=AnonymisationReason.ERASURE_REQUESTED, actor=actor.subject)
        return await view_of(tx, vault, actor, row.id)


async def erase_after_retention(work: UnitOfWork, now: datetime) -> int:
    """The periodic job: anonymise everyone whose library's retention period after leaving has passed."""
    v, p = store.volunteers, volunteer_policies
    days = sa.case(
        (served(v.c.id), sa.func.coalesce(p.c.volunteer_retention_days, retention.DEFAULT_POLICY.volunteer_days)),
        else_=sa.func.coalesce(p.c.applicant_retention_days, retention.DEFAULT_POLICY.applicant_days),
    )
    due = (
        sa.select(v)
        .select_from(v.outerjoin(p, p.c.library == v.c.library))
        .where(
            v.c.anonymised_at.is_(None),
            v.c.left_service_at.is_not(None),
            v.c.left_service_at + sa.func.make_interval(0, 0, 0, days) <= now,
        )
        .order_by(v.c.left_service_at)
        .limit(BATCH)
        .with_for_update(of=v, skip_locked=True)  # replicas running the job at once take different rows
    )
    total = 0
    while True:
        async with work.transaction() as tx:
            rows = (await tx.session.execute(due)).all()
            for row in rows:
                await anonymise(tx, row, reason=AnonymisationReason.RETENTION, actor=SYSTEM.subject)
        total += len(rows)
        if len(rows) < BATCH:
            return total


async def set_policy(work: UnitOfWork, actor: Actor, command: SetVolunteerPolicy) -> VolunteerPolicyView:
    library = retention.check_may_set_policy(actor, command.library)
    async with work.transaction() as tx:
        municipality = await store.known.library_municipality(tx.session, library)
        if municipality is None or not actor.can_see_library(library, municipality):
            raise NotFound(f"library {library} not found")
        current = policy_view(library, await personal_data.find_policy(tx.session, library, lock=True))
        if is_stale(command.expected_version, current.version):
            raise version_conflict(f"the retention policy of {library}", command.expected_version, current)
        await personal_data.save_policy(
            tx.session,
            library,
            applicant_days=command.applicant_retention_days,
            volunteer_days=command.volunteer_retention_days,
            certificate_validity_months=command.certificate_validity_months or current.certificate_validity_months,
            certificate_max_age_months=command.certificate_max_age_months or current.certificate_max_age_months,
            now=tx.clock.now(),
        )
        return policy_view(library, await personal_data.find_policy(tx.session, library))


async def rotate_encryption(
    work: UnitOfWork, vault: PersonVault, actor: Actor, command: RotateEncryption
) -> RotationResult:
    """Re-seal every person's data (and school supervisors') with the newest configured key, in batches."""
    actor.require(Role.OPERATOR)
    resealed = 0
    for table, key, column in (
        (store.volunteers, store.volunteers.c.id, store.volunteers.c.person_sealed),
        (store.internships, store.internships.c.volunteer_id, store.internships.c.supervisor_sealed),
    ):
        last: UUID | None = None
        while True:
            async with work.transaction() as tx:
                statement = (
                    sa.select(key, column).where(column.is_not(None)).order_by(key).limit(BATCH).with_for_update()
                )
                if last is not None:
                    statement = statement.where(key > last)
                rows = (await tx.session.execute(statement)).all()
                for found_key, sealed in rows:
                    await tx.session.execute(
                        table.update().where(key == found_key).values({column.name: vault.reseal(sealed)})
                    )
            resealed += len(rows)
            if len(rows) < BATCH:
                break
            last = rows[-1][0]
    log.info("re-sealed %d volunteers' and supervisors' personal data with the newest key", resealed)
    return RotationResult(resealed=resealed)


async def seal_clear_rows(work: UnitOfWork, vault: PersonVault) -> int:
    """Rows written in clear by a version before sealing (migration 003), sealed in batches."""
    total = 0
    while True:
        async with work.transaction() as tx:
            sealed = await personal_data.seal_clear_rows(tx.session, vault, BATCH)
        total += sealed
        if sealed < BATCH:
            break
    if total:
        log.info("sealed the personal data of %d rows written in clear", total)
    return total
