"""A municipality's network as Open Referral HSDS 3.2 records (organizations, services, locations, addresses,
phones, schedules, service_at_locations), built from what the partners service publishes (its libraries and the
partners that agreed, as they agreed) and the public course calendar of the courses service.

How partnernet maps onto HSDS:
- organization: each library of the municipality, and each active partner that chose to publish;
- service: each published course open to residents with a session to come (the public calendar's own choice,
  so never a course for partners' staff), offered by its library, or by its partner where that partner agreed
  to publish its courses (a partner that did not: its courses are left out);
- location: a partner's visiting address (where it agreed to publish its addresses), and the place each course
  is held (a library branch, the partner's premises, elsewhere, or online);
- service_at_location: a course at the place it is held; schedule: each session of a course, with its meetings.

Identifiers are HSDS's UUIDs: a partner's and a course's own, a session's own for its schedule, and for what has
none of its own (a library, a place, an address, a phone) a name-based UUID (RFC 4122 version 5) of what it is,
so the same thing keeps its identifier from one download to the next. Nothing here names a person: a partner's
contact people, participants and residents are never part of it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from babel.dates import get_day_names

from shared.clock import LOCAL_TIME
from shared.contracts.courses.api.public import PublicCalendarView, PublicSession
from shared.contracts.courses.events import LocationKind
from shared.contracts.partners.api.open_data import OpenDataView, OpenPartner
from shared.contracts.partners.events import PartnerKind

HSDS_VERSION = "3.2"
SCHEMA_BASE = "https://raw.githubusercontent.com/openreferral/specification/refs/heads/3.2/schema/"
PROFILE = "https://docs.openreferral.org/en/latest/hsds/"
NAMESPACE = uuid.UUID("5b0c1f0e-4c1d-5c8e-9a53-70617274656e")  # partnernet's own names for what has no UUID

KINDS = {
    PartnerKind.REFERRER: "doorverwijzer",
    PartnerKind.ADULT_EDUCATION_SCHOOL: "volwassenenonderwijs",
    PartnerKind.FOLK_UNIVERSITY: "volksuniversiteit",
    PartnerKind.VOLUNTEER_ORGANISATION: "vrijwilligersorganisatie",
    PartnerKind.EDUCATIONAL_INSTITUTION: "onderwijsinstelling",
    PartnerKind.COURSE_PROVIDER: "cursusaanbieder",
    PartnerKind.OTHER: "partner",
}
SKILLS = {"language": "taal", "digital": "digitale vaardigheden", "numeracy": "rekenen", "job_seeking": "werk zoeken"}
AUDIENCES = {
    "job_seekers": "Voor werkzoekenden.",
    "seniors": "Voor senioren.",
    "newcomers": "Voor nieuwkomers.",
    "parents": "Voor ouders.",
    "youth": "Voor jongeren.",
    "general_public": "Voor iedereen.",
}
WEEKDAYS = [get_day_names("abbreviated", locale="nl")[day] for day in range(7)]  # ma, di, … zo (Babel's)


def named(*parts: object) -> str:
    return str(uuid.uuid5(NAMESPACE, "/".join(str(p) for p in parts)))


def library_id(slug: str) -> str:
    return named("library", slug)


def timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def local_clock(moment: datetime) -> str:
    """HH:MM with the offset from UTC, as HSDS's opens_at and closes_at ask."""
    local = moment.astimezone(LOCAL_TIME)
    offset = local.strftime("%z")
    return f"{local:%H:%M}{offset[:3]}:{offset[3:]}"


def flat(record: dict[str, Any]) -> dict[str, Any]:
    """A record's one-to-one fields only, as HSDS's list endpoints give them."""
    return {key: value for key, value in record.items() if not isinstance(value, list | dict)}


@dataclass
class Network:
    """Every record of a municipality's open data, each as its fully nested HSDS form, in a stable order."""

    municipality: str
    municipality_name: str
    organizations: list[dict[str, Any]] = field(default_factory=list)
    services: list[dict[str, Any]] = field(default_factory=list)
    locations: list[dict[str, Any]] = field(default_factory=list)
    service_at_locations: list[dict[str, Any]] = field(default_factory=list)
    generated_at: datetime | None = None

    def find(self, kind: str, record_id: str) -> dict[str, Any] | None:
        return next((r for r in getattr(self, kind) if r["id"] == record_id), None)


