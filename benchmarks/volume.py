"""Years of data in minutes: N referrals and the rows that come with them, copied in SQL, vacuumed and analysed
(issue 25).

The copies are of rows the platform wrote itself (at least one referral must exist), so every column holds what
the code writes; only what a history spreads over changes: ids, pseudonyms, submission times over five years,
statuses and their dates, and the parties, spread over `LIBRARIES` libraries in `MUNICIPALITIES` municipalities
and `PARTNERS` referring partners (the template's own get their share), as a municipality's network grows. Per
referral come `HISTORY` history lines, its exact digest in the blind index, `FEED` feed entries of the template's
partner, `OUTBOX` sent outbox rows and as many inbox rows of the partners service's feed consumer: the proportions
measured in a running platform.
The feed entries, outbox and inbox rows lie within their retention windows (80, 29 and 89 days: what a platform
that prunes them keeps), so no sweep removes them while the copies are measured; the referrals and their history
span the five years. So the platform measured afterwards is a settled one: no job has catching up to do.
"""

from __future__ import annotations

import time
from typing import Any

import asyncpg

FIGURE_TRIGGERS = ("referral_figures",)

LIBRARIES = 50
MUNICIPALITIES = 10
PARTNERS = 200
HISTORY = 4
FEED = 2
OUTBOX = 3
CHUNK = 50_000
STATUSES = (
    "submitted",
    "accepted",
    "declined",
    "intake_planned",
    "intake_held",
    "enrolled",
    "completed",
    "withdrawn",
    "no_show",
    "expired",
)
CLOSED = ("declined", "completed", "withdrawn", "no_show", "expired")
HELD = ("intake_held", "enrolled", "completed")

# Every column of the template as it is, but these: `g` is the copy's number, `t` the template referral. The status
# goes by g / LIBRARIES, not g: the template's own library and municipality get every copy whose g is a multiple of
# LIBRARIES, and by g alone all of those were `submitted` (no intakes, no closed ones in the benchmark's views).
STATUS = "(ARRAY{statuses})[1 + (g / {libraries}) % {count}]"
REFERRAL_COLUMNS = {
    "id": "gen_random_uuid()",
    "participant_pseudonym": "'P-SEED' || lpad(g::text, 9, '0')",
    "library": "CASE WHEN g % {libraries} = 0 THEN t.library ELSE t.library || '-seed-' || (g % {libraries}) END",
    "municipality": (
        "CASE WHEN g % {libraries} = 0 THEN t.municipality"
        " ELSE t.municipality || '-seed-' || (g % {libraries} % {municipalities}) END"
    ),
    "referring_partner_id": (
        "CASE WHEN t.referring_partner_id IS NULL OR g % {partners} = 0 THEN t.referring_partner_id"
        " ELSE md5(t.referring_partner_id::text || (g % {partners}))::uuid END"
    ),
    "status": STATUS,
    "submitted_at": "submitted",
    "updated_at": "submitted + interval '3 days'",
    # Deadlines ahead, so the periodic jobs do not set to work on the copies while they are measured.
    "respond_by": "now() + interval '5 days'",
    "expires_at": "now() + interval '30 days'",
    "overdue": "false",  # the copies are answered in time: the lists' first rows stay the platform's own
    "intake_held_at": "CASE WHEN " + STATUS + " IN {held} THEN submitted + (g % 300) * interval '1 hour' END",
    "closed_at": "CASE WHEN " + STATUS + " IN {closed} THEN submitted + interval '20 days' END",
    "erase_after": "CASE WHEN " + STATUS + " IN {closed} THEN now() + interval '385 days' END",
}


