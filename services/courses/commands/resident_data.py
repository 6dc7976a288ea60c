"""Residents' personal data for those who run the course and for the residents themselves (issue 22): the session's
residents by name (and contact, for the library's staff), the resident's export by their link, erasure by the
library's staff, and re-sealing with the newest key. Every read of a name or address is written to the access log
(`resident_data_reads`) in the transaction that reads it: if the log cannot be written, nothing is shown.

Who sees how much is decided in services/courses/domain/residents.py (resident_detail)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from services.courses import store
from services.courses.commands.residents import erase_registration, registration_by_link, registration_view
from services.courses.domain import residents as rules
from services.courses.queries.enrolment import attendance_of
from services.courses.queries.offer import joined_course_scope
from services.courses.store import residents as resident_store
from services.courses.store.offer import session_with_course
from services.courses.store.residents import ResidentVault
from shared.contracts.courses.api.residents import (
    EraseResidentData,
    ExportResidentData,
    ListSessionResidents,
    RegisteredResident,
    ResidentDataPurpose,
    ResidentDataRead,
    ResidentDetail,
    ResidentErased,
    ResidentExport,
    SessionResidents,
)
from shared.contracts.courses.events import EnrolmentStatus
from shared.contracts.referrals.api.participant_data import RotateEncryption, RotationResult
from shared.errors import NotFound
from shared.resealing import reseal_column
from shared.tenancy import Actor, Role
from shared.unit_of_work import Transaction, UnitOfWork

log = logging.getLogger(__name__)


def access_entry(
    registration: sa.Row, pseudonym: str | None, actor: Actor, purpose: ResidentDataPurpose, at: datetime
) -> dict[str, Any]:
    """The access-log row of one read of a resident's data (or their erasure)."""
    return {
        "registration_id": registration.id,
        "course_id": registration.course_id,
        "library": None,
        "participant_pseudonym": pseudonym,
        "actor": actor.subject,
        "actor_role": actor.role.value,
        "actor_organisation": actor.library or actor.partner,
        "purpose": purpose.value,
        "at": at,
    }


async def _session_scope(tx: Transaction, actor: Actor, session_id: UUID) -> tuple[sa.Row, ResidentDetail]:
    row = await session_with_course(tx.session, session_id)
    if row is None:
        raise NotFound(f"session {session_id} not found")
    municipality = await store.municipality_of(tx.session, actor)
    return row, rules.check_resident_detail(actor, joined_course_scope(row), municipality)


async def list_session_residents(
    work: UnitOfWork, vault: ResidentVault, actor: Actor, query: ListSessionResidents
) -> SessionResidents:
    async with work.transaction() as tx:
        session_row, detail = await _session_scope(tx, actor, query.session_id)
        now = tx.clock.now()
        found, entries = [], []
        rows, following = await resident_store.residents_of_session(
            tx.session, query.session_id, query.cursor, query.limit
        )
        for row in rows:
            contact = vault.open(row.sealed)
            entry = access_entry(row, row.participant_pseudonym, actor, ResidentDataPurpose.VIEW, now)
            entries.append({**entry, "library": session_row.library})
            found.append(
                RegisteredResident(
                    registration_id=row.id,
                    enrolment_id=row.enrolment_id,
                    participant_pseudonym=row.participant_pseudonym,
                    status=EnrolmentStatus(row.enrolment_status),
                    name=contact.name,
                    email=contact.email if detail is ResidentDetail.CONTACT else None,
                    phone=contact.phone if detail is ResidentDetail.CONTACT else None,
                    language="en" if row.language == "en" else "nl",
                    confirmed_at=row.confirmed_at,
                    offer_expires_at=row.offer_expires_at,
                )
            )
        await resident_store.log_reads(tx.session, entries)
    return SessionResidents(session_id=query.session_id, detail=detail, residents=found, next_cursor=following)