def _address(location_id: str, street: str, number: str, postcode: str, city: str) -> dict[str, Any]:
    return {
        "id": named("address", location_id),
        "location_id": location_id,
        "address_1": f"{street} {number}",
        "city": city,
        "state_province": "",  # required by HSDS; a Dutch address names no province, and partnernet knows none
        "postal_code": postcode,
        "country": "NL",
        "address_type": "physical",
    }


def _phone(owner: str, number: str, **links: str) -> dict[str, Any]:
    return {"id": named("phone", owner, number), **links, "number": number, "type": "voice"}


def _partner_organization(partner: OpenPartner) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    org_id = str(partner.id)
    works_on = ", ".join(SKILLS.get(area.value, area.value) for area in partner.skill_areas)
    description = KINDS.get(partner.kind, "partner").capitalize()
    if works_on:
        description += f"; werkt aan basisvaardigheden: {works_on}"
    organization: dict[str, Any] = {"id": org_id, "name": partner.name, "description": description + "."}
    if partner.email:
        organization["email"] = partner.email
    if partner.website:
        organization["website"] = partner.website
    locations = []
    for address in partner.addresses:
        location_id = named("partner-address", org_id, address.street, address.house_number, address.postcode)
        locations.append(
            {
                "id": location_id,
                "location_type": "physical",
                "organization_id": org_id,
                "name": partner.name,
                "addresses": [
                    _address(location_id, address.street, address.house_number, address.postcode, address.city)
                ],
            }
        )
    organization["phones"] = [_phone(org_id, partner.phone, organization_id=org_id)] if partner.phone else []
    return organization, locations


def _course_location(session: PublicSession, org_id: str, org_name: str) -> dict[str, Any]:
    where = session.location
    if where.kind is LocationKind.ONLINE:
        return {
            "id": named("online", org_id),
            "location_type": "virtual",
            "organization_id": org_id,
            "name": f"{org_name}: online",
        }
    if where.kind is LocationKind.LIBRARY_BRANCH:
        library = where.library or session.library or ""
        name = ", ".join(p for p in (session.library_name, where.branch) if p) or org_name
        location: dict[str, Any] = {
            "id": named("branch", library, where.branch or ""),
            "location_type": "physical",
            "organization_id": library_id(library) if library else org_id,
            "name": name,
        }
    else:
        name = where.place or where.address or org_name
        location = {
            "id": named("place", org_id, where.address or "", where.place or ""),
            "location_type": "physical",
            "organization_id": org_id,
            "name": name,
        }
    description = ", ".join(p for p in (where.address, where.place) if p)
    if description:
        location["description"] = description
    return location


def _schedule(session: PublicSession, service_id: str, session_url: str) -> dict[str, Any]:
    first, last = session.meetings[0], session.meetings[-1]
    days = [
        f"{WEEKDAYS[m.starts_at.astimezone(LOCAL_TIME).weekday()]} "
        f"{m.starts_at.astimezone(LOCAL_TIME):%d-%m-%Y %H:%M}–{m.ends_at.astimezone(LOCAL_TIME):%H:%M}"
        for m in session.meetings
    ]
    count = len(session.meetings)
    return {
        "id": str(session.session_id),
        "service_id": service_id,
        "valid_from": f"{first.starts_at.astimezone(LOCAL_TIME):%Y-%m-%d}",
        "valid_to": f"{last.ends_at.astimezone(LOCAL_TIME):%Y-%m-%d}",
        "dtstart": f"{first.starts_at.astimezone(LOCAL_TIME):%Y-%m-%d}",
        "until": f"{last.starts_at.astimezone(LOCAL_TIME):%Y-%m-%d}",
        "count": count,
        "opens_at": local_clock(first.starts_at),
        "closes_at": local_clock(first.ends_at),
        "description": f"{count} {'bijeenkomst' if count == 1 else 'bijeenkomsten'}: " + "; ".join(days),
        "schedule_link": session_url,
        "attending_type": "online" if session.location.kind is LocationKind.ONLINE else "op locatie",
    }


