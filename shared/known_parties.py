"""What the referrals, courses and volunteers services keep of the partners service's libraries and partners, and
of their partnerships (`KnownPartnerships`; courses and volunteers with the partnership's terms).

One projection, the same in every service: each keeps `known_libraries` and `known_partners` in its own schema,
filled by five consumers of the partners service's events, so that it can check a library's municipality or
a partner's status (a suspended or ended partner takes part in nothing new) without asking the partners
service on the request path. The consumers are idempotent (the inbox) and tolerate any order: a partner's
status may arrive before its registration (separate consumers), and of two statuses the later one wins by
the time of its event, whichever is handled last.
"""

from __future__ import annotations

import logging
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts import Envelope
from shared.contracts.partners.api.organisations import PartnerStatus
from shared.contracts.partners.events import (
    LibraryRegistered,
    PartnerEnded,
    PartnerReactivated,
    PartnerRegistered,
    PartnershipActivated,
    PartnershipChanged,
    PartnershipEnded,
    PartnershipSuspended,
    PartnerSuspended,
)
from shared.service import ServiceRuntime
from shared.unit_of_work import Transaction

log = logging.getLogger(__name__)


class KnownParties:
    """The two tables in a service's metadata, their lookups, and the consumers that keep them."""

    def __init__(self, metadata: sa.MetaData) -> None:
        self.libraries = sa.Table(
            "known_libraries",
            metadata,
            sa.Column("slug", sa.Text, primary_key=True),
            sa.Column("municipality", sa.Text, nullable=False),
            sa.Column("name", sa.Text, nullable=False, server_default=""),
        )
        self.partners = sa.Table(
            "known_partners",
            metadata,
            sa.Column("id", sa.Uuid, primary_key=True),
            sa.Column("municipality", sa.Text, nullable=False),
            sa.Column("name", sa.Text, nullable=False, server_default=""),  # "" until partner.registered
            sa.Column("kind", sa.Text),  # a PartnerKind; None until partner.registered
            sa.Column("status", sa.Text, nullable=False, server_default=PartnerStatus.ACTIVE.value),
            sa.Column("status_changed_at", sa.DateTime(timezone=True)),  # the time of the status's event
        )

    def subscribe(self, runtime: ServiceRuntime) -> None:
        runtime.consume("known-libraries", LibraryRegistered, self.remember_library)
        runtime.consume("known-partners", PartnerRegistered, self.remember_partner)
        runtime.consume("partner-suspended", PartnerSuspended, self.partner_suspended)
        runtime.consume("partner-reactivated", PartnerReactivated, self.partner_reactivated)
        runtime.consume("partner-ended", PartnerEnded, self.partner_ended)

    # --- lookups ------------------------------------------------------------------------------------

    async def library_municipality(self, session: AsyncSession, slug: str | None) -> str | None:
        if slug is None:
            return None
        statement = sa.select(self.libraries.c.municipality).where(self.libraries.c.slug == slug)
        return (await session.execute(statement)).scalar_one_or_none()

    async def find_partner(self, session: AsyncSession, partner_id: UUID | None) -> sa.Row | None:
        if partner_id is None:
            return None
        return (await session.execute(sa.select(self.partners).where(self.partners.c.id == partner_id))).first()

    # --- the consumers ------------------------------------------------------------------------------

    async def remember_library(self, tx: Transaction, envelope: Envelope, event: LibraryRegistered) -> None:
        values = {"municipality": event.municipality, "name": event.name}
        await tx.session.execute(
            insert(self.libraries)
            .values(slug=event.library, **values)
            .on_conflict_do_update(index_elements=["slug"], set_=values)
        )

    async def remember_partner(self, tx: Transaction, envelope: Envelope, event: PartnerRegistered) -> None:
        # The status is left alone: a suspension handled by its own consumer may have come first.
        values = {"municipality": event.municipality, "name": event.name, "kind": event.kind.value}
        await tx.session.execute(
            insert(self.partners)
            .values(id=event.partner_id, **values)
            .on_conflict_do_update(index_elements=["id"], set_=values)
        )

    async def partner_suspended(self, tx: Transaction, envelope: Envelope, event: PartnerSuspended) -> None:
        await self._status(tx, envelope, event.partner_id, event.municipality, PartnerStatus.SUSPENDED)

    async def partner_reactivated(self, tx: Transaction, envelope: Envelope, event: PartnerReactivated) -> None:
        await self._status(tx, envelope, event.partner_id, event.municipality, PartnerStatus.ACTIVE)

    async def partner_ended(self, tx: Transaction, envelope: Envelope, event: PartnerEnded) -> None:
        await self._status(tx, envelope, event.partner_id, event.municipality, PartnerStatus.ENDED)

    async def _status(
        self, tx: Transaction, envelope: Envelope, partner_id: UUID, municipality: str, status: PartnerStatus
    ) -> None:
        p = self.partners
        statement = insert(p).values(
            id=partner_id, municipality=municipality, status=status.value, status_changed_at=envelope.time
        )
        await tx.session.execute(
            statement.on_conflict_do_update(
                index_elements=["id"],
                set_={"status": status.value, "status_changed_at": envelope.time},
                where=sa.or_(p.c.status_changed_at.is_(None), p.c.status_changed_at <= envelope.time),
            )
        )
        log.info("partner is %s", status.value, extra={"partner": str(partner_id)})