def _sql_tuple(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


async def _columns(db: asyncpg.Connection, schema: str, table: str) -> list[str]:
    return [
        r["column_name"]
        for r in await db.fetch(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2"
            " ORDER BY ordinal_position",
            schema,
            table,
        )
    ]


async def seed(dsn: str, n: int, *, library: str, plumbing: bool = True, log: Any = print) -> dict[str, Any]:
    """Add `n` referrals (and the proportional rows) to the platform's database, copied from `library`'s first
    referral and its partner's first feed entry; VACUUM and ANALYZE; how long it took and how many rows there are.
    Without `plumbing` no outbox and inbox rows (a test's shared database: a republish there would send the
    copies)."""
    db = await asyncpg.connect(dsn)
    started = time.monotonic()
    try:
        template = await db.fetchrow(
            "SELECT id, referring_partner_id FROM referrals.referrals WHERE library = $1 ORDER BY submitted_at LIMIT 1",
            library,
        )
        if template is None:
            raise RuntimeError("seeding copies the platform's own rows: submit a referral to the library first")
        names = {
            "libraries": LIBRARIES,
            "municipalities": MUNICIPALITIES,
            "partners": PARTNERS,
            "statuses": "[" + ", ".join(f"'{s}'" for s in STATUSES) + "]",
            "count": len(STATUSES),
            "held": _sql_tuple(HELD),
            "closed": _sql_tuple(CLOSED),
        }
        columns = await _columns(db, "referrals", "referrals")
        select = ", ".join(REFERRAL_COLUMNS[c].format(**names) if c in REFERRAL_COLUMNS else f"t.{c}" for c in columns)
        first = int(
            await db.fetchval("SELECT count(*) FROM referrals.referrals WHERE participant_pseudonym LIKE 'P-SEED%'")
        )
        # The read models' triggers (migrations 011, 013) count one row at a time; for copies in bulk they are
        # computed once afterwards, from all the referrals, as `partnernet rebuild-figures` does.
        for trigger in FIGURE_TRIGGERS:
            await db.execute(f"ALTER TABLE referrals.referrals DISABLE TRIGGER {trigger}")
        try:
            await copy_referrals(db, first, n, select, columns, template, plumbing=plumbing, log=log, started=started)
        finally:
            for trigger in FIGURE_TRIGGERS:
                await db.execute(f"ALTER TABLE referrals.referrals ENABLE TRIGGER {trigger}")
        await db.execute("SELECT referrals.rebuild_referral_figures()")
        log(f"    read models rebuilt ({time.monotonic() - started:.0f}s)")
        # VACUUM as well: rows written years ago have been vacuumed (hint bits set, pages all-visible, so an index
        # scan need not visit the heap). Without it autovacuum set to work on the fresh copies while the views,
        # the write path and the platform at rest were measured.
        for table in (
            "referrals.referrals",
            "referrals.referral_history",
            "referrals.referral_blind_keys",
            "referrals.outbox",
            "partners.inbox",
            "partners.feed_entries",
        ):
            await db.execute(f"VACUUM (ANALYZE) {table}")
        sizes = {
            table: int(await db.fetchval(f"SELECT count(*) FROM {table}"))
            for table in ("referrals.referrals", "referrals.referral_history", "partners.feed_entries")
        }
    finally:
        await db.close()
    return {"referrals_added": n, "seconds": round(time.monotonic() - started, 1), "rows": sizes}


async def seed_digests(db: asyncpg.Connection, template: Any, start: int, end: int) -> None:
    """Each copy's exact digest, as submission writes it for a referral that holds personal data: without it the
    referrals service's backfill (commands/person.py, ExactDigests) unsealed every copy after the seeding, a
    quarter of a core for minutes, and the views, the write path and the platform at rest were measured during it.
    One digest per copy, each its own (as many persons as referrals, none a duplicate of another); the near-match
    digests of open referrals are not seeded (they only make the same index deeper)."""
    await db.execute(
        "INSERT INTO referrals.referral_blind_keys (referral_id, municipality, exact)"
        " SELECT r.id, r.municipality, sha256(t.exact || convert_to(r.participant_pseudonym, 'UTF8'))"
        " FROM referrals.referrals r,"
        "  (SELECT exact FROM referrals.referral_blind_keys WHERE referral_id = $1) t"
        " WHERE r.participant_pseudonym BETWEEN $2 AND $3",
        template,
        f"P-SEED{start:09d}",
        f"P-SEED{end:09d}",
    )


async def seed_plumbing(db: asyncpg.Connection, start: int, end: int) -> None:
    """Sent outbox rows (copies of the newest) and the partners service's inbox rows, `OUTBOX` per referral."""
    await db.execute(
        "INSERT INTO referrals.outbox (event_id, subject, event_type, payload, trace_context, created_at,"
        " sent_at, attempts)"
        " SELECT gen_random_uuid(), t.subject, t.event_type, t.payload, t.trace_context,"
        "  now() - (1 + g % 29) * interval '1 day', now() - (1 + g % 29) * interval '1 day', 1"
        " FROM (SELECT * FROM referrals.outbox ORDER BY position DESC LIMIT 1) t,"
        f" generate_series({start * OUTBOX}, {end * OUTBOX + OUTBOX - 1}) g"
    )
    await db.execute(
        "INSERT INTO partners.inbox (consumer, event_id, processed_at)"
        " SELECT 'partners-feed-referrals', gen_random_uuid(), now() - (g % 89) * interval '1 day'"
        f" FROM generate_series({start * OUTBOX}, {end * OUTBOX + OUTBOX - 1}) g"
    )


async def copy_referrals(
    db: asyncpg.Connection,
    first: int,
    n: int,
    select: str,
    columns: list[str],
    template: asyncpg.Record,
    *,
    plumbing: bool,
    log: Any,
    started: float,
) -> None:
    """The copies, `CHUNK` referrals a transaction, each with its history, feed entries (and plumbing)."""
    for start in range(first + 1, first + n + 1, CHUNK):
        end = min(start + CHUNK - 1, first + n)
        async with db.transaction():
            await db.execute(
                f"INSERT INTO referrals.referrals ({', '.join(columns)})"
                f" SELECT {select} FROM (SELECT * FROM referrals.referrals WHERE id = $1) t,"
                f" generate_series({start}, {end}) g,"
                " LATERAL (SELECT now() - (1 + g % 1826) * interval '1 day' - (g % 86400) * interval '1 second'"
                "  AS submitted) s",
                template["id"],
            )
            await db.execute(
                "INSERT INTO referrals.referral_history (referral_id, status, at, actor, step, version)"
                " SELECT r.id, CASE WHEN k = 1 THEN 'submitted' ELSE r.status END,"
                "  r.submitted_at + (k - 1) * interval '1 day', 'seed', CASE WHEN k = 1 THEN 'submit' END, k"
                f" FROM referrals.referrals r, generate_series(1, {HISTORY}) k"
                " WHERE r.participant_pseudonym BETWEEN $1 AND $2",
                f"P-SEED{start:09d}",
                f"P-SEED{end:09d}",
            )
            await seed_digests(db, template["id"], start, end)
            if plumbing:
                await seed_plumbing(db, start, end)
            await db.execute(
                "INSERT INTO partners.feed_entries (partner_id, event_id, event_type, time, library, data, source,"
                " subject, published_at, trace_context)"
                " SELECT t.partner_id, gen_random_uuid(), t.event_type, now() - (g % 80) * interval '1 day',"
                "  t.library, t.data, t.source, t.subject, now(), t.trace_context"
                " FROM (SELECT * FROM partners.feed_entries WHERE partner_id = $1 ORDER BY position LIMIT 1) t,"
                f" generate_series({start * FEED}, {end * FEED + FEED - 1}) g",
                template["referring_partner_id"],
            )
        log(f"    seeded {end - first:,} of {n:,} referrals ({time.monotonic() - started:.0f}s)")