def _fees(price_cents: int) -> str:
    if price_cents == 0:
        return "Gratis."
    euros, cents = divmod(price_cents, 100)
    return f"€ {euros},{cents:02d} per deelnemer."


def build(partners: OpenDataView, calendar: PublicCalendarView | None, base_url: str) -> Network:
    """`calendar` is None where the courses service knows no library of the municipality yet (no courses)."""
    network = Network(municipality=partners.municipality, municipality_name=partners.municipality_name)
    organizations: dict[str, dict[str, Any]] = {}
    locations: dict[str, dict[str, Any]] = {}
    for library in partners.libraries:
        organizations[library_id(library.slug)] = {
            "id": library_id(library.slug),
            "name": library.name,
            "description": f"Openbare bibliotheek in {partners.municipality_name}.",
            "phones": [],
        }
    publishing = {}
    for partner in partners.partners:
        organization, its_locations = _partner_organization(partner)
        organizations[organization["id"]] = organization
        for location in its_locations:
            locations[location["id"]] = location
        publishing[partner.id] = partner
    services: dict[str, dict[str, Any]] = {}
    at_locations: dict[str, dict[str, Any]] = {}
    sessions = calendar.sessions if calendar is not None else []
    for session in sessions:
        if session.offered_by_partner_id is not None:
            offering = publishing.get(session.offered_by_partner_id)
            if offering is None or not offering.choices.courses:
                continue  # the partner did not agree to publish its courses
            org_id = str(offering.id)
        elif session.library is not None:
            org_id = library_id(session.library)
        else:
            continue
        if org_id not in organizations:
            continue  # not an organization published here
        org_name = organizations[org_id]["name"]
        service_id = str(session.course_id)
        session_url = f"{base_url}/m/{partners.municipality}/courses/{session.session_id}"
        service = services.get(service_id)
        if service is None:
            description = " ".join(
                p
                for p in (
                    session.description.strip(),
                    f"Onderwerp: {SKILLS.get(session.skill_area.value, session.skill_area.value)}.",
                    f"Niveau: {session.level}." if session.level else "",
                )
                if p
            )
            service = {
                "id": service_id,
                "organization_id": org_id,
                "name": session.title,
                "description": description,
                "url": session_url,
                "status": "active",
                "fees_description": _fees(session.price_cents),
                "eligibility_description": AUDIENCES.get(session.audience.value, ""),
                "application_process": "Aanmelden via de cursuskalender van de bibliotheek (de link bij elke "
                "bijeenkomst), of via een doorverwijzer.",
                "last_modified": timestamp(session.changed_at),
                "service_at_locations": [],
            }
            services[service_id] = service
        elif timestamp(session.changed_at) > service["last_modified"]:
            service["last_modified"] = timestamp(session.changed_at)
        location = _course_location(session, org_id, org_name)
        locations.setdefault(location["id"], location)
        at_id = named("service-at-location", service_id, location["id"])
        at_location = at_locations.get(at_id)
        if at_location is None:
            at_location = {"id": at_id, "service_id": service_id, "location_id": location["id"], "schedules": []}
            at_locations[at_id] = at_location
            service["service_at_locations"].append(at_location)
        # Each session is held at one place: its schedule belongs to the course at that place (HSDS's
        # service_at_location), naming the course and the place too.
        schedule = _schedule(session, service_id, session_url)
        at_location["schedules"].append({**schedule, "service_at_location_id": at_id, "location_id": location["id"]})
    for organization in organizations.values():
        its_id = organization["id"]
        organization["locations"] = [loc for loc in locations.values() if loc.get("organization_id") == its_id]
    for at_location in at_locations.values():
        at_location["location"] = locations[at_location["location_id"]]
    for service in services.values():
        service["organization"] = flat(organizations[service["organization_id"]])
    network.organizations = sorted(organizations.values(), key=lambda o: (o["name"], o["id"]))
    network.services = sorted(services.values(), key=lambda s: (s["name"], s["id"]))
    network.locations = sorted(locations.values(), key=lambda loc: (loc.get("name", ""), loc["id"]))
    network.service_at_locations = sorted(at_locations.values(), key=lambda a: (a["service_id"], a["id"]))
    network.generated_at = calendar.generated_at if calendar is not None else None
    return network
