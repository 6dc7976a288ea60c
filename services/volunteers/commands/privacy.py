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
from services.volunteers.queries.privacy import policy_view
from services.volunteers.store import hours_history, personal_data
from services.volunteers.store import recruitment as recruitment_store
from services.volunteers.store.personal_data import PersonVault
from shared.contracts.referrals.api.participant_data import RotateEncryption, RotationResult
from shared.contracts.referrals.events import AnonymisationReason
from shared.contracts.volunteers.api.personal_data import EraseVolunteerData, SetVolunteerPolicy, VolunteerPolicyView
from shared.contracts.volunteers.api.volunteers import VolunteerStatus, VolunteerView
from shared.contracts.volunteers.events import VolunteerAnonymised, VolunteerKind
from shared.errors import NotFound
from shared.resealing import reseal_column
from shared.tenancy import SYSTEM, Actor, Role
from shared.unit_of_work import Transaction, UnitOfWork, in_batches
from shared.versions import is_stale, version_conflict

log = logging.getLogger(__name__)

BATCH = 200  # rows per transaction; the periodic job comes back for the rest
ANONYMISE = "anonymise"  # the history's step for an erasure (not a pipeline step: nothing else may take it)


async def anonymise(tx: Transaction, row: sa.Row, *, reason: AnonymisationReason, actor: str) -> None:
    """Erase who the person is; status, kind, dates, qualifications, assignments and minutes stay for the figures."""
    now = tx.clock.now()
    await personal_data.erase_person(tx.session, row.id, version=row.version + 1, at=now)
    await personal_data.forget_name_digests(tx.session, row.id)
    await hours_history.forget_reasons(tx.session, row.id)
    await recruitment_store.add_history(
        tx.session, volunteer_id=row.id, status=row.status, step=ANONYMISE, at=now, actor=actor, reason=None
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
    # `now` is the one the job was given (as before), not each transaction's clock reading.
    return await in_batches(
        work,
        lambda tx, _: personal_data.past_retention(
            tx.session,
            now,
            volunteer_days=retention.DEFAULT_POLICY.volunteer_days,
            applicant_days=retention.DEFAULT_POLICY.applicant_days,
            batch=BATCH,
        ),
        lambda tx, row, _: anonymise(tx, row, reason=AnonymisationReason.RETENTION, actor=SYSTEM.subject),
        batch=BATCH,
    )


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
    for table, key, column in personal_data.SEALED.values():
        resealed += await reseal_column(work, vault.reseal, table, key, column, batch=BATCH)
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
