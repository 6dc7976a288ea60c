"""The network as HSDS records, without servers (gateway/hsds/network.py, dataset.py): what a partner did not
agree to is left out, the places courses are held become locations once, each session a schedule, identifiers stay
the same from one build to the next, and the tabular package of it validates against the vendored HSDS schemas."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from gateway.hsds import dataset
from gateway.hsds.network import Network, build, flat, library_id
from shared.contracts.courses.api.courses import Location, Meeting
from shared.contracts.courses.api.public import PublicCalendarView, PublicLibrary, PublicSession
from shared.contracts.courses.events import Audience, CourseFormat, LocationKind
from shared.contracts.partners.api.open_data import OpenDataView, OpenLibrary, OpenPartner
from shared.contracts.partners.api.organisations import Address, OpenDataChoices
from shared.contracts.partners.events import PartnerKind
from shared.contracts.vocabulary import SkillArea
from tests.e2e.hsds_support import read_package, valid

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # winter: Dutch time is UTC+1
PARTNER = uuid.UUID("0190c0de-0000-7000-8000-000000000001")
SILENT_PARTNER = uuid.UUID("0190c0de-0000-7000-8000-000000000002")
BASE = "https://partnernet.example"


def partner(choices: OpenDataChoices, partner_id: uuid.UUID = PARTNER) -> OpenPartner:
    return OpenPartner(
        id=partner_id,
        name="Volksuniversiteit Zuidstad",
        kind=PartnerKind.FOLK_UNIVERSITY,
        skill_areas=[SkillArea.LANGUAGE],
        website="https://vu.example",
        email="info@vu.example" if choices.email else None,
        phone="030 123 4567" if choices.phone else None,
        addresses=[Address(street="Markt", house_number="1", postcode="3511 AB", city="Zuidstad")]
        if choices.addresses
        else [],
        choices=choices,
        updated_at=NOW,
    )


def session(
    course: int, number: int, *, location: Location, offered_by: uuid.UUID | None = None, price: int = 0
) -> PublicSession:
    start = NOW + timedelta(days=7 + number)
    return PublicSession(
        session_id=uuid.UUID(int=1000 + 10 * course + number),
        course_id=uuid.UUID(int=course),
        title=f"Cursus {course}",
        description="Samen oefenen.",
        skill_area=SkillArea.DIGITAL,
        audience=Audience.SENIORS,
        level=None,
        format=CourseFormat.IN_PERSON,
        price_cents=price,
        offered_by="x",
        library="bieb-a",
        library_name="Bibliotheek A",
        location=location,
        place=None,
        meetings=[
            Meeting(starts_at=start, ends_at=start + timedelta(hours=2)),
            Meeting(starts_at=start + timedelta(days=7), ends_at=start + timedelta(days=7, hours=2)),
        ],
        starts_at=start,
        ends_at=start + timedelta(days=7, hours=2),
        capacity=10,
        places_free=10,
        waiting_list=0,
        changed_at=NOW - timedelta(days=number),
        offered_by_partner_id=offered_by,
    )


BRANCH = Location(kind=LocationKind.LIBRARY_BRANCH, library="bieb-a", branch="Vestiging Oost")
ONLINE = Location(kind=LocationKind.ONLINE)
PREMISES = Location(kind=LocationKind.PARTNER_PREMISES, partner_id=PARTNER, address="Markt 1", place="Centrum")


def network(choices: OpenDataChoices, *sessions: PublicSession, silent: bool = False) -> Network:
    partners = [partner(choices)] if choices.publish else []
    view = OpenDataView(
        municipality="zuidstad",
        municipality_name="Zuidstad",
        libraries=[OpenLibrary(slug="bieb-a", name="Bibliotheek A", registered_at=NOW)],
        partners=partners,
    )
    calendar = PublicCalendarView(
        municipality="zuidstad",
        libraries=[PublicLibrary(slug="bieb-a", name="Bibliotheek A")],
        sessions=list(sessions),
        generated_at=NOW,
    )
    return build(view, calendar, BASE)


def every_record(built: Network) -> list[tuple[str, dict[str, Any]]]:
    return (
        [("organization", o) for o in built.organizations]
        + [("service", s) for s in built.services]
        + [("location", loc) for loc in built.locations]
        + [("service_at_location", a) for a in built.service_at_locations]
    )


def test_two_sessions_of_a_course_at_one_branch_are_one_service_at_one_location_with_two_schedules() -> None:
    built = network(OpenDataChoices(), session(1, 1, location=BRANCH), session(1, 2, location=BRANCH))
    (service,) = built.services
    (at_location,) = service["service_at_locations"]
    assert [s["id"] for s in at_location["schedules"]] == [str(uuid.UUID(int=1011)), str(uuid.UUID(int=1012))]
    assert at_location["location"]["name"] == "Bibliotheek A, Vestiging Oost"
    assert at_location["location"]["organization_id"] == library_id("bieb-a") == service["organization_id"]
    first = at_location["schedules"][0]
    assert (first["opens_at"], first["closes_at"], first["count"]) == ("10:00+01:00", "12:00+01:00", 2)
    assert first["valid_from"] == "2026-12-09" and first["valid_to"] == "2026-12-16"
    assert service["last_modified"] == "2026-11-30T09:00:00.000Z"  # the later of its sessions' changes
    for table, record in every_record(built):
        valid(record, table)


def test_a_partner_course_appears_only_where_the_partner_agreed_to_publish_its_courses() -> None:
    partner_course = session(2, 1, location=PREMISES, offered_by=PARTNER, price=1250)
    silent_course = session(3, 1, location=ONLINE, offered_by=SILENT_PARTNER)
    published = network(OpenDataChoices(publish=True), partner_course, silent_course)
    (service,) = published.services
    assert service["organization_id"] == str(PARTNER) and service["fees_description"] == "€ 12,50 per deelnemer."
    assert str(SILENT_PARTNER) not in str(every_record(published))
    assert network(OpenDataChoices(publish=True, courses=False), partner_course).services == []
    assert network(OpenDataChoices(publish=False), partner_course).services == []
    assert [o["name"] for o in network(OpenDataChoices(publish=False)).organizations] == ["Bibliotheek A"]


def test_a_partner_publishes_only_the_details_it_chose() -> None:
    everything = network(OpenDataChoices(publish=True))
    organization = everything.find("organizations", str(PARTNER))
    assert organization is not None
    assert organization["email"] == "info@vu.example" and organization["phones"][0]["number"] == "030 123 4567"
    (location,) = organization["locations"]
    assert location["addresses"][0]["postal_code"] == "3511 AB" and location["addresses"][0]["country"] == "NL"
    for table, record in every_record(everything):
        valid(record, table)
    little = network(OpenDataChoices(publish=True, addresses=False, email=False, phone=False))
    bare = little.find("organizations", str(PARTNER))
    assert bare is not None and "email" not in bare and bare["phones"] == [] and bare["locations"] == []
    assert bare["website"] == "https://vu.example" and bare["description"].startswith("Volksuniversiteit")


def test_an_online_course_is_at_a_virtual_location() -> None:
    built = network(OpenDataChoices(), session(4, 1, location=ONLINE))
    (location,) = built.locations
    assert location["location_type"] == "virtual"
    (schedule,) = built.service_at_locations[0]["schedules"]
    assert schedule["attending_type"] == "online"


def test_identifiers_stay_the_same_from_one_build_to_the_next() -> None:
    sessions = (session(1, 1, location=BRANCH), session(2, 1, location=PREMISES, offered_by=PARTNER))
    first, second = network(OpenDataChoices(publish=True), *sessions), network(OpenDataChoices(publish=True), *sessions)
    ids = [[r["id"] for _, r in every_record(built)] for built in (first, second)]
    assert ids[0] == ids[1] and len(set(ids[0])) == len(ids[0])
    assert [flat(r) for _, r in every_record(first)] == [flat(r) for _, r in every_record(second)]


def test_the_tabular_package_validates_against_the_hsds_schemas() -> None:
    built = network(
        OpenDataChoices(publish=True),
        session(1, 1, location=BRANCH),
        session(1, 2, location=BRANCH),
        session(2, 1, location=PREMISES, offered_by=PARTNER),
        session(4, 1, location=ONLINE),
    )
    package, tables, _ = read_package(dataset.package(built, NOW))
    assert package["name"] == "partnernet-zuidstad-hsds"
    assert {k: len(v) for k, v in tables.items()} == {
        "organization": 2,
        "service": 3,
        "service_at_location": 3,
        "location": 4,  # the partner's visiting address, the branch, the partner's premises, online
        "phone": 1,
        "address": 1,
        "schedule": 4,
    }