async def export_resident_data(
    work: UnitOfWork, vault: ResidentVault, actor: Actor, command: ExportResidentData
) -> ResidentExport:
    """The right of access, by the resident's link: what they gave, where their registration stands, the dates,
    their attendance, how long it is kept and who read it. Their own export is in the log too."""
    async with work.transaction() as tx:
        row = await registration_by_link(tx, vault, command.token, command.municipality)
        registration_id = row.id
        session_row = await store.find_session(tx.session, row.session_id)
        assert session_row is not None
        enrolment = None if row.enrolment_id is None else await store.find_enrolment(tx.session, row.enrolment_id)
        pseudonym = None if enrolment is None else enrolment.participant_pseudonym
        now = tx.clock.now()
        contact = None
        if row.sealed is not None:
            contact = vault.open(row.sealed)
            entry = access_entry(row, pseudonym, actor, ResidentDataPurpose.EXPORT, now)
            # The resident themselves (the public calendar asks as the least actor there is: no role of theirs).
            mine = {**entry, "actor": "resident", "actor_role": "resident", "actor_organisation": None}
            await resident_store.log_reads(tx.session, [mine])
        view = await registration_view(tx, registration_id)
        marks = [] if enrolment is None else (await attendance_of(tx.session, [enrolment.id]))[enrolment.id]
        reads = await resident_store.reads_of(tx.session, registration_id)
    return ResidentExport(
        registration=view,
        name=None if contact is None else contact.name,
        email=None if contact is None else contact.email,
        phone=None if contact is None else contact.phone,
        participant_pseudonym=pseudonym,
        registered_at=row.created_at,
        confirmed_at=row.confirmed_at,
        closed_at=row.closed_at,
        erased_at=row.erased_at,
        kept_until=None if contact is None else rules.kept_until(row.closed_at, session_row.ends_at),
        attendance=marks,
        access_log=[
            ResidentDataRead(
                actor=read.actor,
                actor_role=read.actor_role,
                actor_organisation=read.actor_organisation,
                purpose=ResidentDataPurpose(read.purpose),
                at=read.at,
            )
            for read in reads
        ],
        exported_at=now,
    )


async def erase_resident_data(
    work: UnitOfWork, vault: ResidentVault, actor: Actor, command: EraseResidentData
) -> ResidentErased:
    """The right to erasure through the library's staff (a resident who asks by phone or at the desk): whatever
    stands is cancelled (its place moves the waiting list up) and the name and address go at once. Erasing twice
    changes nothing more."""
    async with work.transaction() as tx:
        found = await resident_store.find_registration(tx.session, command.registration_id)
        if found is None or command.session_id not in (None, found.session_id):
            raise NotFound(f"registration {command.registration_id} not found")
        session_row, _ = await _session_scope(tx, actor, found.session_id)
        rules.check_may_erase(actor, joined_course_scope(session_row), await store.municipality_of(tx.session, actor))
        # Lock order as everywhere: the session first, then its enrolments and registrations.
        await store.find_session(tx.session, found.session_id, for_update=True)
        row = await resident_store.find_registration(tx.session, command.registration_id, for_update=True)
        assert row is not None
        if row.erased_at is None:
            enrolment = None if row.enrolment_id is None else await store.find_enrolment(tx.session, row.enrolment_id)
            await erase_registration(tx, row)
            pseudonym = None if enrolment is None else enrolment.participant_pseudonym
            entry = access_entry(row, pseudonym, actor, ResidentDataPurpose.ERASE, tx.clock.now())
            await resident_store.log_reads(tx.session, [{**entry, "library": session_row.library}])
            log.info("a resident's data erased by the library", extra={"library": session_row.library})
        erased = await resident_store.find_registration(tx.session, row.id)
        assert erased is not None and erased.erased_at is not None
    return ResidentErased(registration_id=row.id, session_id=row.session_id, erased_at=erased.erased_at)


async def rotate_encryption(
    work: UnitOfWork, vault: ResidentVault, actor: Actor, command: RotateEncryption
) -> RotationResult:
    """Re-seal every resident's name and address with the newest configured key; then older keys can go."""
    actor.require(Role.OPERATOR)
    r = resident_store.registrations
    resealed = await reseal_column(work, vault.sealer.reseal, r, r.c.id, r.c.sealed)
    log.info("re-sealed the personal data of %d residents' registrations with the newest key", resealed)
    return RotationResult(resealed=resealed)
