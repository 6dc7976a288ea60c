"""Which library a request about one library's settings means (shared/tenancy.library_meant): the rule the
referral policy and the volunteers' retention policy both follow."""

from __future__ import annotations

import pytest

from shared.errors import Forbidden, InvalidInput, NotFound
from shared.tenancy import Actor, Role, library_meant

STAFF = Actor(subject="s", role=Role.STAFF, municipality="utrecht", library="utrecht-centrum")
COORDINATOR = Actor(subject="c", role=Role.COORDINATOR, municipality="utrecht")
OPERATOR = Actor(subject="o", role=Role.OPERATOR)
PARTNER = Actor(subject="p", role=Role.PARTNER, partner="6f1c2a5e-6a3b-4c1d-9e7f-0a1b2c3d4e5f")


def test_staff_mean_their_own_library_named_or_not() -> None:
    assert library_meant(STAFF, None, "a policy") == "utrecht-centrum"
    assert library_meant(STAFF, "utrecht-centrum", "a policy") == "utrecht-centrum"


def test_another_library_is_out_of_sight_for_staff() -> None:
    with pytest.raises(NotFound):
        library_meant(STAFF, "amersfoort", "a policy")


@pytest.mark.parametrize("actor", [COORDINATOR, OPERATOR])
def test_coordinators_and_operators_name_the_library(actor: Actor) -> None:
    assert library_meant(actor, "utrecht-centrum", "a policy") == "utrecht-centrum"
    with pytest.raises(InvalidInput, match="name the library"):
        library_meant(actor, None, "a policy")


def test_a_partner_is_refused_naming_what_it_asked_for() -> None:
    with pytest.raises(Forbidden, match="partner may not read a library's retention policy"):
        library_meant(PARTNER, "utrecht-centrum", "a library's retention policy")
