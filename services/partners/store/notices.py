"""Notices by e-mail (in `store.metadata`, migration 008): the tables of a person's choice and of the mail outbox,
who gets a notice, the mail relay's statements (its own connection, in autocommit), and the outbox's pruning once a
message was sent or given up."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.ext.asyncio import AsyncSession

from services.partners.store import metadata
from shared.consumer import FIRST_TIME_CTE
from shared.db import Prepared

notice_preferences = sa.Table(
    "notice_preferences",
    metadata,
    sa.Column("subject", sa.Text, primary_key=True),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("municipality", sa.Text),
    sa.Column("library", sa.Text),
    sa.Column("partner_id", PgUUID(as_uuid=True)),
    sa.Column("email", sa.Text, nullable=False),
    sa.Column("language", sa.Text, nullable=False),
    sa.Column("kinds", JSONB, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

mail_outbox = sa.Table(
    "mail_outbox",
    metadata,
    sa.Column("id", PgUUID(as_uuid=True), primary_key=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("cause", sa.Text, nullable=False),
    sa.Column("recipient", sa.Text, nullable=False),
    sa.Column("library", sa.Text),
    sa.Column("partner_id", PgUUID(as_uuid=True)),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("language", sa.Text, nullable=False),
    sa.Column("trace_context", JSONB, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("lease_until", sa.DateTime(timezone=True)),
    sa.Column("sent_at", sa.DateTime(timezone=True)),
    sa.Column("failed_at", sa.DateTime(timezone=True)),
    sa.Column("last_error", sa.Text),
)

# Who gets a notice for a library: its staff who chose the kind, then its general address (as a partner's), unless
# a member of its staff chose for that address: their choice stands. So a library is told before anyone chose.
LIBRARY_RECIPIENTS = Prepared(
    "SELECT library recipients",
    sa.text(
        """
WITH chosen AS (
    SELECT lower(email) AS email, language, kinds ? :kind AS wanted FROM notice_preferences
    WHERE role = 'staff' AND library = :library
), named AS (
    SELECT lower(l.email) AS email FROM libraries l WHERE l.slug = :library AND l.email IS NOT NULL
)
SELECT email, language FROM chosen WHERE wanted
UNION
SELECT email, 'nl' FROM named WHERE email NOT IN (SELECT email FROM chosen)
ORDER BY email
"""
    ),
)
# Who gets a notice for a partner: its people who chose the kind, then its contacts named for it (its general
# address as a primary contact), unless a person of the partner chose for that address: their choice stands.
PARTNER_RECIPIENTS = Prepared(
    "SELECT partner recipients",
    sa.text(
        """
WITH chosen AS (
    SELECT lower(email) AS email, language, kinds ? :kind AS wanted FROM notice_preferences
    WHERE role = 'partner' AND partner_id = CAST(:partner_id AS uuid)
), named AS (
    SELECT lower(c.value->>'email') AS email FROM partners p, jsonb_array_elements(p.contacts) c
    WHERE p.id = CAST(:partner_id AS uuid) AND p.status <> 'ended' AND c.value->>'email' IS NOT NULL
        AND c.value->'roles' ?| CAST(:roles AS text[])
    UNION ALL
    SELECT lower(p.email) FROM partners p WHERE p.id = CAST(:partner_id AS uuid) AND p.status <> 'ended'
        AND p.email IS NOT NULL AND 'primary' = ANY(CAST(:roles AS text[]))
)
SELECT email, language FROM chosen WHERE wanted
UNION
SELECT email, 'nl' FROM named WHERE email NOT IN (SELECT email FROM chosen)
ORDER BY email
"""
    ),
)
# Who gets a notice for a municipality: its coordinators who chose the kind (a municipality has no general address).
# `municipality`, or NULL for that of the partner `partner_id`.
COORDINATOR_RECIPIENTS = Prepared(
    "SELECT coordinator recipients",
    sa.text(
        """
SELECT DISTINCT lower(email) AS email, language FROM notice_preferences
WHERE role = 'coordinator' AND kinds ? :kind
    AND municipality = coalesce(CAST(:municipality AS text),
        (SELECT p.municipality FROM partners p WHERE p.id = CAST(:partner_id AS uuid)))
ORDER BY email
"""
    ),
)
# The trace context as JSON text: the service's pool and the relays' connections encode jsonb differently.
MAIL_STAGED = """
INSERT INTO mail_outbox (id, kind, cause, recipient, library, partner_id, subject, body, language, trace_context,
    created_at, attempts, next_attempt_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::text::jsonb, $11, 0, $11)
