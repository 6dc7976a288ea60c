"""Tables of the blind index and the duplicate warnings (in `store.metadata`, migration 003), and their queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.ext.asyncio import AsyncSession

from services.referrals import domain
from services.referrals.store import metadata, referrals
from shared.contracts.referrals.api.duplicates import DuplicateDecision
from shared.db import Prepared

# A referral's digests in one row (migration 021): its exact digest, and its feature digests while it is open
# (NULL once it closed). No foreign key to referrals (migration 018): a referral is never deleted, and its digests
# are written with it.
blind_index = sa.Table(
    "referral_blind_keys",
    metadata,
    sa.Column("referral_id", PgUUID(as_uuid=True), primary_key=True),
    sa.Column("municipality", sa.Text, nullable=False),
    sa.Column("exact", sa.LargeBinary, nullable=False),
    sa.Column("features", ARRAY(sa.LargeBinary)),
    sa.Index("referral_blind_keys_exact", "exact"),
    sa.Index("referral_blind_keys_features", "features", postgresql_using="gin"),
)

duplicate_warnings = sa.Table(
    "duplicate_warnings",
    metadata,
    sa.Column("id", PgUUID(as_uuid=True), primary_key=True),
    sa.Column("referral_id", PgUUID(as_uuid=True), sa.ForeignKey("referrals.id"), nullable=False),
    sa.Column("duplicate_of", PgUUID(as_uuid=True), sa.ForeignKey("referrals.id"), nullable=False),
    sa.Column("library", sa.Text, nullable=False),
    sa.Column("duplicate_library", sa.Text, nullable=False),
    sa.Column("municipality", sa.Text, nullable=False),
    sa.Column("similarity", sa.Double, nullable=False),
    sa.Column("exact", sa.Boolean, nullable=False),
    sa.Column("decision", sa.Text, nullable=False, server_default=sa.text("'open'")),
    sa.Column("flagged_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("decided_at", sa.DateTime(timezone=True)),
    sa.Column("decided_by", sa.Text),
    sa.Column("version", sa.Integer, nullable=False, server_default=sa.text("1")),
    sa.UniqueConstraint("referral_id", "duplicate_of", name="duplicate_warnings_once"),
    sa.Index("duplicate_warnings_by_library", "library", sa.text("flagged_at DESC"), sa.text("id DESC")),
    sa.Index("duplicate_warnings_by_referral", "referral_id"),
    sa.Index("duplicate_warnings_by_duplicate", "duplicate_of"),
)


def is_open() -> sa.ColumnElement[bool]:
    """A referral that is still open (not closed, not anonymised): the only ones a duplicate is looked for in."""
    # `<> ALL (array)`, not NOT IN (list): one SQL text, prepared once, and nothing to expand on every execution.
    closed = sa.literal(sorted(s.value for s in domain.CLOSED), ARRAY(sa.Text))
    return sa.and_(referrals.c.status != sa.all_(closed), referrals.c.anonymised_at.is_(None))


@dataclass(frozen=True)
class Candidate:
    referral_id: UUID
    library: str
    exact: bool
    shared: int  # features in common
    features: int  # features of the candidate


MAX_CANDIDATES = 20


def candidates_statement(municipality: sa.ColumnElement[str]) -> sa.Select[Any]:
    """Open referrals of `municipality` whose exact digest is the `exact_digest` parameter or that share a digest
    with the `feature_digests` parameter, closest first (the referral `referral_id` left out), as (referral_id,
    library, exact, shared, features). Through migration 021's function, which plans the lookup on its indexes."""
    matches = (
        sa.func.referral_blind_matches(
            municipality,
            sa.bindparam("referral_id", type_=PgUUID(as_uuid=True)),
            sa.bindparam("exact_digest", type_=sa.LargeBinary),
            # One array parameter, whatever the number of digests: the same statement every time.
            sa.bindparam("feature_digests", type_=ARRAY(sa.LargeBinary)),
        )
        .table_valued("referral_id", "exact", "shared", "features")
        .render_derived(name="matches")
    )
    # Each match's referral by its key, if still open: LIMIT keeps the planner from joining the other way round (from
    # every open referral of the municipality, as it did with the function's few rows estimated as one).
    referral = (
        sa.select(referrals.c.library)
        .where(referrals.c.id == matches.c.referral_id, is_open(), referrals.c.municipality == municipality)
        .limit(1)
        .lateral("referral")
    )
    return (
        sa.select(matches.c.referral_id, referral.c.library, matches.c.exact, matches.c.shared, matches.c.features)
        .select_from(matches)
        .join(referral, sa.true())
        # The closest few are what staff can act on; a person referred over and over must not make every
        # new referral write a warning per earlier one.
        .order_by(matches.c.exact.desc(), matches.c.shared.desc(), matches.c.referral_id)
        .limit(MAX_CANDIDATES)
    )


