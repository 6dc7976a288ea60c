"""The participant's page: staff give a personal code (only its keyed hash is kept), the participant asks for
a change there, staff handle the request; and the library names the page shows, from the partners' events."""

from __future__ import annotations

import logging
from datetime import datetime

import sqlalchemy as sa

from services.referrals import participant_codes, store
from services.referrals.participant_codes import CodeHasher
from services.referrals.queries.participant_view import (
    change_request_view,
    check_may_handle_requests,
    code_works,
    referral_for_code,
)
from services.referrals.store import participants as participant_store
from services.referrals.store import person as person_store
from shared.contracts import Envelope
from shared.contracts.partners.events import LibraryRegistered
from shared.contracts.referrals.api.participant_page import (
    ACROSS_LIBRARIES,
    RIGHTS,
    ChangeRequestStatus,
    ChangeRequestView,
    HandleChangeRequest,
    IssueParticipantCode,
    ParticipantChangeKind,
    ParticipantChangeRecorded,
    ParticipantCodeIssued,
    ParticipantCodeRevoked,
    RequestParticipantChange,
    RevokeParticipantCode,
)
from shared.contracts.referrals.api.referrals import ReferralStatus
from shared.errors import Conflict, IllegalTransition, NotFound
from shared.ids import new_id
from shared.tenancy import Actor
from shared.unit_of_work import Transaction, UnitOfWork
from shared.versions import is_stale, version_conflict

log = logging.getLogger(__name__)

PARTICIPANT = "participant:code"  # the history's actor for what the participant did on their page
PAGE_PATH = "/p/"  # where the gateway serves the page


async def issue_participant_code(
    work: UnitOfWork, hasher: CodeHasher, actor: Actor, command: IssueParticipantCode
) -> ParticipantCodeIssued:
    """A new code for the participant; an earlier one stops working. Shown once: only its hash is stored."""
    participant_codes.check_may_issue(actor)
    phone = participant_codes.check_contact_phone(command.contact_phone)
    async with work.transaction() as tx:
        row = await store.lock_referral(tx.session, command.referral_id)
        if row is None:
            raise NotFound(f"referral {command.referral_id} not found")
        participant_codes.check_may_issue_for(
            actor, library=row.library, status=ReferralStatus(row.status), anonymised=row.anonymised_at is not None
        )
        code = participant_codes.make_code()
        while await participant_store.find_by_digest(tx.session, hasher.digest(code)) is not None:
            code = participant_codes.make_code()  # taken by another referral: one in ~10^7, try another
        now = tx.clock.now()
        await participant_store.save_code(
            tx.session,
            referral_id=row.id,
            library=row.library,
            code_digest=hasher.digest(code),
            contact_phone=phone,
            issued_at=now,
            issued_by=actor.subject,
        )
        await store.add_history(
            tx.session,
            row.id,
            status=row.status,
            at=now,
            actor=actor.subject,
            step="issue_participant_code",
            version=row.version,
        )
    log.info("participant code issued", extra={"pseudonym": row.participant_pseudonym, "library": row.library})
    shown = participant_codes.shown(code)
    return ParticipantCodeIssued(
        referral_id=row.id, code=shown, path=f"{PAGE_PATH}{shown}", issued_at=now, contact_phone=phone
    )


async def revoke_participant_code(
    work: UnitOfWork, actor: Actor, command: RevokeParticipantCode
) -> ParticipantCodeRevoked:
    """The code was lost or given to the wrong person: it opens nothing any more."""
    participant_codes.check_may_issue(actor)
    async with work.transaction() as tx:
        row = await store.lock_referral(tx.session, command.referral_id)
        if row is None or row.library != actor.library:
            raise NotFound(f"referral {command.referral_id} not found")
        revoked = await participant_store.delete_code(tx.session, row.id)
        if revoked:
            await store.add_history(
                tx.session,
                row.id,
                status=row.status,
                at=tx.clock.now(),
                actor=actor.subject,
                step="revoke_participant_code",
                version=row.version,
            )
    return ParticipantCodeRevoked(referral_id=row.id, revoked=revoked)


