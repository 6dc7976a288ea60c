"""Possible duplicates as staff see them: the library's list of warnings, and those of one referral in its view."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
import sqlalchemy as sa

from services.referrals import blind_index
from services.referrals.store.duplicates import duplicate_warnings
from shared.contracts.referrals.api.duplicates import (
    DuplicateDecision,
    DuplicateWarningView,
    ListDuplicateWarnings,
    PossibleDuplicate,
)
from shared.contracts.referrals.api.referrals import ReferralView
from shared.errors import InvalidInput
from shared.pagination import Page, decode_cursor, encode_cursor
from shared.tenancy import Actor, Role
from shared.unit_of_work import UnitOfWork


def warning_view(row: sa.Row) -> DuplicateWarningView:
    return DuplicateWarningView(
        id=row.id,
        referral_id=row.referral_id,
        duplicate_of=row.duplicate_of,
        duplicate_library=row.duplicate_library,
        library=row.library,
        similarity=row.similarity,
        exact=row.exact,
        decision=DuplicateDecision(row.decision),
        flagged_at=row.flagged_at,
        decided_at=row.decided_at,
        decided_by=row.decided_by,
        version=row.version,
    )


def possible_duplicate(row: sa.Row, seen_from: UUID) -> PossibleDuplicate:
    """A warning as the view of `seen_from` shows it: the other referral of the two."""
    flagged_here = row.referral_id == seen_from
    return PossibleDuplicate(
        warning_id=row.id,
        referral_id=row.duplicate_of if flagged_here else row.referral_id,
        library=row.duplicate_library if flagged_here else row.library,
        similarity=row.similarity,
        exact=row.exact,
        decision=DuplicateDecision(row.decision),
        flagged_at=row.flagged_at,
        version=row.version,
    )


def with_duplicates(view: ReferralView, actor: Actor, warnings: list[sa.Row]) -> ReferralView:
    """Only the library's staff learn that the person may have another referral."""
    if actor.role is not Role.STAFF or actor.library != view.library or not warnings:
        return view
    return msgspec.structs.replace(view, possible_duplicates=[possible_duplicate(w, view.id) for w in warnings])


async def list_duplicates(work: UnitOfWork, actor: Actor, query: ListDuplicateWarnings) -> Page[DuplicateWarningView]:
    """The library's warnings, newest first; the cursor is the last one's (flagged_at, id)."""
    library = blind_index.check_may_handle_duplicates(actor)
    w = duplicate_warnings
    conditions: list[sa.ColumnElement[bool]] = [w.c.library == library]
    if query.decision is not None:
        conditions.append(w.c.decision == query.decision.value)
    if query.referral_id is not None:
        conditions.append(w.c.referral_id == query.referral_id)
    key = decode_cursor(query.cursor)
    if key is not None:
        flagged_at, last_id = _key(key)
        conditions.append(sa.tuple_(w.c.flagged_at, w.c.id) < sa.tuple_(sa.literal(flagged_at), sa.literal(last_id)))
    statement = sa.select(w).where(*conditions).order_by(w.c.flagged_at.desc(), w.c.id.desc()).limit(query.limit + 1)
    async with work.read() as session:
        rows = list((await session.execute(statement)).all())
    page = rows[: query.limit]
    next_cursor = encode_cursor(page[-1].flagged_at.isoformat(), str(page[-1].id)) if len(rows) > query.limit else None
    return Page(items=[warning_view(row) for row in page], next_cursor=next_cursor)


def _key(key: list[Any]) -> tuple[datetime, UUID]:
    try:
        flagged_at, last_id = key
        return datetime.fromisoformat(flagged_at), UUID(last_id)
    except (TypeError, ValueError) as exc:
        raise InvalidInput("the cursor is not valid") from exc
