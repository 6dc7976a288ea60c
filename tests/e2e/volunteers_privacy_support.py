"""What the volunteers' personal-data tests share: a person whose details occur nowhere else, and everything the
volunteers service stores, as text, to look for them in."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from tests.fixtures.platform import RunningPlatform

SCHEMA = "volunteers"


def unique_person(first: str, last: str) -> dict[str, Any]:
    """A person whose name and contact details occur nowhere else in the database."""
    tag = uuid.uuid4().hex[:6]
    return {
        "name": f"{first} {last}{tag}",
        "email": f"{first.lower()}.{tag}@Example.ORG",
        "phone": f"06{int(tag, 16) % 10**8:08d}",
    }


async def everything_stored(platform: RunningPlatform) -> str:
    """Every row of every table of the volunteers service (outbox included), as text."""
    async with platform.services["volunteers"].engine.connect() as conn:
        tables = (
            await conn.execute(
                sa.text("SELECT table_name FROM information_schema.tables WHERE table_schema = :s"), {"s": SCHEMA}
            )
        ).scalars()
        dumped: list[str] = []
        for table in list(tables):
            rows = await conn.execute(sa.text(f'SELECT row_to_json(t)::text FROM "{SCHEMA}"."{table}" t'))
            dumped.extend(rows.scalars())
    return "\n".join(dumped)
