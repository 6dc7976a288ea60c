"""Who may do what in the partner network. Pure: the role is checked before anything is looked up, and
whatever lies outside the caller's scope answers like a missing thing (NotFound), so existence never leaks."""

from __future__ import annotations

from uuid import UUID

from shared.contracts.partners.api.organisations import PartnerChanges
from shared.errors import Forbidden, InvalidInput, NotFound
from shared.tenancy import API_KEY_SUBJECT_PREFIX, SUPPORT_SUBJECT_PREFIX, Actor, Role

# Contact details a partner keeps current itself; the rest of its record is the municipality's.
# A partner keeps its own contact details and decides itself what of it is published as open data.
SELF_SERVICE_FIELDS = frozenset({"addresses", "contacts", "skill_areas", "email", "phone", "website", "open_data"})


def check_may_register_tenant(actor: Actor) -> None:
    """Municipalities and libraries are the tenants: only the platform's operators create them."""
    actor.require(Role.OPERATOR)


def check_may_change_library(actor: Actor, library: str) -> None:
    """A library's own staff keep its general address (operators too); nobody else, not even its coordinator."""
    if actor.role is Role.OPERATOR or (actor.role is Role.STAFF and actor.library == library):
        return
    raise Forbidden(f"only the staff of library {library} change its address")


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


def check_may_update_partner(actor: Actor, partner_id: UUID, municipality: str, changes: PartnerChanges) -> None:
    """Staff and coordinators of the municipality keep its partners' records; a partner its contact details."""
    check_may_read_partner(actor, partner_id, municipality)
    if actor.role is Role.PARTNER:
        others = set(changes.touched()) - SELF_SERVICE_FIELDS
        if others:
            raise Forbidden(f"a partner may change its contact details, not {', '.join(sorted(others))}")


def check_role_may_change_partner_status(actor: Actor) -> None:
    """Suspending or ending a partner concerns every library of the municipality: its coordinator decides."""
    if actor.role not in (Role.OPERATOR, Role.COORDINATOR):
        raise Forbidden(f"{actor.role.value} may not change a partner's status; the municipality's coordinator may")


def check_may_change_partner_status(actor: Actor, partner_id: UUID, municipality: str) -> None:
    check_role_may_change_partner_status(actor)
    if actor.role is Role.COORDINATOR and actor.municipality != municipality:
        raise NotFound(f"partner {partner_id} not found")


def check_role_may_manage_partnerships(actor: Actor) -> None:
    if actor.role not in (Role.OPERATOR, Role.STAFF):
        raise Forbidden(f"{actor.role.value} may not create or change partnerships; the library's staff may")


def check_may_manage_partnership(actor: Actor, library: str) -> None:
    """A library's partnerships are made and kept by its own staff."""
    check_role_may_manage_partnerships(actor)
    if not actor.can_act_for_library(library):
        raise Forbidden(f"staff may only manage partnerships of their own library, not of {library}")


def may_see_partnership(actor: Actor, *, library: str, municipality: str, partner_id: UUID) -> bool:
    """The library that has it, the municipality's coordinator, and the partner itself."""
    if actor.role is Role.PARTNER:
        return actor.partner == str(partner_id)
    return actor.can_see_library(library, municipality)


def check_role_may_manage_subscriptions(actor: Actor) -> None:
    if actor.role not in (Role.OPERATOR, Role.PARTNER):
        raise Forbidden("a partner's subscriptions are its own: only the partner manages them")


def check_may_manage_subscriptions(actor: Actor, partner_id: UUID) -> None:
    """Webhooks and their delivery log: the partner itself (and the operators)."""
    check_role_may_manage_subscriptions(actor)
    if actor.role is Role.PARTNER and actor.partner != str(partner_id):
        raise NotFound(f"partner {partner_id} not found")


def check_may_change_subscriptions(actor: Actor, partner_id: UUID) -> None:
    """Registering, changing, removing a webhook or rotating its secret: as `check_may_manage_subscriptions`, and
    never with an API key (README: a partner's credentials are its own). A leaked key with `webhooks:write` could
    point the partner's deliveries, its whole feed, at a URL of its own, or take a webhook's secret. Reading
    webhooks and their deliveries, and sending a delivery again to the URL the partner registered, stay open to
    its keys."""
    if is_api_key(actor):
        raise Forbidden("webhooks and their secrets are managed with a person's token, not with an API key")
    check_may_manage_subscriptions(actor, partner_id)


def is_api_key(actor: Actor) -> bool:
    return actor.subject.startswith(API_KEY_SUBJECT_PREFIX)


def is_support(actor: Actor) -> bool:
    """An operator, in their own role or with a support token for the partner's (`partnernet token`)."""
    return actor.role is Role.OPERATOR or actor.subject.startswith(SUPPORT_SUBJECT_PREFIX)


def check_role_may_manage_credentials(actor: Actor) -> None:
    """API keys, NATS credentials and webhooks let one act as a partner or receive what only it reads: they are
    the partner's own. Its staff and the municipality's coordinators set partners up, but never mint a way to be
    one; an operator may, for support, with a reason (`support_reason`) that is recorded.

    Never with an API key: a key that could make keys could give itself every scope.
    """
    if is_api_key(actor):
        raise Forbidden("API keys and NATS credentials are managed with a person's token, not with an API key")
    if actor.role not in (Role.OPERATOR, Role.PARTNER):
        raise Forbidden(
            "a partner's credentials are its own: only the partner (or an operator, for support) issues or revokes them"
        )


def check_may_manage_credentials(actor: Actor, partner_id: UUID) -> None:
    """The partner itself and the operators; any other partner is told the partner does not exist."""
    check_role_may_manage_credentials(actor)
    if actor.role is Role.PARTNER and actor.partner != str(partner_id):
        raise NotFound(f"partner {partner_id} not found")


def support_reason(actor: Actor, reason: str | None) -> str | None:
    """The reason recorded with what an operator does to a partner's credentials; None for the partner itself.
    Support without a reason is refused: every such act must be explainable afterwards."""
    if not is_support(actor):
        return None
    if reason is None or not reason.strip():
        raise InvalidInput(
            "an operator manages a partner's credentials for support only, and says why (`support_reason`)"
        )
    return reason.strip()


def check_may_authenticate_keys(actor: Actor) -> None:
    """Only the platform (the gateway, as the system actor) asks whose a presented key is."""
    actor.require(Role.OPERATOR)