async def request_participant_change(
    work: UnitOfWork, hasher: CodeHasher, actor: Actor, command: RequestParticipantChange
) -> ParticipantChangeRecorded:
    """The participant asks the library to call about another date, says they will not come, or asks for their
    rights: an export of their data, its erasure (both go to every library of the municipality that holds them),
    or to revoke their consent for this referral.

    Recorded for staff (the library's list and the referral's history); asking the same twice records it once.
    Once the data is erased that is a Conflict with `erased`; a change of an appointment after the referral closed
    is a Conflict with `closed` (their rights they may still ask for): the gateway says either kindly.
    """
    async with work.transaction() as tx:
        found = await referral_for_code(tx.session, hasher, command.code)
        if found is None:
            raise NotFound("no referral has this code")
        locked = await store.lock_referral(tx.session, found[1].id)
        assert locked is not None
        row = locked
        if not code_works(row):
            raise Conflict("the participant's data has been erased: nothing is held to ask about", erased=True)
        if not participant_codes.may_ask(command.kind, ReferralStatus(row.status)):
            raise Conflict(f"the referral is {row.status}: there is no appointment to change any more", closed=True)
        now = tx.clock.now()
        waiting = await participant_store.open_requests(tx.session, row.id)
        same = next((w for w in waiting if w.kind == command.kind.value), None)
        if same is not None:
            return ParticipantChangeRecorded(kind=command.kind, requested_at=same.requested_at, already_requested=True)
        await _ask(tx, row, command.kind, now)
        libraries = 1
        if command.kind in ACROSS_LIBRARIES:
            libraries += await ask_other_libraries(tx, row, command.kind, now)
    log.info("participant asked", extra={"pseudonym": row.participant_pseudonym, "library": row.library})
    return ParticipantChangeRecorded(kind=command.kind, requested_at=now, already_requested=False, libraries=libraries)


async def _ask(
    tx: Transaction, row: sa.Row, kind: ParticipantChangeKind, now: datetime, *, asked_at: str | None = None
) -> None:
    """One request for the referral's library: in its list and in the referral's history (with the library where
    the person asked at the desk, if they did not ask on their page)."""
    await participant_store.add_request(
        tx.session, id=new_id(), referral_id=row.id, library=row.library, kind=kind.value, requested_at=now
    )
    await store.add_history(
        tx.session,
        row.id,
        status=row.status,
        at=now,
        actor=PARTICIPANT,
        step="participant_asked_right" if kind in RIGHTS else "participant_asked_change",
        version=row.version,
        details={"kind": kind.value} | ({"asked_at": asked_at} if asked_at else {}),
    )


async def ask_other_libraries(
    tx: Transaction, row: sa.Row, kind: ParticipantChangeKind, now: datetime, *, asked_at: str | None = None
) -> int:
    """The same request for every other library of the municipality that holds the person (the blind index's
    exact digest), on its newest referral of theirs, unless one is waiting there already. Each library's staff
    handle their own part; none learns more than that the person asked."""
    digest = await person_store.exact_digest(tx.session, row.id)
    if digest is None:
        return 0
    asked = 0
    others = await person_store.newest_per_library(tx.session, row.municipality, digest)
    for library, referral_id in sorted(others.items()):
        if library == row.library:
            continue
        other = await store.lock_referral(tx.session, referral_id)
        waiting = await participant_store.open_requests(tx.session, referral_id)
        if other is None or any(w.kind == kind.value for w in waiting):
            continue
        await _ask(tx, other, kind, now, asked_at=asked_at)
        asked += 1
    return asked


async def handle_change_request(work: UnitOfWork, actor: Actor, command: HandleChangeRequest) -> ChangeRequestView:
    library = check_may_handle_requests(actor)
    async with work.transaction() as tx:
        row = await participant_store.lock_request(tx.session, command.request_id)
        referral = await store.find_referral(tx.session, row.referral_id) if row is not None else None
        if row is None or referral is None or row.library != library:
            raise NotFound(f"change request {command.request_id} not found")
        if is_stale(command.expected_version, row.version):
            raise version_conflict(
                f"change request {row.id}",
                command.expected_version,
                change_request_view(row, referral.participant_pseudonym),
            )
        if row.status != ChangeRequestStatus.OPEN.value:
            raise IllegalTransition(
                f"a change request that is {row.status} cannot be handled again", state=row.status, step="handle"
            )
        await participant_store.handle_request(tx.session, row, tx.clock.now(), actor.subject)
        handled = await participant_store.lock_request(tx.session, row.id)
    assert handled is not None
    return change_request_view(handled, referral.participant_pseudonym)


async def remember_library_name(tx: Transaction, envelope: Envelope, event: LibraryRegistered) -> None:
    await participant_store.remember_library_name(tx.session, event.library, event.name)
