"""The overview's course figures (issue 25): each use case one prepared statement per scope shape on a direct
connection (shared/db.py `Prepared`), instead of a SQLAlchemy session and six to eight statements.

The scope is a fixed condition on a table's `municipality` and `library` columns (a coordinator's municipality, a
staff member's library, an operator's choice): a statement per shape, so each uses its index."""

from __future__ import annotations

import sqlalchemy as sa

from shared.contracts.courses.api.courses import CourseStatus, SessionStatus
from shared.contracts.courses.api.education import EducationRequestStatus
from shared.contracts.courses.api.purchasing import PurchaseStatus
from shared.contracts.courses.events import EnrolmentStatus
from shared.db import ScopeShape, prepared_per_scope, scoped_text
from shared.db import scope_condition as scope

COMMITTED = (
    PurchaseStatus.APPROVED.value,
    PurchaseStatus.ORDERED.value,
    PurchaseStatus.DELIVERED.value,
    PurchaseStatus.INVOICE_AWAITING_APPROVAL.value,  # the commitment stays until the invoice is booked
)
SPENT = (PurchaseStatus.INVOICED.value, PurchaseStatus.CLOSED.value)
PUBLISHED, CANCELLED = CourseStatus.PUBLISHED.value, CourseStatus.CANCELLED.value
SCHEDULED, SESSION_CANCELLED = SessionStatus.SCHEDULED.value, SessionStatus.CANCELLED.value
REQUESTED, PLANNED = EducationRequestStatus.REQUESTED.value, EducationRequestStatus.PLANNED.value
DECLINED, CONFIRMED = EducationRequestStatus.DECLINED.value, EnrolmentStatus.CONFIRMED.value


def _sql_list(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


# Which of GROUPING SETS ((library), (partner)) a row is, and its key; a row whose key is null counts nothing.
BY_SIDE = "CASE WHEN grouping(library) = 0 THEN 'library' ELSE 'partner' END, coalesce(library, partner::text)"


HAVING_KEY = "HAVING (grouping(library) = 0 AND library IS NOT NULL) OR (grouping(partner) = 0 AND partner IS NOT NULL)"


def _statistics(shape: ScopeShape) -> sa.TextClause:
    """Rows of (`kind`, `side`, `key`, `a`, `b`, `c`): the libraries known in scope; per library and per offering
    partner the published courses not yet over (no session, or one still to come) and the places, free places and
    waiting list of their sessions still to come; the requests for tailored education awaiting an answer per
    library asked and per referrer; the budget year's budgets per library and what was bought from each partner
    (committed, spent)."""
    return scoped_text(
        f"""
        WITH c AS (SELECT id, library, offered_by_partner_id AS partner FROM courses
                    WHERE {scope(shape)} AND status = '{PUBLISHED}'),
             upcoming AS (SELECT s.course_id, s.capacity, s.confirmed_count, s.waitlisted_count
                            FROM sessions s JOIN c ON c.id = s.course_id
                           WHERE s.status = '{SCHEDULED}' AND s.ends_at > :now),
             counted AS (SELECT library, partner FROM c
                          WHERE NOT EXISTS (SELECT FROM sessions s WHERE s.course_id = c.id)
                             OR EXISTS (SELECT FROM upcoming u WHERE u.course_id = c.id)),
             places AS (SELECT c.library, c.partner, u.capacity, greatest(u.capacity - u.confirmed_count, 0) AS free,
                               u.waitlisted_count AS waiting
                          FROM upcoming u JOIN c ON c.id = u.course_id),
             asked AS (SELECT library, partner_id AS partner FROM education_requests
                        WHERE {scope(shape)} AND status = '{REQUESTED}')
        SELECT 'known' AS kind, 'library' AS side, slug AS key, NULL::bigint AS a, NULL::bigint AS b, NULL::bigint AS c
          FROM known_libraries WHERE {scope(shape, library_column="slug")}
        UNION ALL
        SELECT 'courses', {BY_SIDE}, count(*), NULL, NULL
          FROM counted GROUP BY GROUPING SETS ((library), (partner)) {HAVING_KEY}
        UNION ALL
        SELECT 'places', {BY_SIDE}, sum(capacity), sum(free), sum(waiting)
          FROM places GROUP BY GROUPING SETS ((library), (partner)) {HAVING_KEY}
        UNION ALL
        SELECT 'requests', {BY_SIDE}, count(*), NULL, NULL
          FROM asked GROUP BY GROUPING SETS ((library), (partner)) {HAVING_KEY}
        UNION ALL
        SELECT 'budget', 'library', library, amount_cents, committed_cents, spent_cents
          FROM budgets WHERE {scope(shape)} AND year = :year
        UNION ALL
        SELECT 'bought', 'partner', q.provider_partner_id::text,
               coalesce(sum(p.approved_amount_cents) FILTER (WHERE p.status IN {_sql_list(COMMITTED)}), 0),
               coalesce(sum(p.invoice_amount_cents) FILTER (WHERE p.status IN {_sql_list(SPENT)}), 0), NULL
          FROM purchases p JOIN purchase_quotes q ON q.id = p.chosen_quote_id
         WHERE {scope(shape, "p.")} AND p.budget_year = :year AND q.provider_partner_id IS NOT NULL
         GROUP BY q.provider_partner_id
        """,
        shape,
    )


def _partner_acts(shape: ScopeShape) -> sa.TextClause:
    """Rows of (`kind`, `partner_id`, `a`, `b`, `c`) for a period (`starts` inclusive, `ends` exclusive): per
    offering partner its courses hosted at a library with a session starting in the period and their confirmed
    places; per referrer its requests for tailored education made then (all, planned, declined) and the places its
    referrals took on the courses planned for them."""
    return scoped_text(
        f"""
        WITH run AS (SELECT c.id AS course_id, c.offered_by_partner_id AS partner, s.id AS session_id
                       FROM sessions s JOIN courses c ON c.id = s.course_id
                      WHERE {scope(shape, "c.")} AND c.offered_by_partner_id IS NOT NULL AND c.library IS NOT NULL
                        AND c.status <> '{CANCELLED}' AND s.status <> '{SESSION_CANCELLED}'
                        AND s.starts_at >= :starts AND s.starts_at < :ends),
             asked AS (SELECT partner_id, status, course_id FROM education_requests
                        WHERE {scope(shape)} AND created_at >= :starts AND created_at < :ends)
        SELECT 'courses' AS kind, partner AS partner_id, count(DISTINCT course_id) AS a, NULL::bigint AS b,
               NULL::bigint AS c
          FROM run GROUP BY partner
        UNION ALL
        SELECT 'enrolments', run.partner, count(e.id), NULL, NULL
          FROM run JOIN enrolments e ON e.session_id = run.session_id
         WHERE e.status = '{CONFIRMED}' GROUP BY run.partner
        UNION ALL
        SELECT 'requests', partner_id, count(*), count(*) FILTER (WHERE status = '{PLANNED}'),
               count(*) FILTER (WHERE status = '{DECLINED}')
          FROM asked GROUP BY partner_id
        UNION ALL
        SELECT 'places', r.partner_id, count(e.id), NULL, NULL
          FROM asked r JOIN enrolments e ON e.course_id = r.course_id
               JOIN known_referrals k ON k.id = e.referral_id AND k.referring_partner_id = r.partner_id
         WHERE r.status = '{PLANNED}' AND e.status = '{CONFIRMED}'
         GROUP BY r.partner_id
        """,
        shape,
    )


STATISTICS = prepared_per_scope("SELECT course figures", _statistics)
PARTNER_ACTS = prepared_per_scope("SELECT partners' course acts", _partner_acts)
