"""Every task the API offers to staff, coordinators and partners has its page in the console (issue 20): each operation
a service declares for one of those roles is called by the console, or by the gateway module a console page shows
(the overview, the annual report, the participant's page), or is named below with where its task is done instead.

A new operation for these roles without a page fails here until it gets one or a reason; a reason whose operation
is gone, or is now called by the console after all, fails too, so the list below cannot go stale."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

from shared.operations import Operation
from shared.tenancy import Role

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("partners", "referrals", "volunteers", "courses")
PEOPLE = {Role.STAFF, Role.COORDINATOR, Role.PARTNER}
# The gateway modules whose pages the console shows as they are (they call the services for it).
SHOWN_BY_THE_CONSOLE = ("overview", "annual_report", "reports", "participant", "participant_html", "live")

# Operations whose task is done on a page that calls another operation, or that are no person's task at all.
ELSEWHERE = {
    "OPEN_DATA": "the public HSDS pages (gateway/hsds) read it; a partner chooses what is published on its own page",
    "PARTNERSHIP_HISTORY": "a partnership's changes show on its partner's history page (PARTNER_HISTORY holds both)",
    "GET_DELIVERY": "the webhook tools page lists each delivery with all that GET_DELIVERY answers",
    "EXPORT_PARTICIPANT_DATA": "the people page exports a person across all their referrals (EXPORT_PERSON)",
    "ERASE_PARTICIPANT_DATA": "the people page erases a person across all their referrals (ERASE_PERSON)",
    "GET_OPENING": "the assignments page shows each opening in full from LIST_OPENINGS and changes it there",
    "GET_PROVIDER_PURCHASE": "the quotes page shows a provider's purchases in full from LIST_PROVIDER_PURCHASES",
    "GET_EDUCATION_REQUEST": "the tailored-education page shows each request in full from LIST_EDUCATION_REQUESTS",
    "PUBLIC_CALENDAR": "the residents' public calendar (gateway/calendar) calls it, for residents, not staff",
    "REGISTER_RESIDENT": "a resident's sign-up on the public calendar (gateway/calendar)",
    "OPEN_REGISTRATION": "a resident's own registration page on the public calendar (gateway/calendar)",
    "TAKE_REGISTRATION_STEP": "a resident's buttons on their registration page (gateway/calendar)",
    "EXPORT_RESIDENT_DATA": "a resident's download on their registration page (gateway/calendar)",
}


def operations_for_people() -> dict[str, Operation[object, object]]:
    """Each operation declared for staff, coordinators or partners, by the name the code calls it by (from every
    module of the services' API contracts: a service may declare its operations in several)."""
    found: dict[str, Operation[object, object]] = {}
    for service in SERVICES:
        api = importlib.import_module(f"shared.contracts.{service}.api")
        for module in pkgutil.iter_modules(api.__path__, f"{api.__name__}."):
            for name, value in vars(importlib.import_module(module.name)).items():
                if isinstance(value, Operation) and value.roles & PEOPLE:
                    found[name] = value
    return found


def console_source() -> str:
    files = [*sorted((ROOT / "gateway" / "console").rglob("*.py"))]
    files += [ROOT / "gateway" / f"{module}.py" for module in SHOWN_BY_THE_CONSOLE]
    return "\n".join(path.read_text() for path in files)


def called(name: str, source: str) -> bool:
    return re.search(rf"\.{name}\b", source) is not None  # `ops.NAME`, as every page calls an operation


def test_every_operation_for_staff_coordinators_and_partners_has_a_page_or_a_reason() -> None:
    operations, source = operations_for_people(), console_source()
    assert len(operations) > 100, "the operations were found"  # 171 on 4 Dec 2026
    without = sorted(
        f"{op.service}.{op.name} ({name})"
        for name, op in operations.items()
        if not called(name, source) and name not in ELSEWHERE
    )
    assert without == [], f"operations for people with no console page: {without}"


def test_every_reason_names_an_operation_that_exists_and_has_no_page_of_its_own() -> None:
    operations, source = operations_for_people(), console_source()
    assert sorted(set(ELSEWHERE) - set(operations)) == []
    assert sorted(name for name in ELSEWHERE if called(name, source)) == []
