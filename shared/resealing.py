"""Key rotation's sweep, the same in every service that seals personal data: each sealed value of a column opened
and sealed again with the newest configured key (shared/personal_data.py: Sealer.reseal), batch after batch in key
order, each batch its own transaction with its rows locked. Then the older keys can go."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from shared.unit_of_work import UnitOfWork

BATCH = 500


async def reseal_column(
    work: UnitOfWork,
    reseal: Callable[[bytes], bytes],
    table: sa.Table,
    key: sa.Column[Any],
    column: sa.Column[Any],
    *,
    batch: int = BATCH,
) -> int:
    """Re-seal every non-null value of `column` (rows found by `key`, unique and ordered); how many."""
    resealed = 0
    last: Any = None
    while True:
        statement = sa.select(key, column).where(column.is_not(None)).order_by(key).limit(batch).with_for_update()
        if last is not None:
            statement = statement.where(key > last)
        async with work.transaction() as tx:
            rows = (await tx.session.execute(statement)).all()
            if rows:
                # One statement for the batch (asyncpg's executemany pipelines it), not a round trip a row: at 30,000
                # rows that was what kept a rotation past a loaded platform's RPC deadline.
                await tx.session.execute(
                    table.update().where(key == sa.bindparam("found")).values({column.name: sa.bindparam("resealed")}),
                    [{"found": found, "resealed": reseal(sealed)} for found, sealed in rows],
                )
        resealed += len(rows)
        if len(rows) < batch:
            return resealed
        last = rows[-1][0]
