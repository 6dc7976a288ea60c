"""Rules of the partner network without servers: who may register tenants and partners, and read them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

import pytest

from services.partners.domain import (
    check_may_read_feed,
    check_may_read_partner,
    check_may_register_partner,
    check_may_register_tenant,
)
from shared.errors import Forbidden, NotFound
from shared.tenancy import Actor, Role

PARTNER_ID = UUID("0190a000-0000-7000-8000-00000000000a")
OTHER_PARTNER_ID = UUID("0190a000-0000-7000-8000-00000000000b")
MUNICIPALITY = "utrecht"
ELSEWHERE = "amersfoort"

OPERATOR = Actor(subject="op", role=Role.OPERATOR)
COORDINATOR = Actor(subject="co", role=Role.COORDINATOR, municipality=MUNICIPALITY)
COORDINATOR_ELSEWHERE = Actor(subject="co2", role=Role.COORDINATOR, municipality=ELSEWHERE)
STAFF = Actor(subject="st", role=Role.STAFF, municipality=MUNICIPALITY, library="centrale")
STAFF_ELSEWHERE = Actor(subject="st2", role=Role.STAFF, municipality=ELSEWHERE, library="eemland")
PARTNER = Actor(subject="pa", role=Role.PARTNER, partner=str(PARTNER_ID), municipality=MUNICIPALITY)
OTHER_PARTNER = Actor(subject="pa2", role=Role.PARTNER, partner=str(OTHER_PARTNER_ID), municipality=MUNICIPALITY)


def outcome(check: Callable[..., None], *args: Any) -> str:
    """`allowed`, or the name of the error the check raised."""
    try:
        check(*args)
    except (Forbidden, NotFound) as exc:
        return type(exc).__name__
    return "allowed"


@pytest.mark.parametrize(
    ("actor", "expected"),
    [(OPERATOR, "allowed"), (COORDINATOR, "Forbidden"), (STAFF, "Forbidden"), (PARTNER, "Forbidden")],
    ids=["operator", "coordinator", "staff", "partner"],
)
def test_only_operators_register_municipalities_and_libraries(actor: Actor, expected: str) -> None:
    assert outcome(check_may_register_tenant, actor) == expected


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        (OPERATOR, "allowed"),
        (COORDINATOR, "allowed"),
        (COORDINATOR_ELSEWHERE, "Forbidden"),
        (STAFF, "allowed"),
        (STAFF_ELSEWHERE, "Forbidden"),
        (PARTNER, "Forbidden"),
    ],
    ids=["operator", "coordinator", "coordinator-elsewhere", "staff", "staff-elsewhere", "partner"],
)
def test_may_register_a_partner_in_the_municipality(actor: Actor, expected: str) -> None:
    assert outcome(check_may_register_partner, actor, MUNICIPALITY) == expected


def test_refusal_to_register_a_partner_names_role_and_municipality() -> None:
    with pytest.raises(Forbidden, match=f"coordinator may not register partners in municipality {MUNICIPALITY}"):
        check_may_register_partner(COORDINATOR_ELSEWHERE, MUNICIPALITY)


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        (OPERATOR, "allowed"),
        (COORDINATOR, "allowed"),
        (COORDINATOR_ELSEWHERE, "NotFound"),
        (STAFF, "allowed"),
        (STAFF_ELSEWHERE, "NotFound"),
        (PARTNER, "allowed"),
        (OTHER_PARTNER, "NotFound"),
    ],
    ids=[
        "operator",
        "coordinator",
        "coordinator-elsewhere",
        "staff",
        "staff-elsewhere",
        "the-partner-itself",
        "another-partner-of-the-municipality",
    ],
)
def test_may_read_a_partner(actor: Actor, expected: str) -> None:
    assert outcome(check_may_read_partner, actor, PARTNER_ID, MUNICIPALITY) == expected


def test_partner_out_of_scope_is_not_found_rather_than_forbidden_so_existence_does_not_leak() -> None:
    with pytest.raises(NotFound, match=f"partner {PARTNER_ID} not found"):
        check_may_read_partner(COORDINATOR_ELSEWHERE, PARTNER_ID, MUNICIPALITY)


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        (OPERATOR, "allowed"),
        (PARTNER, "allowed"),
        (OTHER_PARTNER, "NotFound"),
        (COORDINATOR, "NotFound"),
        (STAFF, "NotFound"),
    ],
    ids=["operator", "the-partner-itself", "another-partner", "coordinator", "staff"],
)
def test_only_the_partner_and_operators_read_its_feed(actor: Actor, expected: str) -> None:
    assert outcome(check_may_read_feed, actor, PARTNER_ID) == expected