ON CONFLICT (cause, recipient) DO NOTHING
"""

# --- the notices of referral events, a consumer's batch as a statement handler (shared/consumer.py): the recipients
# read on a direct connection (the statements above), then the batch's inbox rows and messages in one statement in
# autocommit.

# The batch's inbox rows (`first_time`) and the messages of the events not handled before (each row names its
# event), and the setting that says which relays the writer wakes itself (as the feed's WRITE_FEED_BATCH). How many
# messages were written.
MAIL_STAGED_BATCH = Prepared(
    "INSERT mail batch",
    sa.text(
        f"WITH {FIRST_TIME_CTE},"
        " staged AS ("
        "  INSERT INTO mail_outbox (id, kind, cause, recipient, library, partner_id, subject, body, language,"
        "   trace_context, created_at, attempts, next_attempt_at)"
        "  SELECT m.id, m.kind, m.cause, m.recipient, m.library, m.partner_id, m.subject, m.body, m.language,"
        "   m.trace_context::jsonb, :now, 0, :now"
        "  FROM unnest(CAST(:id AS uuid[]), CAST(:kind AS text[]), CAST(:cause AS text[]), CAST(:recipient AS text[]),"
        "   CAST(:library AS text[]), CAST(:partner_id AS uuid[]), CAST(:subject AS text[]), CAST(:body AS text[]),"
        "   CAST(:language AS text[]), CAST(:trace_context AS text[]), CAST(:event_id AS uuid[]))"
        "   AS m(id, kind, cause, recipient, library, partner_id, subject, body, language, trace_context, event_id)"
        "  WHERE m.event_id IN (SELECT event_id FROM first_time)"
        "  ON CONFLICT (cause, recipient) DO NOTHING"
        "  RETURNING 1"
        " )"
        " SELECT set_config(:relays_woken_setting, :relays_woken, true) AS woken,"
        " (SELECT count(*) FROM staged) AS written"
    ),
)
# A batch without a message: its inbox rows alone (mail_outbox's trigger, for each statement, not fired for nothing).
INBOX_ONLY = Prepared("INSERT inbox", sa.text(f"WITH {FIRST_TIME_CTE} SELECT count(*) AS new FROM first_time"))
# A MAIL_STAGED row's values (its last, the time, goes once as `now`), as MAIL_STAGED_BATCH's arrays.
MAIL_COLUMNS = ("id", "kind", "cause", "recipient", "library", "partner_id", "subject", "body", "language")
MAIL_TRACE_CONTEXT = 9

# Claims the messages that are due (a lease, so a relay that dies lets them go).
MAIL_CLAIM = """
WITH due AS (
    SELECT id FROM mail_outbox
    WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $1 AND (lease_until IS NULL OR lease_until < $1)
    ORDER BY next_attempt_at, id
    LIMIT $2
    FOR UPDATE SKIP LOCKED
)
UPDATE mail_outbox m SET lease_until = $3 FROM due WHERE m.id = due.id
RETURNING m.id, m.kind, m.recipient, m.subject, m.body, m.language, m.trace_context, m.created_at, m.attempts
"""
# A try settled: sent, tried again later, or failed for good; the last refusal stays readable after a success.
MAIL_TRIED = """
UPDATE mail_outbox SET attempts = $2, lease_until = NULL, last_error = coalesce($3, last_error), sent_at = $4,
    failed_at = $5, next_attempt_at = coalesce($6, next_attempt_at)
WHERE id = $1 AND sent_at IS NULL
"""

P = notice_preferences

# Notices by e-mail, once sent or given up: they name staff's and partners' people's addresses, which stay no
# longer than the window (a pending one is still being tried and stays).
PRUNE_MAIL = sa.text(
    "WITH gone AS ("
    " SELECT id FROM mail_outbox WHERE created_at < :before AND (sent_at IS NOT NULL OR failed_at IS NOT NULL)"
    " ORDER BY created_at LIMIT :batch FOR UPDATE SKIP LOCKED)"
    " DELETE FROM mail_outbox m USING gone WHERE m.id = gone.id"
)


async def find_preferences(session: AsyncSession, subject: str, *, lock: bool = False) -> sa.Row[Any] | None:
    statement = sa.select(P).where(P.c.subject == subject)
    if lock:
        statement = statement.with_for_update()
    return (await session.execute(statement)).first()


async def save_preferences(session: AsyncSession, subject: str, *, first: bool, **values: Any) -> None:
    """The person's first choice, or a new version of it."""
    if first:
        await session.execute(P.insert().values(subject=subject, **values))
    else:
        await session.execute(P.update().where(P.c.subject == subject).values(**values))