class KnownPartnerships:
    """A service's `known_partnerships`: which partner actively partners with which library (in which roles), from
    the partners service's `partnership.activated`, `.suspended` and `.ended`. Ended is a flag that stays, so the
    consumers may run in any order and an ended partnership stays ended; of an activation (or resumption) and a
    suspension, the later one wins by the time of its event, whichever is handled last (as a partner's status).
    A suspended partnership is not active: its partner acts in none of its roles for the library until resumed."""

    def __init__(self, metadata: sa.MetaData, *, terms: bool = False) -> None:
        # `terms`: keep the roles and what each side brings in (None until announced) as of the newest version of
        # the partnership's terms, and follow a running partnership's change of terms (`partnership.changed`): the
        # courses' and the volunteers' (a partner acts in a library's training only where its side brings it).
        self.terms = terms
        kept_terms = (
            [
                sa.Column("library_contributions", JSONB),
                sa.Column("partner_contributions", JSONB),
                sa.Column("terms_version", sa.Integer, nullable=False, server_default="0"),
            ]
            if terms
            else []
        )
        self.table = sa.Table(
            "known_partnerships",
            metadata,
            sa.Column("id", sa.Uuid, primary_key=True),
            sa.Column("partner_id", sa.Uuid, nullable=False),
            sa.Column("library", sa.Text, nullable=False),
            sa.Column("municipality", sa.Text, nullable=False),
            sa.Column("roles", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
            sa.Column("activated", sa.Boolean, nullable=False, server_default=sa.false()),
            sa.Column("ended", sa.Boolean, nullable=False, server_default=sa.false()),
            # The time of the newest activation or suspension applied, and of the end: since when it stopped.
            sa.Column("changed_at", sa.DateTime(timezone=True)),
            sa.Column("ended_at", sa.DateTime(timezone=True)),
            *kept_terms,
            sa.Index("known_partnerships_by_partner", "partner_id", "library"),
        )

    def subscribe(self, runtime: ServiceRuntime) -> None:
        runtime.consume("partnership-activated", PartnershipActivated, self.activated)
        runtime.consume("partnership-suspended", PartnershipSuspended, self.suspended)
        runtime.consume("partnership-ended", PartnershipEnded, self.ended)
        if self.terms:
            runtime.consume("partnership-changed", PartnershipChanged, self.changed)

    async def is_active(self, session: AsyncSession, partner_id: UUID, library: str) -> bool:
        p = self.table
        statement = sa.select(p.c.id).where(
            p.c.partner_id == partner_id, p.c.library == library, p.c.activated, sa.not_(p.c.ended)
        )
        return (await session.execute(statement.limit(1))).first() is not None

    async def activated(self, tx: Transaction, envelope: Envelope, event: PartnershipActivated) -> None:
        if not self.terms:
            await self._running(tx, envelope, event, activated=True, roles=list(event.roles))
            return
        # The roles are terms too: an activation older than a change of terms handled before it keeps the change's.
        await self._running(tx, envelope, event, activated=True)
        await self._terms(tx, event, event.library_contributions, event.partner_contributions)

    async def changed(self, tx: Transaction, envelope: Envelope, event: PartnershipChanged) -> None:
        """New terms of a running partnership; its activation may not have been handled yet (another consumer)."""
        await self._terms(tx, event, event.library_contributions, event.partner_contributions)

    async def _terms(
        self,
        tx: Transaction,
        event: PartnershipActivated | PartnershipChanged,
        library_contributions: list[str] | None,
        partner_contributions: list[str] | None,
    ) -> None:
        """The roles and what each side brings in, unless a later version of the partnership's terms is kept already.
        An activation from before contributions were announced (none in it) leaves those that are known."""
        p = self.table
        terms: dict[str, object] = {"roles": list(event.roles), "terms_version": event.partnership_version or 0}
        if library_contributions is not None and partner_contributions is not None:
            terms["library_contributions"] = list(library_contributions)
            terms["partner_contributions"] = list(partner_contributions)
        statement = insert(p).values(**self._row(event), **terms)
        newer = statement.excluded.terms_version >= p.c.terms_version
        await tx.session.execute(
            statement.on_conflict_do_update(
                index_elements=["id"],
                set_={name: sa.case((newer, getattr(statement.excluded, name)), else_=p.c[name]) for name in terms},
            )
        )

    async def suspended(self, tx: Transaction, envelope: Envelope, event: PartnershipSuspended) -> None:
        await self._running(tx, envelope, event, activated=False)

    async def ended(self, tx: Transaction, envelope: Envelope, event: PartnershipEnded) -> None:
        flags = {"ended": True, "ended_at": envelope.time}
        await tx.session.execute(
            insert(self.table)
            .values(**self._row(event), **flags)
            .on_conflict_do_update(index_elements=["id"], set_=flags)
        )

    async def _running(
        self,
        tx: Transaction,
        envelope: Envelope,
        event: PartnershipActivated | PartnershipSuspended,
        **flags: object,
    ) -> None:
        p = self.table
        flags = {**flags, "changed_at": envelope.time}
        await tx.session.execute(
            insert(p)
            .values(**self._row(event), **flags)
            .on_conflict_do_update(
                index_elements=["id"],
                set_=flags,
                where=sa.or_(p.c.changed_at.is_(None), p.c.changed_at <= envelope.time),
            )
        )

    @staticmethod
    def _row(
        event: PartnershipActivated | PartnershipSuspended | PartnershipEnded | PartnershipChanged,
    ) -> dict[str, object]:
        return {
            "id": event.partnership_id,
            "partner_id": event.partner_id,
            "library": event.library,
            "municipality": event.municipality,
        }
