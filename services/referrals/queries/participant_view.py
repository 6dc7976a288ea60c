"""The participant's own page (by personal code: their referral only, no name at all) and the library's list of
participants' change requests."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.referrals import participant_codes, store
from services.referrals.participant_codes import CodeHasher
from services.referrals.queries.participant_rights import data_on_page
from services.referrals.queries.referral import parties_of
from services.referrals.store import participants as participant_store
from services.referrals.store.participants import change_requests
from services.referrals.store.personal_data import ParticipantVault
from shared.contracts.referrals.api.participant_page import (
    ChangeRequestStatus,
    ChangeRequestView,
    ListChangeRequests,
    OpenParticipantPage,
    ParticipantChangeKind,
    ParticipantPage,
)
from shared.contracts.referrals.api.referrals import Intake, ReferralDirection, ReferralStatus
from shared.errors import Forbidden, InvalidInput, NotFound
from shared.pagination import Page, decode_cursor, encode_cursor
from shared.tenancy import Actor, Role
from shared.unit_of_work import UnitOfWork

CHANGES = (ParticipantChangeKind.RESCHEDULE.value, ParticipantChangeKind.CANCEL.value)


async def referral_for_code(session: AsyncSession, hasher: CodeHasher, typed: str) -> tuple[sa.Row, sa.Row] | None:
    """The code's row and its referral; None for a code that is not one (a wrong guess looks the same)."""
    code = participant_codes.normalise(typed)
    if code is None:
        return None
    found = await participant_store.find_by_digest(session, hasher.digest(code))
    if found is None:
        return None
    row = await store.find_referral(session, found.referral_id)
    return (found, row) if row is not None else None


def code_works(row: sa.Row) -> bool:
    return participant_codes.code_works(row.anonymised_at is not None)


async def open_participant_page(
    work: UnitOfWork, hasher: CodeHasher, vault: ParticipantVault, actor: Actor, query: OpenParticipantPage
) -> ParticipantPage:
    """Whoever holds the code sees this page and nothing else, so it names nobody but who receives them.

    The participant's own name is left out on purpose: the code travels on paper and phones, and a page
    that names the person would tell a finder who has an appointment where. The participant knows who
    they are; the page only needs to tell them where to go.
    """
    async with work.read() as session:
        found = await referral_for_code(session, hasher, query.code)
        if found is None:
            raise NotFound("no referral has this code")
        code_row, row = found
        if not code_works(row):
            return ParticipantPage(works=False, erased_at=row.anonymised_at)
        intake = msgspec.convert(row.intake, Intake) if row.intake is not None else None
        direction = parties_of(row).direction
        receiver = await receiver_name(session, row, direction)
        waiting = await participant_store.open_requests(session, row.id)
        change = next((ParticipantChangeKind(w.kind) for w in waiting if w.kind in CHANGES), None)
        data = await data_on_page(session, vault, row, waiting, work.clock.now())
    return ParticipantPage(
        works=True,
        receiver_kind=participant_codes.receiver_kind(direction),
        receiver_name=receiver,
        status=ReferralStatus(row.status),
        intake_at=intake.at if intake is not None else None,
        place=intake.place if intake is not None else None,
        meet_with=intake.contact_person.name if intake is not None else None,
        contact_phone=code_row.contact_phone or (intake.contact_person.phone if intake is not None else None),
        change_requested=change,
        closed_at=row.closed_at,
        **data,
    )


async def receiver_name(session: AsyncSession, row: sa.Row, direction: ReferralDirection) -> str | None:
    if direction is ReferralDirection.TO_PARTNER:
        partner = await store.known.find_partner(session, row.receiving_partner_id)
        return partner.name if partner is not None and partner.name else None
    return await participant_store.library_name(session, row.library)


def change_request_view(row: sa.Row, pseudonym: str) -> ChangeRequestView:
    return ChangeRequestView(
        id=row.id,
        referral_id=row.referral_id,
        library=row.library,
        participant_pseudonym=pseudonym,
        kind=ParticipantChangeKind(row.kind),
        status=ChangeRequestStatus(row.status),
        requested_at=row.requested_at,
        handled_at=row.handled_at,
        handled_by=row.handled_by,
        version=row.version,
        handled_by_erasure=row.handled_by_erasure,
    )


def check_may_handle_requests(actor: Actor) -> str:
    if actor.role is not Role.STAFF or actor.library is None:
        raise Forbidden("only staff of the library see and handle participants' change requests")
    return actor.library


async def list_change_requests(work: UnitOfWork, actor: Actor, query: ListChangeRequests) -> Page[ChangeRequestView]:
    """The library's requests, newest first; the cursor is the last one's (requested_at, id)."""
    library = check_may_handle_requests(actor)
    r = change_requests
    conditions: list[sa.ColumnElement[bool]] = [r.c.library == library]
    if query.status is not None:
        conditions.append(r.c.status == query.status.value)
    if query.referral_id is not None:
        conditions.append(r.c.referral_id == query.referral_id)
    key = decode_cursor(query.cursor)
    if key is not None:
        requested_at, last_id = _key(key)
        conditions.append(
            sa.tuple_(r.c.requested_at, r.c.id) < sa.tuple_(sa.literal(requested_at), sa.literal(last_id))
        )
    statement = (
        sa.select(r, store.referrals.c.participant_pseudonym)
        .join(store.referrals, store.referrals.c.id == r.c.referral_id)
        .where(*conditions)
        .order_by(r.c.requested_at.desc(), r.c.id.desc())
        .limit(query.limit + 1)
    )
    async with work.read() as session:
        rows = list((await session.execute(statement)).all())
    page = rows[: query.limit]
    more = len(rows) > query.limit
    next_cursor = encode_cursor(page[-1].requested_at.isoformat(), str(page[-1].id)) if more else None
    return Page(items=[change_request_view(row, row.participant_pseudonym) for row in page], next_cursor=next_cursor)


def _key(key: list[Any]) -> tuple[datetime, UUID]:
    try:
        requested_at, last_id = key
        return datetime.fromisoformat(requested_at), UUID(last_id)
    except (TypeError, ValueError) as exc:
        raise InvalidInput("the cursor is not valid") from exc