def candidates_json(municipality: sa.ColumnElement[str]) -> sa.Label[Any]:
    """The candidates as one JSON array of [referral_id, library, exact, shared, features], for a lookup that reads
    them beside other things in one row (store/submission.py); `candidates_from_json` reads it back."""
    found = candidates_statement(municipality).subquery("candidates")
    row = sa.func.json_build_array(
        found.c.referral_id, found.c.library, found.c.exact, found.c.shared, found.c.features
    )
    found_json = sa.select(sa.func.coalesce(sa.func.json_agg(row), sa.literal_column("'[]'::json")))
    return sa.type_coerce(found_json.select_from(found).scalar_subquery(), sa.JSON).label("candidates")


def candidates_from_json(rows: list[list[Any]] | None) -> list[Candidate]:
    return [
        Candidate(UUID(referral_id), library, bool(exact), int(shared), int(features))
        for referral_id, library, exact, shared, features in rows or []
    ]


WARNING_FIELDS = ("id", "duplicate_of", "duplicate_library", "similarity", "exact")


def warnings_insert(
    referral_id: sa.BindParameter[Any],
    library: sa.BindParameter[Any],
    municipality: sa.BindParameter[Any],
    flagged_at: sa.BindParameter[Any],
) -> sa.Insert:
    """A submission's warnings, one array parameter per field (`warning_<field>`), written by the statement that
    writes the referral (store/submission.py): the referral is never stored without the warnings it gave."""
    w = duplicate_warnings
    given = (
        sa.func.unnest(*(sa.bindparam(f"warning_{name}", type_=ARRAY(w.c[name].type)) for name in WARNING_FIELDS))
        .table_valued(*WARNING_FIELDS)
        .render_derived()
    )
    columns = ["id", "referral_id", "duplicate_of", "library", "duplicate_library", "municipality"]
    columns += ["similarity", "exact", "flagged_at"]
    return (
        insert(w)
        .from_select(
            columns,
            sa.select(
                given.c.id,
                referral_id,
                given.c.duplicate_of,
                library,
                given.c.duplicate_library,
                municipality,
                given.c.similarity,
                given.c.exact,
                flagged_at,
            ),
        )
        .on_conflict_do_nothing(constraint="duplicate_warnings_once")
    )


def warnings_of(referral_id: sa.ColumnElement[UUID]) -> sa.ColumnElement[bool]:
    """The warnings a referral's own view shows: its own (any decision), and links made from the other side."""
    w = duplicate_warnings
    linked_from_elsewhere = sa.and_(w.c.duplicate_of == referral_id, w.c.decision == DuplicateDecision.LINKED.value)
    return sa.or_(w.c.referral_id == referral_id, linked_from_elsewhere)


# A referral's warnings, read on a direct connection (queries/referral.py).
WARNINGS_OF = Prepared(
    "SELECT duplicate_warnings",
    sa.select(duplicate_warnings)
    .where(warnings_of(sa.bindparam("referral_id", type_=PgUUID(as_uuid=True))))
    .order_by(duplicate_warnings.c.flagged_at, duplicate_warnings.c.id),
)


async def lock_warning(session: AsyncSession, warning_id: UUID) -> sa.Row | None:
    w = duplicate_warnings
    return (await session.execute(sa.select(w).where(w.c.id == warning_id).with_for_update())).first()


async def decide(session: AsyncSession, row: sa.Row, decision: DuplicateDecision, at: datetime, by: str) -> None:
    w = duplicate_warnings
    await session.execute(
        w.update()
        .where(w.c.id == row.id)
        .values(decision=decision.value, decided_at=at, decided_by=by, version=row.version + 1)
    )


async def forget(session: AsyncSession, referral_id: UUID) -> None:
    """The digests of a referral, and the warnings about it nobody decided: with the personal data they go."""
    w = duplicate_warnings
    await session.execute(blind_index.delete().where(blind_index.c.referral_id == referral_id))
    await session.execute(
        w.delete().where(
            sa.or_(w.c.referral_id == referral_id, w.c.duplicate_of == referral_id),
            w.c.decision == DuplicateDecision.OPEN.value,
        )
    )


async def forget_features(session: AsyncSession, referral_id: UUID) -> None:
    """The feature digests of a referral that closes: no near match is looked for with it any more, so they go in
    the transaction that closes it (its row by the primary key, never a sweep over the index). The exact digest
    stays while the personal data does (`forget` takes it with the data): it finds the person's referrals when they
    ask for an export or an erasure (store/person.py)."""
    b = blind_index
    await session.execute(
        b.update().where(b.c.referral_id == referral_id, b.c.features.is_not(None)).values(features=None)
    )
