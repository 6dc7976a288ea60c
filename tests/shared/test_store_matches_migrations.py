"""In every service, the tables its code uses are the tables its migrations made: columns, nullability, indexes.

The migrations are plain SQL and the code's tables are SQLAlchemy definitions; nothing else keeps the two in
step, so a column added to one and forgotten in the other fails here rather than in production.
"""

from __future__ import annotations

import importlib
import pkgutil

import pytest
import sqlalchemy as sa

from shared.db import kernel_metadata
from shared.messaging import SERVICES
from tests.fixtures.platform import RunningPlatform


def tables_of(service: str) -> dict[str, sa.Table]:
    """Every table defined in the service's modules (store.py and its siblings), plus the outbox and inbox."""
    package = importlib.import_module(f"services.{service}")
    tables = dict(kernel_metadata.tables)
    for module_info in pkgutil.walk_packages(package.__path__, f"services.{service}."):
        if module_info.name.endswith("__main__"):
            continue  # running it would start the service
        module = importlib.import_module(module_info.name)
        for value in vars(module).values():
            if isinstance(value, sa.Table):
                tables[value.name] = value
    return tables


@pytest.mark.parametrize("service", SERVICES)
async def test_code_tables_match_the_migrated_schema(platform: RunningPlatform, service: str) -> None:
    tables = tables_of(service)
    assert len(tables) > 2, "the service defines tables of its own"
    async with platform.services[service].engine.connect() as conn:

        def inspect(sync_conn: sa.Connection) -> dict[str, tuple[dict[str, bool], set[str]]]:
            inspector = sa.inspect(sync_conn)
            existing = set(inspector.get_table_names(schema=service))
            missing = set(tables) - existing
            assert not missing, f"tables in code but not migrated: {missing}"
            return {
                name: (
                    {c["name"]: c["nullable"] for c in inspector.get_columns(name, schema=service)},
                    {i["name"] for i in inspector.get_indexes(name, schema=service) if i["name"]},
                )
                for name in tables
            }

        migrated = await conn.run_sync(inspect)
    for name, table in tables.items():
        columns, indexes = migrated[name]
        assert columns == {c.name: c.nullable for c in table.columns}, f"{service}.{name}"
        assert indexes >= {i.name for i in table.indexes if i.name}, f"{service}.{name}"
