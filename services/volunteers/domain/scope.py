"""Who may do and see what: library staff their own library, coordinators their municipality (read),
partners what they supplied. Roles are checked before anything is looked up; what is out of scope
answers like what does not exist (NotFound), a forbidden action answers Forbidden.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from shared.contracts.partners.api.partnerships import Contribution, PartnershipRole
from shared.contracts.partners.events import PartnerKind
from shared.contracts.volunteers.api.volunteers import VolunteerStep
from shared.errors import Forbidden, InvalidInput, NotFound
from shared.tenancy import Actor, Role

MANAGERS = (Role.STAFF, Role.OPERATOR)
READERS = (Role.STAFF, Role.COORDINATOR, Role.OPERATOR)
# What a supplying partner may do to someone it supplied: take an application back, and a school may end its own
# intern's internship (the pipeline decides which of these fits whom).
PARTNER_STEPS = frozenset({VolunteerStep.WITHDRAW, VolunteerStep.END})


def partner_of(actor: Actor) -> UUID | None:
    """The partner a partner's token speaks for; None for other roles or a claim that names no partner."""
    if actor.role is not Role.PARTNER or actor.partner is None:
        return None
    try:
        return UUID(actor.partner)
    except ValueError:
        return None


def acting(actor: Actor) -> str:
    """Who acted, as history and records keep it: a partner's person with the partner they acted for."""
    if actor.role is Role.PARTNER and actor.partner is not None:
        return f"partner:{actor.partner}:{actor.subject}"
    return actor.subject


def check_may_manage(actor: Actor) -> None:
    """Writes on a library's behalf: its staff (and operators); coordinators only read."""
    if actor.role not in MANAGERS:
        raise Forbidden(f"{actor.role.value} may not change volunteers' records")


def check_may_train(actor: Actor) -> None:
    """Training on a library's behalf: its staff (and operators), or a volunteer organisation that trains its
    volunteers (the use case checks that the partnership brings `training`)."""
    if actor.role not in MANAGERS and actor.role is not Role.PARTNER:
        raise Forbidden(f"{actor.role.value} may not change volunteers' training")


def check_may_read(actor: Actor, what: str) -> None:
    if actor.role not in READERS:
        raise Forbidden(f"{actor.role.value} may not read {what}")


def library_for_new(actor: Actor, library: str | None) -> str:
    """The library a new record belongs to: staff's own (the default), or the one an operator names."""
    if actor.role is Role.STAFF:
        if library is not None and library != actor.library:
            raise Forbidden(f"staff may only act for their own library, not for {library}")
        assert actor.library is not None
        return actor.library
    if actor.role is Role.OPERATOR:
        if library is None:
            raise InvalidInput("name the library")
        return library
    raise Forbidden(f"{actor.role.value} may not do this for a library")


def check_may_act(actor: Actor, library: str, municipality: str, what: str) -> None:
    """After the lookup: out of sight is NotFound; in sight but not theirs to change is Forbidden."""
    if not actor.can_see_library(library, municipality):
        raise NotFound(f"{what} not found")
    if not actor.can_act_for_library(library):
        raise Forbidden(f"{actor.role.value} may not change {what}")


def may_see(actor: Actor, library: str, municipality: str) -> bool:
    return actor.can_see_library(library, municipality)


def may_see_volunteer(actor: Actor, library: str, municipality: str, via_partner_id: UUID | None) -> bool:
    if actor.role is Role.PARTNER:
        return via_partner_id is not None and actor.partner == str(via_partner_id)
    return actor.can_see_library(library, municipality)


def may_see_person(actor: Actor, library: str, via_partner_id: UUID | None) -> bool:
    """Names and contact details: the library's own staff, and the partner who supplied the person."""
    if actor.role is Role.STAFF:
        return actor.library == library
    return actor.role is Role.PARTNER and via_partner_id is not None and actor.partner == str(via_partner_id)


# --- applications and interns -------------------------------------------------------------------


def check_may_apply(actor: Actor, library: str | None, via_partner_id: UUID | None) -> tuple[str | None, UUID | None]:
    """Before any lookup: a partner applies on its own behalf, staff for their own library.

    Returns the library (None: a partner names it) and the supplying partner, as far as the role decides.
    """
    if actor.role is Role.PARTNER:
        partner = partner_of(actor)
        if partner is None or (via_partner_id is not None and via_partner_id != partner):
            raise Forbidden("a partner applies only on its own behalf")
        if library is None:
            raise InvalidInput("name the library")
        return library, partner
    return library_for_new(actor, library), via_partner_id


def check_may_take_step(actor: Actor, step: VolunteerStep) -> None:
    if actor.role in MANAGERS:
        return
    if actor.role is Role.PARTNER and step in PARTNER_STEPS:
        return
    raise Forbidden(f"{actor.role.value} may not {step.value} a volunteer")


def check_may_act_on_volunteer(
    actor: Actor, library: str, municipality: str, via_partner_id: UUID | None, what: str
) -> None:
    if not may_see_volunteer(actor, library, municipality, via_partner_id):
        raise NotFound(f"{what} not found")
    if actor.role is not Role.PARTNER and not actor.can_act_for_library(library):
        raise Forbidden(f"{actor.role.value} may not change {what}")


@dataclass(frozen=True)
class Supplier:
    """A partner as this service knows it from the partners service's events."""

    partner_id: UUID
    kind: PartnerKind | None  # None until its registration arrived
    municipality: str | None
    status: str
    partners_with_library: bool  # in the role the supply needs


def check_supplier(
    actor: Actor,
    partner_id: UUID,
    supplier: Supplier | None,
    library: str,
    municipality: str,
    role: PartnershipRole | None,
    *,
    kind: PartnerKind | None = None,
    contribution: Contribution | None = None,
) -> None:
    """The supplier must partner with the library in that role (volunteer or intern supplier), and be in good
    standing. The partnership's role decides, not the partner's kind: an adult-education school (ROC), a folk
    university or a welfare organisation supplies interns or volunteers when its agreement with the library says so.

    Where what it is matters more than its agreement (a module given by a volunteer organisation), `kind` says so.
    The partner itself is told it may not (it knows who it is); staff naming a wrong partner get bad input.
    """
    partner_acts = actor.role is Role.PARTNER
    if supplier is None or supplier.kind is None or supplier.municipality != municipality:
        if partner_acts:
            raise NotFound(f"library {library} not found")
        raise InvalidInput(f"partner {partner_id} is not known in the library's municipality")
    if kind is not None and supplier.kind is not kind:
        error = Forbidden if partner_acts else InvalidInput
        raise error(f"partner {partner_id} is not a {kind.value.replace('_', ' ')}")
    if supplier.status != "active":
        error = Forbidden if partner_acts else InvalidInput
        raise error(f"partner {partner_id} is {supplier.status}")
    if not supplier.partners_with_library:
        error = Forbidden if partner_acts else InvalidInput
        in_role = f" as {role.value.replace('_', ' ')}" if role is not None else ""
        bringing = f" that brings {contribution.value}" if contribution is not None else ""
        raise error(f"partner {partner_id} has no active partnership with library {library}{in_role}{bringing}")
