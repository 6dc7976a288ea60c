"""Who sees and changes what (services/volunteers/domain/scope.py): roles before look-ups, scope as not found, the
supplying partner and the partnership role. Unit tests: no servers."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from services.volunteers.domain import scope
from shared.contracts.partners.api.partnerships import PartnershipRole
from shared.contracts.partners.events import PartnerKind
from shared.errors import Forbidden, InvalidInput, NotFound
from shared.tenancy import Actor, Role
from tests.services.volunteers.domain_support import Step

# --- scope --------------------------------------------------------------------------------------

STAFF_A = Actor(subject="s", role=Role.STAFF, municipality="zuidstad", library="bieb-a")
COORDINATOR = Actor(subject="c", role=Role.COORDINATOR, municipality="zuidstad")
ORGANISATION = UUID("01a226a7-0000-7000-8000-00000000000a")
PARTNER = Actor(subject="p", role=Role.PARTNER, municipality="zuidstad", partner=str(ORGANISATION))


def test_roles_are_checked_before_anything_is_looked_up() -> None:
    with pytest.raises(Forbidden):
        scope.check_may_manage(COORDINATOR)
    with pytest.raises(Forbidden):
        scope.check_may_manage(PARTNER)
    with pytest.raises(Forbidden):
        scope.check_may_take_step(PARTNER, Step.ACTIVATE)
    scope.check_may_take_step(PARTNER, Step.WITHDRAW)
    with pytest.raises(Forbidden):
        scope.library_for_new(STAFF_A, "bieb-b")
    assert scope.library_for_new(STAFF_A, None) == "bieb-a"
    with pytest.raises(Forbidden):
        scope.check_may_apply(PARTNER, "bieb-a", uuid4())
    assert scope.check_may_apply(PARTNER, "bieb-a", None) == ("bieb-a", ORGANISATION)


def test_out_of_scope_is_not_found_and_in_scope_but_read_only_is_forbidden() -> None:
    with pytest.raises(NotFound):
        scope.check_may_act(STAFF_A, "bieb-b", "zuidstad", "vacancy x")
    with pytest.raises(Forbidden):
        scope.check_may_act(COORDINATOR, "bieb-b", "zuidstad", "vacancy x")
    with pytest.raises(NotFound):
        scope.check_may_act_on_volunteer(PARTNER, "bieb-a", "zuidstad", uuid4(), "volunteer x")
    scope.check_may_act_on_volunteer(PARTNER, "bieb-a", "zuidstad", ORGANISATION, "volunteer x")


def test_only_own_staff_and_the_supplying_partner_see_the_person() -> None:
    assert scope.may_see_person(STAFF_A, "bieb-a", None)
    assert not scope.may_see_person(COORDINATOR, "bieb-a", None)
    assert scope.may_see_person(PARTNER, "bieb-a", ORGANISATION)
    assert not scope.may_see_person(PARTNER, "bieb-a", uuid4())


@pytest.mark.parametrize(
    ("supplier", "error"),
    [
        (None, InvalidInput),
        (scope.Supplier(ORGANISATION, PartnerKind.REFERRER, "zuidstad", "active", True), None),
        (scope.Supplier(ORGANISATION, PartnerKind.VOLUNTEER_ORGANISATION, "elders", "active", True), InvalidInput),
        (scope.Supplier(ORGANISATION, PartnerKind.VOLUNTEER_ORGANISATION, "zuidstad", "suspended", True), InvalidInput),
        (scope.Supplier(ORGANISATION, PartnerKind.VOLUNTEER_ORGANISATION, "zuidstad", "active", False), InvalidInput),
        (scope.Supplier(ORGANISATION, PartnerKind.VOLUNTEER_ORGANISATION, "zuidstad", "active", True), None),
    ],
    ids=["unknown", "another-kind-in-the-role", "other-municipality", "suspended", "no-partnership", "fine"],
)
def test_a_supplier_partners_with_the_library_in_good_standing(
    supplier: scope.Supplier | None, error: type[Exception] | None
) -> None:
    def check() -> None:
        scope.check_supplier(STAFF_A, ORGANISATION, supplier, "bieb-a", "zuidstad", PartnershipRole.VOLUNTEER_SUPPLIER)

    if error is None:
        check()
    else:
        with pytest.raises(error):
            check()


def test_the_partner_itself_is_told_it_may_not_rather_than_bad_input() -> None:
    no_partnership = scope.Supplier(ORGANISATION, PartnerKind.VOLUNTEER_ORGANISATION, "zuidstad", "active", False)
    with pytest.raises(Forbidden):
        scope.check_supplier(
            PARTNER, ORGANISATION, no_partnership, "bieb-a", "zuidstad", PartnershipRole.VOLUNTEER_SUPPLIER
        )
    with pytest.raises(NotFound):
        scope.check_supplier(PARTNER, ORGANISATION, None, "bieb-a", "zuidstad", PartnershipRole.VOLUNTEER_SUPPLIER)


def test_the_partnership_role_decides_who_supplies_interns_not_the_partner_kind() -> None:
    roc = scope.Supplier(ORGANISATION, PartnerKind.ADULT_EDUCATION_SCHOOL, "zuidstad", "active", True)
    school_without_the_role = scope.Supplier(
        ORGANISATION, PartnerKind.EDUCATIONAL_INSTITUTION, "zuidstad", "active", False
    )

    scope.check_supplier(STAFF_A, ORGANISATION, roc, "bieb-a", "zuidstad", PartnershipRole.INTERN_SUPPLIER)
    with pytest.raises(InvalidInput, match="as intern supplier"):
        scope.check_supplier(
            STAFF_A, ORGANISATION, school_without_the_role, "bieb-a", "zuidstad", PartnershipRole.INTERN_SUPPLIER
        )


def test_a_module_given_by_a_volunteer_organisation_still_asks_what_the_partner_is() -> None:
    roc = scope.Supplier(ORGANISATION, PartnerKind.ADULT_EDUCATION_SCHOOL, "zuidstad", "active", True)
    with pytest.raises(InvalidInput, match="is not a volunteer organisation"):
        scope.check_supplier(
            STAFF_A, ORGANISATION, roc, "bieb-a", "zuidstad", None, kind=PartnerKind.VOLUNTEER_ORGANISATION
        )


def test_a_school_may_end_its_own_interns_internship() -> None:
    scope.check_may_take_step(PARTNER, Step.END)
    with pytest.raises(Forbidden):
        scope.check_may_take_step(PARTNER, Step.START_SCREENING)


def test_a_partner_token_that_names_no_partner_owns_nothing() -> None:
    assert scope.partner_of(PARTNER) == ORGANISATION
    assert scope.partner_of(Actor(subject="p", role=Role.PARTNER, partner="not-a-uuid")) is None
    assert scope.partner_of(STAFF_A) is None
    with pytest.raises(Forbidden):
        scope.check_may_apply(Actor(subject="p", role=Role.PARTNER, partner="not-a-uuid"), "bieb-a", None)
