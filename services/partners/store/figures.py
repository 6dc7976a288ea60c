"""The overview's partner figures (issue 25): the libraries and partners in scope with their active partnerships
and the reviews due, in one prepared statement per scope shape on a direct connection (shared/db.py `Prepared`)
instead of a SQLAlchemy session and four statements."""

from __future__ import annotations

from typing import Literal

import sqlalchemy as sa

from shared.contracts.partners.api.partnerships import PartnershipStatus
from shared.db import Prepared

ACTIVE, ENDED = PartnershipStatus.ACTIVE.value, PartnershipStatus.ENDED.value

# Which partners: those of the municipality, those a library in scope has (had) a partnership with, or all.
PartnerScope = Literal["municipality", "library", "all"]
Shape = tuple[bool, bool, PartnerScope]  # the libraries by municipality, by slug; the partners
SHAPES: tuple[Shape, ...] = (
    *((True, slug, "municipality") for slug in (False, True)),
    *(
        (municipality, slug, partners)
        for municipality in (False, True)
        for slug in (False, True)
        for partners in ("library", "all")
    ),
)
PARTNERS: dict[PartnerScope, str] = {
    "municipality": "municipality = :municipality",
    "library": "id IN (SELECT s.partner_id FROM partnerships s JOIN lib ON lib.slug = s.library)",
    "all": "true",
}


def _statistics(shape: Shape) -> sa.TextClause:
    """Rows of (`side`, `key`, `municipality`, `name`, `kind`, `status`, `active`, `due`), the libraries by slug,
    then the partners by name: per library its active partnerships and those whose review date has come and was
    reminded of (not ended); per partner its active partnerships with the libraries in scope."""
    libraries = ["true"]
    if shape[0]:
        libraries.append("municipality = :municipality")
    if shape[1]:
        libraries.append("slug = :library")
    names = [name for name, present in zip(("municipality", "library"), shape[:2], strict=True) if present]
    return sa.text(
        f"""
        WITH lib AS (SELECT slug, municipality, name FROM libraries WHERE {" AND ".join(libraries)}),
             active AS (SELECT s.library, s.partner_id FROM partnerships s JOIN lib ON lib.slug = s.library
                         WHERE s.status = '{ACTIVE}'),
             due AS (SELECT s.library, count(*) AS n FROM partnerships s JOIN lib ON lib.slug = s.library
                      WHERE s.status <> '{ENDED}' AND s.review_reminded_for = s.review_on GROUP BY s.library)
        SELECT * FROM (
            SELECT 'library' AS side, lib.slug AS key, lib.municipality, lib.name, NULL::text AS kind,
                   NULL::text AS status, (SELECT count(*) FROM active a WHERE a.library = lib.slug) AS active,
                   coalesce(due.n, 0) AS due
              FROM lib LEFT JOIN due ON due.library = lib.slug
            UNION ALL
            SELECT 'partner', p.id::text, p.municipality, p.name, p.kind, p.status,
                   (SELECT count(*) FROM active a WHERE a.partner_id = p.id), 0
              FROM partners p WHERE {PARTNERS[shape[2]]}
        ) figures
        ORDER BY side, CASE WHEN side = 'partner' THEN name END, key
        """
    ).bindparams(*(sa.bindparam(name, type_=sa.Text) for name in names))


STATISTICS = {
    shape: Prepared(f"SELECT partner figures ({', '.join(map(str, shape))})", _statistics(shape)) for shape in SHAPES
}
