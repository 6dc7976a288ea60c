"""Rules of the partner network: who may register what, and who may read a partner's feed. Pure: no I/O."""

from __future__ import annotations

from uuid import UUID

from shared.errors import Forbidden, NotFound
from shared.tenancy import Actor, Role


def check_may_register_tenant(actor: Actor) -> None:
    """Municipalities and libraries are the tenants: only the platform's operators create them."""
    actor.require(Role.OPERATOR)


def check_may_register_partner(actor: Actor, municipality: str) -> None:
    if actor.role is Role.OPERATOR:
        return
    if actor.role in (Role.COORDINATOR, Role.STAFF) and actor.municipality == municipality:
        return
    raise Forbidden(f"{actor.role.value} may not register partners in municipality {municipality}")


def check_may_read_partner(actor: Actor, partner_id: UUID, partner_municipality: str) -> None:
    """Partners' contact details are visible to the whole municipality; a partner sees only itself."""
    if actor.role is Role.OPERATOR:
        return
    if actor.role is Role.PARTNER and actor.partner == str(partner_id):
        return
    if actor.role in (Role.COORDINATOR, Role.STAFF) and actor.municipality == partner_municipality:
        return
    raise NotFound(f"partner {partner_id} not found")


def check_may_read_feed(actor: Actor, partner_id: UUID) -> None:
    """A feed is the partner's own: only that partner (and the operators) read it."""
    if actor.role is Role.OPERATOR or (actor.role is Role.PARTNER and actor.partner == str(partner_id)):
        return
    raise NotFound(f"partner {partner_id} not found")
