"""Who may change partners, partnerships, subscriptions and credentials: the role first, then the scope."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

import pytest

from services.partners.domain.access import (
    check_may_change_partner_status,
    check_may_manage_credentials,
    check_may_manage_partnership,
    check_may_manage_subscriptions,
    check_may_update_partner,
    may_see_partnership,
    support_reason,
)
from shared.contracts.partners.api.organisations import PartnerChanges
from shared.errors import Forbidden, InvalidInput, NotFound
from shared.tenancy import Actor, Role

PARTNER_ID = UUID("0190a000-0000-7000-8000-00000000000a")
OTHER_ID = UUID("0190a000-0000-7000-8000-00000000000b")
TOWN = "utrecht"

OPERATOR = Actor(subject="op", role=Role.OPERATOR)
COORDINATOR = Actor(subject="co", role=Role.COORDINATOR, municipality=TOWN)
COORDINATOR_ELSEWHERE = Actor(subject="co2", role=Role.COORDINATOR, municipality="amersfoort")
STAFF = Actor(subject="st", role=Role.STAFF, municipality=TOWN, library="centrale")
STAFF_OTHER_LIBRARY = Actor(subject="st3", role=Role.STAFF, municipality=TOWN, library="noord")
PARTNER = Actor(subject="pa", role=Role.PARTNER, partner=str(PARTNER_ID), municipality=TOWN)
OTHER_PARTNER = Actor(subject="pa2", role=Role.PARTNER, partner=str(OTHER_ID), municipality=TOWN)
PARTNER_KEY = Actor(subject="api-key:0190", role=Role.PARTNER, partner=str(PARTNER_ID), municipality=TOWN)


def outcome(check: Callable[..., Any], *args: Any) -> str:
    try:
        check(*args)
    except (Forbidden, NotFound) as exc:
        return type(exc).__name__
    return "allowed"


CONTACT_DETAILS = PartnerChanges(website="https://uwv.example", skill_areas=[])
RENAME = PartnerChanges(name="Nieuwe naam")
CLEAR_CONTACT_DETAILS = PartnerChanges(website=None, email=None, addresses=None)
CLEAR_KVK = PartnerChanges(chamber_of_commerce_number=None)  # clearing touches the field as setting does


@pytest.mark.parametrize(
    ("actor", "changes", "expected"),
    [
        (STAFF, RENAME, "allowed"),
        (COORDINATOR, RENAME, "allowed"),
        (COORDINATOR_ELSEWHERE, CONTACT_DETAILS, "NotFound"),
        (PARTNER, CONTACT_DETAILS, "allowed"),
        (PARTNER, RENAME, "Forbidden"),
        (OTHER_PARTNER, CONTACT_DETAILS, "NotFound"),
        (PARTNER, CLEAR_CONTACT_DETAILS, "allowed"),
        (PARTNER, CLEAR_KVK, "Forbidden"),
        (STAFF, CLEAR_KVK, "allowed"),
    ],
    ids=[
        "staff",
        "coordinator",
        "coordinator-elsewhere",
        "partner-contacts",
        "partner-renames",
        "other-partner",
        "partner-clears-contacts",
        "partner-clears-kvk",
        "staff-clears-kvk",
    ],
)
def test_who_may_update_a_partner(actor: Actor, changes: PartnerChanges, expected: str) -> None:
    assert outcome(check_may_update_partner, actor, PARTNER_ID, TOWN, changes) == expected


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        (OPERATOR, "allowed"),
        (COORDINATOR, "allowed"),
        (COORDINATOR_ELSEWHERE, "NotFound"),
        (STAFF, "Forbidden"),
        (PARTNER, "Forbidden"),
    ],
    ids=["operator", "coordinator", "coordinator-elsewhere", "staff", "the-partner-itself"],
)
def test_the_coordinator_suspends_and_ends_partners(actor: Actor, expected: str) -> None:
    assert outcome(check_may_change_partner_status, actor, PARTNER_ID, TOWN) == expected


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        (OPERATOR, "allowed"),
        (STAFF, "allowed"),
        (STAFF_OTHER_LIBRARY, "Forbidden"),
        (COORDINATOR, "Forbidden"),
        (PARTNER, "Forbidden"),
    ],
    ids=["operator", "its-staff", "staff-of-another-library", "coordinator", "partner"],
)
def test_a_library_s_own_staff_make_its_partnerships(actor: Actor, expected: str) -> None:
    assert outcome(check_may_manage_partnership, actor, "centrale") == expected


@pytest.mark.parametrize(
    ("actor", "visible"),
    [
        (OPERATOR, True),
        (COORDINATOR, True),
        (COORDINATOR_ELSEWHERE, False),
        (STAFF, True),
        (STAFF_OTHER_LIBRARY, False),
        (PARTNER, True),
        (OTHER_PARTNER, False),
    ],
    ids=["operator", "coordinator", "coordinator-elsewhere", "its-library", "another-library", "partner", "other"],
)
def test_who_sees_a_partnership(actor: Actor, visible: bool) -> None:
    assert may_see_partnership(actor, library="centrale", municipality=TOWN, partner_id=PARTNER_ID) is visible


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        (OPERATOR, "allowed"),
        (PARTNER, "allowed"),
        (OTHER_PARTNER, "NotFound"),
        (STAFF, "Forbidden"),
        (COORDINATOR, "Forbidden"),
    ],
    ids=["operator", "the-partner", "another-partner", "staff", "coordinator"],
)
def test_subscriptions_are_the_partners_own(actor: Actor, expected: str) -> None:
    assert outcome(check_may_manage_subscriptions, actor, PARTNER_ID) == expected


SUPPORT = Actor(subject="support:beheerder", role=Role.PARTNER, partner=str(PARTNER_ID), municipality=TOWN)


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        (OPERATOR, "allowed"),
        (PARTNER, "allowed"),
        (SUPPORT, "allowed"),
        (STAFF, "Forbidden"),
        (STAFF_OTHER_LIBRARY, "Forbidden"),
        (COORDINATOR, "Forbidden"),
        (COORDINATOR_ELSEWHERE, "Forbidden"),
        (OTHER_PARTNER, "NotFound"),
        (PARTNER_KEY, "Forbidden"),
    ],
    ids=[
        "operator",
        "the-partner",
        "support-token",
        "staff",
        "staff-other-library",
        "coordinator",
        "coordinator-elsewhere",
        "another-partner",
        "an-api-key",
    ],
)
def test_credentials_are_the_partners_own_and_issued_with_a_persons_token(actor: Actor, expected: str) -> None:
    """API keys, NATS credentials: nobody else mints a way to act as the partner (an operator for support)."""
    assert outcome(check_may_manage_credentials, actor, PARTNER_ID) == expected


@pytest.mark.parametrize(
    ("actor", "reason", "expected"),
    [
        (PARTNER, None, None),
        (PARTNER, "ignored", None),
        (OPERATOR, "ticket 12", "ticket 12"),
        (SUPPORT, "  ticket 13 ", "ticket 13"),
        (OPERATOR, None, "InvalidInput"),
        (OPERATOR, "   ", "InvalidInput"),
        (SUPPORT, None, "InvalidInput"),
    ],
)
def test_support_on_a_partners_credentials_says_why(actor: Actor, reason: str | None, expected: str | None) -> None:
    try:
        assert support_reason(actor, reason) == expected
    except InvalidInput:
        assert expected == "InvalidInput"
