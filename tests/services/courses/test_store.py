"""The tables in store.py are the tables the migration made: the same columns, nullability and indexes."""

from __future__ import annotations

import sqlalchemy as sa

from services.courses import store
from tests.conftest import RunningPlatform


async def test_store_tables_match_the_migrated_schema(platform: RunningPlatform) -> None:
    async with platform.services["courses"].engine.connect() as conn:

        def inspect(sync_conn: sa.Connection) -> dict[str, tuple[dict[str, bool], set[str]]]:
            inspector = sa.inspect(sync_conn)
            return {
                name: (
                    {c["name"]: c["nullable"] for c in inspector.get_columns(name, schema="courses")},
                    {i["name"] for i in inspector.get_indexes(name, schema="courses") if i["name"]},
                )
                for name in store.metadata.tables
            }

        migrated = await conn.run_sync(inspect)
    for name, table in store.metadata.tables.items():
        columns, indexes = migrated[name]
        assert columns == {c.name: c.nullable for c in table.columns}, name
        assert indexes >= {i.name for i in table.indexes if i.name}, name
