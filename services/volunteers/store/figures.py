"""The overview's volunteer figures (issue 25): each use case one prepared statement per scope shape on a direct
connection (shared/db.py `Prepared`), instead of a SQLAlchemy session and three or four statements.

The scope is a fixed condition on a table's `municipality` and `library` columns (a coordinator's municipality, a
staff member's library, an operator's choice): a statement per shape, so each uses its index."""

from __future__ import annotations

import sqlalchemy as sa

from shared.contracts.volunteers.api.vacancies import VacancyStatus
from shared.contracts.volunteers.api.volunteers import VolunteerStatus
from shared.contracts.volunteers.events import VolunteerKind
from shared.db import ScopeShape, prepared_per_scope, scoped_text
from shared.db import scope_condition as scope

ACTIVE, INTERN, PUBLISHED = VolunteerStatus.ACTIVE.value, VolunteerKind.INTERN.value, VacancyStatus.PUBLISHED.value


def _statistics(shape: ScopeShape) -> sa.TextClause:
    """Rows of (`kind`, `key`, `a`, `b`): the libraries known in scope; per library and per partner the people came
    through, the active volunteers (interns not included) and active interns; per library its published
    vacancies."""
    return scoped_text(
        f"""
        WITH people AS (SELECT library, via_partner_id,
                               count(*) FILTER (WHERE status = '{ACTIVE}' AND kind <> '{INTERN}') AS volunteers,
                               count(*) FILTER (WHERE status = '{ACTIVE}' AND kind = '{INTERN}') AS interns
                          FROM volunteers WHERE {scope(shape)} GROUP BY library, via_partner_id)
        SELECT 'known' AS kind, slug AS key, NULL::bigint AS a, NULL::bigint AS b
          FROM known_libraries WHERE {scope(shape, library_column="slug")}
        UNION ALL
        SELECT 'library', library, sum(volunteers)::bigint, sum(interns)::bigint FROM people GROUP BY library
        UNION ALL
        SELECT 'partner', via_partner_id::text, sum(volunteers)::bigint, sum(interns)::bigint
          FROM people WHERE via_partner_id IS NOT NULL GROUP BY via_partner_id
        UNION ALL
        SELECT 'vacancies', library, count(*), NULL FROM vacancies
         WHERE {scope(shape)} AND status = '{PUBLISHED}' GROUP BY library
        """,
        shape,
    )


def _partner_acts(shape: ScopeShape) -> sa.TextClause:
    """Rows of (`kind`, `partner_id`, `number`) for a period (`starts` inclusive, `ends` exclusive as moments;
    `first_day` to `last_day` as dates): per provider the sessions of its training modules starting then and the
    attendance recorded as attended; per school its interns whose internship ran for some of it and the minutes
    interns worked then."""
    return scoped_text(
        f"""
        WITH given AS (SELECT ts.id, m.provider_partner_id AS partner
                         FROM training_sessions ts JOIN training_modules m ON m.id = ts.module_id
                        WHERE {scope(shape, "ts.")} AND m.provider_partner_id IS NOT NULL
                          AND ts.starts_at >= :starts AND ts.starts_at < :ends)
        SELECT 'trainings_given' AS kind, partner AS partner_id, count(*) AS number FROM given GROUP BY partner
        UNION ALL
        SELECT 'training_attendances', g.partner, count(*)
          FROM given g JOIN attendance a ON a.session_id = g.id WHERE a.attended GROUP BY g.partner
        UNION ALL
        SELECT 'interns_supplied', i.school_partner_id, count(*)
          FROM internships i JOIN volunteers v ON v.id = i.volunteer_id
         WHERE {scope(shape, "v.")} AND i.starts_on <= :last_day AND coalesce(i.ended_on, i.ends_on) >= :first_day
         GROUP BY i.school_partner_id
        UNION ALL
        SELECT 'intern_minutes', i.school_partner_id, coalesce(sum(h.minutes), 0)
          FROM hours h JOIN internships i ON i.volunteer_id = h.volunteer_id JOIN volunteers v ON v.id = h.volunteer_id
         WHERE {scope(shape, "h.")} AND v.kind = '{INTERN}' AND h.removed_at IS NULL
           AND h.worked_on BETWEEN :first_day AND :last_day
         GROUP BY i.school_partner_id
        """,
        shape,
    )


STATISTICS = prepared_per_scope("SELECT volunteer figures", _statistics)
PARTNER_ACTS = prepared_per_scope("SELECT partners' volunteer acts", _partner_acts)
