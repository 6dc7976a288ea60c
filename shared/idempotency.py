"""`Idempotency-Key` kept by the service: the key recorded in the same transaction as the change it causes.

The gateway's bucket (gateway/idempotency.py) answers a retry quickly, but it forgets a key after a 5xx: when
a service committed a change and its answer was lost on the way back (a broker that failed over, a gateway
killed, a reply later than the gateway's deadline), the gateway answered 503/504 and the client's retry with
the same key would apply the change again. So the key travels with the call (`RpcRequest.idempotency`) and
the service's RPC layer (shared/rpc/server.py) runs a call that carries one like this, in one transaction:

1. claim the key: insert its row (`idempotency_keys`, in the service's own schema). A concurrent call with the
   same key waits on the row until the first commits or rolls back, so two identical requests give one change;
2. a row that is already there: a retry. Its fingerprint must be the request's (else 422
   `idempotency-key-reused`), and its stored reply is the answer, without running the use case again;
3. run the use case inside the transaction: its `work.transaction()`, `work.statements()`, `work.read()` and
   `work.direct()` join it (shared/unit_of_work.py, each write block a savepoint), so the change and the key
   commit together or not at all;
4. store the reply on the row and commit. A use case that fails with a typed error (4xx) records no key: what
   its own blocks committed stays committed, as without a key, and a retry runs it again.

A key is per actor: the row's name is a hash of the actor (role, subject, municipality, library, partner), the
key and the call's number, so another actor sending the same key (an attacker who learnt it) claims a row of
its own and never sees the first actor's reply. The table never holds the key: the reply may hold personal
data (a participant's name echoed back, a freshly issued API key), so it is sealed (Fernet) with a key derived
(HKDF) from the actor and the Idempotency-Key, which only the caller knows; the fingerprint is keyed the same
way. Keys should be random (a UUID), as the IETF draft asks: a guessable key is only as secret as it is long.

Rows are pruned after `PARTNERNET_IDEMPOTENCY_RETENTION_HOURS` (24 by default, as the gateway's bucket),
a batch per transaction, by the service's plumbing sweep (shared/retention.py). A retry later than that runs
again as a new request.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.clock import Clock
from shared.db import kernel_metadata
from shared.errors import IdempotencyKeyReused
from shared.rpc.envelope import Idempotency
from shared.tenancy import Actor
from shared.unit_of_work import ambient_transaction

idempotency_keys = sa.Table(
    "idempotency_keys",
    kernel_metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("library", sa.Text, nullable=True),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("operation", sa.Text, nullable=False),
    sa.Column("fingerprint", sa.Text, nullable=False),
    sa.Column("reply", sa.LargeBinary, nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("idempotency_keys_by_age", "created_at"),
)

PRUNE_KEYS = sa.text(
    "DELETE FROM idempotency_keys WHERE name IN ("
    " SELECT name FROM idempotency_keys WHERE created_at < :before ORDER BY created_at LIMIT :batch"
    " FOR UPDATE SKIP LOCKED)"
)


def actor_scope(actor: Actor) -> str:
    return "\x00".join(
        (actor.role.value, actor.subject, actor.municipality or "", actor.library or "", actor.partner or "")
    )


@dataclass(frozen=True)
class KeyEntry:
    """One call's row: its name, and the keys that seal its reply and its fingerprint."""

    name: str
    fingerprint: str
    seal: Fernet

    @classmethod
    def derive(cls, actor: Actor, operation: str, idempotency: Idempotency) -> KeyEntry:
        material = f"{actor_scope(actor)}\x00{idempotency.key}\x00{idempotency.call}".encode()
        info = b"partnernet rpc idempotency v1\x00" + material
        keys = HKDF(algorithm=hashes.SHA256(), length=64, salt=None, info=info).derive(material)
        request = f"{operation}\x00{idempotency.request}".encode()
        return cls(
            name=hashlib.sha256(material).hexdigest(),
            fingerprint=hmac.new(keys[:32], request, hashlib.sha256).hexdigest(),
            seal=Fernet(base64.urlsafe_b64encode(keys[32:])),
        )


class ReplyStore:
    """The service's side of `Idempotency-Key`: a call run once per key, its reply kept with its change."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self.sessions = sessions
        self.clock = clock

    async def once(
        self,
        operation: str,
        actor: Actor,
        idempotency: Idempotency,
        run: Callable[[], Awaitable[Any]],
        encode: Callable[[Any], bytes],
    ) -> bytes:
        """The encoded reply of `run()`, run in one transaction with the key's row; or the first call's reply."""
        entry = KeyEntry.derive(actor, operation, idempotency)
        async with self.sessions() as session:
            try:
                claimed = await session.execute(
                    insert(idempotency_keys)
                    .values(
                        name=entry.name,
                        library=actor.library,
                        actor=actor.subject,
                        operation=operation,
                        fingerprint=entry.fingerprint,
                        created_at=self.clock.now(),
                    )
                    .on_conflict_do_nothing(index_elements=["name"])
                    .returning(idempotency_keys.c.name)
                )
                if claimed.first() is None:  # a retry: the first call committed (a call in flight was waited for)
                    reply = await self._stored(session, entry)
                    await session.rollback()
                    return reply
                try:
                    with ambient_transaction(session):
                        result = await run()
                except Exception:
                    # No key is recorded for a failed call; what its own blocks committed stays, as without a key.
                    await self._give_up(session, entry)
                    raise
                reply = encode(result)
                await session.execute(
                    idempotency_keys.update()
                    .where(idempotency_keys.c.name == entry.name)
                    .values(reply=entry.seal.encrypt(reply))
                )
                await session.commit()
                return reply
            except BaseException:
                await session.rollback()
                raise

    async def _stored(self, session: AsyncSession, entry: KeyEntry) -> bytes:
        row = (
            await session.execute(
                sa.select(idempotency_keys.c.fingerprint, idempotency_keys.c.reply).where(
                    idempotency_keys.c.name == entry.name
                )
            )
        ).first()
        if row is None or row.reply is None:  # pruned between the two statements: as good as never used
            raise IdempotencyKeyReused("the answer to the first request with this Idempotency-Key is gone")
        if not hmac.compare_digest(row.fingerprint, entry.fingerprint):
            raise IdempotencyKeyReused("this Idempotency-Key was already used with a different request")
        try:
            return entry.seal.decrypt(row.reply)
        except InvalidToken as exc:
            raise IdempotencyKeyReused("the answer to the first request with this Idempotency-Key is gone") from exc

    async def _give_up(self, session: AsyncSession, entry: KeyEntry) -> None:
        try:
            await session.execute(idempotency_keys.delete().where(idempotency_keys.c.name == entry.name))
            await session.commit()
        except Exception:  # the transaction itself failed (a database error): nothing of it stays
            await session.rollback()
