"""Queries for a participant as one person across referrals: their referrals found through the blind index's exact
digest (and duplicate warnings staff linked), the access log of those referrals, and the names of the parties."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.referrals.store import known_libraries, known_partners, personal_data_reads, referrals
from services.referrals.store.duplicates import blind_index, duplicate_warnings
from shared.contracts.referrals.api.duplicates import DuplicateDecision

# Links between warnings are followed this many steps at most: a person's referrals are a handful, and a chain
# of links longer than this says more about the links than about one person.
MAX_LINK_STEPS = 5


async def exact_digest(session: AsyncSession, referral_id: UUID) -> bytes | None:
    """The referral's exact digest (name and birth date), kept while its personal data is held."""
    b = blind_index
    statement = sa.select(b.c.exact).where(b.c.referral_id == referral_id)
    return (await session.execute(statement)).scalar_one_or_none()


async def with_digest(session: AsyncSession, municipality: str, library: str, digest: bytes) -> set[UUID]:
    """The library's referrals whose exact digest is this one: the same name and birth date."""
    b = blind_index
    statement = (
        sa.select(b.c.referral_id)
        .join(referrals, referrals.c.id == b.c.referral_id)
        .where(b.c.municipality == municipality, b.c.exact == digest)
        .where(referrals.c.library == library)
    )
    return set((await session.execute(statement)).scalars())


async def linked_to(session: AsyncSession, library: str, found: set[UUID]) -> set[UUID]:
    """`found` and the library's referrals staff linked to it as the same person (a near match they confirmed),
    followed through links of links."""
    w = duplicate_warnings
    linked = w.c.decision == DuplicateDecision.LINKED.value
    found = set(found)
    for _ in range(MAX_LINK_STEPS):
        pairs = (
            await session.execute(
                sa.select(w.c.referral_id, w.c.duplicate_of).where(
                    linked, sa.or_(w.c.referral_id.in_(found), w.c.duplicate_of.in_(found))
                )
            )
        ).all()
        more = {referral for pair in pairs for referral in pair} - found
        if not more:
            break
        found |= more
    own = sa.select(referrals.c.id).where(referrals.c.id.in_(found), referrals.c.library == library)
    return set((await session.execute(own)).scalars())


async def referrals_of(session: AsyncSession, ids: Iterable[UUID], *, lock: bool = False) -> list[sa.Row]:
    """The referrals, oldest first; locked for an erasure (in id order, so two erasures never deadlock)."""
    ids = sorted(ids)
    statement = sa.select(referrals).where(referrals.c.id.in_(ids)).order_by(referrals.c.id)
    if lock:
        statement = statement.with_for_update(key_share=True)
    rows = list((await session.execute(statement)).all())
    return sorted(rows, key=lambda row: (row.submitted_at, row.id))


async def reads_of(session: AsyncSession, ids: Iterable[UUID]) -> list[sa.Row]:
    r = personal_data_reads
    statement = sa.select(r).where(r.c.referral_id.in_(list(ids))).order_by(r.c.id)
    return list((await session.execute(statement)).all())


async def party_names(session: AsyncSession, libraries: set[str], partners: set[UUID]) -> dict[str, str]:
    """Slugs and partner ids → names, as this service knows them (from the partners service's events)."""
    names: dict[str, str] = {}
    if libraries:
        statement = sa.select(known_libraries.c.slug, known_libraries.c.name).where(
            known_libraries.c.slug.in_(libraries)
        )
        names |= {slug: name for slug, name in (await session.execute(statement)).all() if name}
    if partners:
        statement = sa.select(known_partners.c.id, known_partners.c.name).where(known_partners.c.id.in_(partners))
        names |= {str(id_): name for id_, name in (await session.execute(statement)).all() if name}
    return names


async def newest_per_library(session: AsyncSession, municipality: str, digest: bytes) -> dict[str, UUID]:
    """Each library of the municipality that holds referrals with this exact digest, and its newest such referral:
    where a request of the person's (export, erasure) goes, so that each library's staff handle their part."""
    b = blind_index
    statement = (
        sa.select(referrals.c.library, referrals.c.id)
        .join(b, b.c.referral_id == referrals.c.id)
        .where(b.c.municipality == municipality, b.c.exact == digest)
        .order_by(referrals.c.submitted_at.desc(), referrals.c.id.desc())
    )
    newest: dict[str, UUID] = {}
    for library, referral_id in (await session.execute(statement)).all():
        newest.setdefault(library, referral_id)  # a person's referrals are a handful: no DISTINCT ON needed
    return newest


def _digest_due() -> list[sa.ColumnElement[bool]]:
    # The predicate of the partial index `referrals_exact_digest_due` (migration 016), so that it answers.
    r = referrals
    return [r.c.exact_digest_due, r.c.participant_sealed.is_not(None), r.c.anonymised_at.is_(None)]


async def held_without_digest(session: AsyncSession, limit: int) -> list[sa.Row]:
    """Referrals that hold personal data and whose exact digest is due, in id order: closed before the exact
    digest was kept with the data, or whose digest was removed since (migration 016 marks both). With nothing
    due, a probe of an empty partial index."""
    statement = (
        sa.select(referrals.c.id, referrals.c.municipality, referrals.c.participant_sealed)
        .where(*_digest_due())
        .order_by(referrals.c.id)
        .limit(limit)
    )
    return list((await session.execute(statement)).all())


async def add_exact_digests(session: AsyncSession, done: list[UUID], rows: list[dict[str, object]]) -> None:
    """The digests of a batch, and its referrals no longer due (also those without a birth date: none to give)."""
    if rows:
        await session.execute(insert(blind_index).on_conflict_do_nothing(), rows)
    if done:
        r = referrals
        await session.execute(r.update().where(r.c.id.in_(done), *_digest_due()).values(exact_digest_due=None))
