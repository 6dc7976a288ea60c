"""The SQL of the partnerships this service keeps (`known_partnerships`, from the partners service's events)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.volunteers.store import known_partnerships


async def remember_terms(
    session: AsyncSession,
    *,
    partnership_id: UUID,
    partner_id: UUID,
    library: str,
    municipality: str,
    roles: list[str],
    partner_contributions: list[str] | None,
    version: int | None,
    activated: bool | None = None,
) -> None:
    """The partnership's roles and what the partner brings in, unless a later version of them is kept already
    (activation and a change of terms arrive on separate consumers, in either order). `activated` sets that flag
    whatever the version: a resumption after a change of terms still counts. An event without contributions (from
    before they were announced) keeps those known."""
    p = known_partnerships
    values: dict[str, Any] = {
        "id": partnership_id,
        "partner_id": partner_id,
        "library": library,
        "municipality": municipality,
        "roles": roles,
        "partner_contributions": partner_contributions or [],
        "terms_version": version or 0,
    }
    if activated is not None:
        values["activated"] = activated
    statement = insert(p).values(**values)
    newer = statement.excluded.terms_version >= p.c.terms_version
    terms = {
        "roles": statement.excluded.roles,
        "terms_version": statement.excluded.terms_version,
        **(
            {"partner_contributions": statement.excluded.partner_contributions}
            if partner_contributions is not None
            else {}
        ),
    }
    update: dict[str, Any] = {name: sa.case((newer, value), else_=getattr(p.c, name)) for name, value in terms.items()}
    if activated is not None:
        update["activated"] = statement.excluded.activated
    await session.execute(statement.on_conflict_do_update(index_elements=["id"], set_=update))
