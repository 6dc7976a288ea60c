"""A submission in two round trips: one lookup (the parties, the library's policy and the open referrals that may be
the same person), then every write in one statement: the referral, its first history row, its event in the
outbox, its blind index and its duplicate warnings.

Both are `Prepared` statements on a plain asyncpg connection (shared/db.py): SQLAlchemy's session, compiled-cache
lookups and parameter processing around them cost the referrals service about a fifth of its time in a submission
(issue 17's profile). JSON values go as text cast to jsonb in the statement, so they mean the same on a pooled
connection and on an idempotent call's transaction (whose connection has SQLAlchemy's codecs).

Data-modifying CTEs run to completion whether or not the query reads them, and PostgreSQL applies the one
statement whole or not at all, so it needs no transaction around it: a referral is never stored without its
event, its digests or the warnings it gave, and a failure in any of them fails the submission, nothing stored.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.dialects.postgresql import UUID as PgUUID

from services.referrals.blind_index import BlindKeys
from services.referrals.store import known_libraries, known_partners, library_policies, referral_history, referrals
from services.referrals.store.duplicates import (
    WARNING_FIELDS,
    Candidate,
    blind_index,
    candidates_from_json,
    candidates_json,
    warnings_insert,
)
from services.referrals.store.partnerships import partnership_standing
from shared.db import DirectConnection, DirectRow, Prepared
from shared.outbox import notify_channel, outbox
from shared.relay import RELAYS_WOKEN, woken_channels

OUTBOX_CHANNEL = notify_channel("referrals")  # the relay a submission wakes itself (`write_submission`)
_one = sa.select(sa.literal(1).label("one")).subquery()
_partner = sa.bindparam("partner", type_=PgUUID(as_uuid=True))
_partnered, _partnership_ended = partnership_standing(_partner, sa.bindparam("library"), known_libraries.c.municipality)
# Built once, with bind parameters: a lookup on every submission should not build and compile SQL each time.
SUBMISSION_CONTEXT = Prepared(
    "SELECT submission context",
    sa.select(
        known_libraries.c.municipality.label("library_municipality"),
        known_partners.c.municipality.label("partner_municipality"),
        known_partners.c.status.label("partner_status"),
        library_policies.c.response_days,
        library_policies.c.expiry_days,
        library_policies.c.retention_days,
        _partnered.label("partnered"),
        # The library's municipality again, as a subquery of its own: the candidates' lookup is a derived table.
        candidates_json(
            sa.select(known_libraries.c.municipality)
            .where(known_libraries.c.slug == sa.bindparam("library"))
            .scalar_subquery()
        ),
    )
    .select_from(_one)
    .outerjoin(known_libraries, known_libraries.c.slug == sa.bindparam("library"))
    .outerjoin(known_partners, known_partners.c.id == _partner)
    .outerjoin(library_policies, library_policies.c.library == sa.bindparam("library")),
)


async def submission_context(
    connection: DirectConnection, library: str, partner_id: UUID | None, referral_id: UUID, keys: BlindKeys | None
) -> tuple[DirectRow, list[Candidate]]:
    """Everything a submission checks, in one round trip: the library's municipality, the partner on the other
    side (municipality, status, whether it partners with the library) and the library's policy, each NULL where
    unknown; and the open referrals of the library's municipality that share a digest with `keys`.

    One row always (outer joins from a single row); a check that needs more of what this service knows about
    the parties adds its join and columns to SUBMISSION_CONTEXT, so the submission stays one lookup. Two
    submissions of the same person at the very same moment do not see each other: a rare miss, not a wrong warning.
    """
    row = await connection.fetchrow(
        SUBMISSION_CONTEXT,
        library=library,
        partner=partner_id,
        referral_id=referral_id,
        exact_digest=keys.exact if keys is not None else None,
        feature_digests=list(keys.features) if keys is not None else None,
    )
    assert row is not None  # outer joins from a single row
    candidates = row.candidates
    if isinstance(candidates, str):  # a connection with SQLAlchemy's codecs hands json over as its text
        candidates = msgspec.json.decode(candidates)
    return row, candidates_from_json(candidates)


HISTORY_FIELDS = ("status", "at", "actor", "step", "version", "details")
OUTBOX_FIELDS = ("event_id", "subject", "event_type", "payload", "trace_context")

_statements: dict[tuple[str, ...], tuple[Prepared, frozenset[str]]] = {}


def _bound(table: sa.Table, names: Iterable[str], prefix: str = "") -> dict[str, Any]:
    return {name: _parameter(prefix + name, table.c[name].type) for name in names}


def _parameter(name: str, type_: Any) -> Any:
    if isinstance(type_, JSONB):  # given as JSON text (`_json_text`), whatever codec the connection has
        return sa.cast(sa.bindparam(name, type_=sa.Text), JSONB)
    return sa.bindparam(name, type_=type_)


def _json_fields(table: sa.Table, names: Iterable[str]) -> frozenset[str]:
    return frozenset(name for name in names if isinstance(table.c[name].type, JSONB))


def _parameters(values: dict[str, Any], names: Iterable[str], json: frozenset[str], prefix: str = "") -> dict[str, Any]:
    return {
        prefix + name: msgspec.json.encode(values[name]).decode() if name in json else values[name] for name in names
    }


HISTORY_JSON = _json_fields(referral_history, HISTORY_FIELDS)
OUTBOX_JSON = _json_fields(outbox, OUTBOX_FIELDS)


def _statement(referral_fields: tuple[str, ...]) -> Prepared:
    referral_id = sa.bindparam("referral_id", type_=referrals.c.id.type)
    municipality = sa.bindparam("municipality", type_=sa.Text)
    exact = sa.bindparam("index_exact", type_=sa.LargeBinary)
    # The query itself says whether the relay is woken by the writer (shared/relay.py RELAYS_WOKEN): it runs
    # before the statement's AFTER triggers fire, the outbox's NOTIFY among them.
    woken = sa.func.set_config(RELAYS_WOKEN, sa.bindparam("relays_woken", type_=sa.Text), True)
    statement: sa.Select[Any] = sa.select(woken).add_cte(
        referrals.insert().values(_bound(referrals, referral_fields)).cte("referral_written"),
        referral_history.insert()
        # Its id from the table's sequence: SQLAlchemy cannot fetch one for an INSERT inside a CTE.
        .values(
            {
                "id": sa.literal_column("DEFAULT"),
                "referral_id": referral_id,
                **_bound(referral_history, HISTORY_FIELDS, "history_"),
            }
        )
        .cte("history_written"),
        outbox.insert().values(_bound(outbox, OUTBOX_FIELDS, "outbox_")).cte("event_written"),
        # One row of digests (migration 021), none without a birth date; a plain insert: the referral is new.
        blind_index.insert()
        .from_select(
            ["referral_id", "municipality", "exact", "features"],
            sa.select(
                referral_id, municipality, exact, sa.bindparam("index_features", type_=ARRAY(sa.LargeBinary))
            ).where(exact.is_not(None)),
        )
        .cte("index_written"),
        warnings_insert(referral_id, sa.bindparam("library"), municipality, sa.bindparam("submitted_at")).cte(
            "warnings_written"
        ),
    )
    return Prepared("INSERT referral", statement)


async def write_submission(
    connection: DirectConnection,
    referral: dict[str, Any],
    history: dict[str, Any],
    event: dict[str, Any],
    keys: BlindKeys | None,
    warnings: list[dict[str, Any]],
    *,
    relay_woken: bool = False,
) -> None:
    """Write a submitted referral with everything that goes with it (its `warnings`: store/duplicates.py's fields).
    `relay_woken`: the caller wakes the outbox relay once this returns (UnitOfWork.may_wake_relays), so the statement's
    commit sends no NOTIFY."""
    fields = tuple(referral)
    shape = _statements.get(fields)
    if shape is None:  # built and compiled once per shape of the referral's values
        shape = _statements[fields] = (_statement(fields), _json_fields(referrals, fields))
    statement, referral_json = shape
    parameters = {
        **_parameters(referral, fields, referral_json),
        **_parameters(history, HISTORY_FIELDS, HISTORY_JSON, "history_"),
        **_parameters(event, OUTBOX_FIELDS, OUTBOX_JSON, "outbox_"),
        **{f"warning_{name}": [warning[name] for warning in warnings] for name in WARNING_FIELDS},
        "referral_id": referral["id"],
        "relays_woken": woken_channels([OUTBOX_CHANNEL] if relay_woken else []),
        "index_exact": keys.exact if keys is not None else None,
        "index_features": list(keys.features) if keys is not None else None,
    }
    await connection.execute(statement, **parameters)
