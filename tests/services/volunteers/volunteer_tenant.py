"""A tenant ready for volunteering: the volunteers service knows its libraries, a volunteer organisation
and a school that partner with library A (as volunteer and intern supplier), and a volunteer organisation
that partners with no library. All of it through the gateway; the volunteers service learns it from the
partners service's events. Events of the courses service are published as real envelopes on JetStream.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import httpx
import msgspec
import nats
import sqlalchemy as sa

from services.volunteers import store
from services.volunteers.store import referrals
from shared.clock import local_today
from shared.contracts import Envelope, EventData, nats_subject
from shared.contracts.courses.events import CoursePublished
from shared.contracts.vocabulary import SkillArea
from shared.ids import new_id
from shared.messaging import event_stream_name
from shared.tenancy import Role
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant, register_tenant
from tests.referral_bodies import referral_body
from tests.waiting import eventually


@dataclass
class VolunteerTenant:
    base: Tenant
    organisation: str  # a volunteer organisation partnering with library A
    organisation_token: str
    school: str  # an educational institution partnering with library A
    school_token: str
    stranger: str  # a volunteer organisation partnering with no library
    stranger_token: str
    coordinator: str

    @property
    def municipality(self) -> str:
        return self.base.municipality

    @property
    def library_a(self) -> str:
        return self.base.library_a

    @property
    def library_b(self) -> str:
        return self.base.library_b

    @property
    def staff_a(self) -> str:
        return self.base.staff_a

    @property
    def staff_b(self) -> str:
        return self.base.staff_b


def envelope_of(data: EventData, *, municipality: str | None, library: str | None) -> Envelope:
    return Envelope(
        id=new_id(),
        source=f"/partnernet/{data.service}",
        type=data.qualified_type(),
        time=datetime.now(UTC),
        subject=f"{municipality or '-'}/{library or '-'}",
        data=msgspec.to_builtins(data),
        municipality=municipality,
        library=library,
    )


async def publish_event(nats_url: str, data: EventData, *, municipality: str | None, library: str | None) -> Envelope:
    """Publish an event of another service as that service's relay would: an envelope on its stream."""
    envelope = envelope_of(data, municipality=municipality, library=library)
    nc = await nats.connect(nats_url)
    try:
        await nc.jetstream().publish(
            nats_subject(data.service, envelope.type, municipality, library),
            msgspec.json.encode(envelope),
            headers={"Nats-Msg-Id": str(envelope.id)},
            stream=event_stream_name(data.service),
        )
    finally:
        await nc.close()
    return envelope


async def register_partner(platform: RunningPlatform, tenant: Tenant, name: str, kind: str) -> str:
    async with platform.client(tenant.operator) as api:
        response = await api.post(
            "/api/v1/partners", json={"name": name, "kind": kind, "municipality": tenant.municipality}
        )
    response.raise_for_status()
    return str(response.json()["id"])


async def activate_partnership(
    platform: RunningPlatform, tenant: Tenant, partner_id: str, library: str, *roles: str
) -> str:
    """Through the partners service, as its staff would: a draft partnership, then activated.

    Its `partnership.activated` event is what tells the volunteers service (and the partners' feeds use it).
    """
    staff = tenant.staff_a if library == tenant.library_a else tenant.staff_b
    body = {"library": library, "partner_id": partner_id, "roles": list(roles), "starts_on": str(local_today())}
    async with platform.client(staff) as api:
        created = await api.post("/api/v1/partnerships", json=body)
        created.raise_for_status()
        partnership_id = str(created.json()["id"])
        (await api.post(f"/api/v1/partnerships/{partnership_id}/activate")).raise_for_status()
    return partnership_id


async def known_to_volunteers(
    platform: RunningPlatform, libraries: list[str], partners: list[str], partnerships: list[str]
) -> None:
    async def all_known() -> bool:
        async with platform.services["volunteers"].sessions() as session:
            libs = (
                await session.execute(sa.select(sa.func.count()).where(store.known_libraries.c.slug.in_(libraries)))
            ).scalar_one()
            parts = (
                await session.execute(
                    sa.select(sa.func.count()).where(
                        store.known_partners.c.id.in_([uuid.UUID(p) for p in partners]),
                        store.known_partners.c.kind.is_not(None),
                    )
                )
            ).scalar_one()
            ships = (
                await session.execute(
                    sa.select(sa.func.count()).where(
                        store.known_partnerships.c.id.in_([uuid.UUID(p) for p in partnerships]),
                        store.known_partnerships.c.activated,
                    )
                )
            ).scalar_one()
        return libs == len(libraries) and parts == len(partners) and ships == len(partnerships)

    await eventually(all_known, what="the volunteers service to learn the libraries, partners and partnerships")


async def volunteer_tenant(platform: RunningPlatform) -> VolunteerTenant:
    tenant = await register_tenant(platform)
    suffix = tenant.municipality.removeprefix("gem-")
    organisation = await register_partner(platform, tenant, f"Vrijwilligerscentrale {suffix}", "volunteer_organisation")
    school = await register_partner(platform, tenant, f"ROC {suffix}", "educational_institution")
    stranger = await register_partner(platform, tenant, f"Vrijwilligers Elders {suffix}", "volunteer_organisation")
    partnerships = [
        await activate_partnership(platform, tenant, organisation, tenant.library_a, "volunteer_supplier"),
        await activate_partnership(platform, tenant, school, tenant.library_a, "intern_supplier"),
    ]
    await known_to_volunteers(
        platform, [tenant.library_a, tenant.library_b], [organisation, school, stranger], partnerships
    )

    def partner_token(partner_id: str) -> str:
        return platform.token(Role.PARTNER, municipality=tenant.municipality, partner=partner_id)

    return VolunteerTenant(
        base=tenant,
        organisation=organisation,
        organisation_token=partner_token(organisation),
        school=school,
        school_token=partner_token(school),
        stranger=stranger,
        stranger_token=partner_token(stranger),
        coordinator=platform.token(Role.COORDINATOR, municipality=tenant.municipality),
    )


def person(name: str = "Sanne de Vries", **overrides: Any) -> dict[str, Any]:
    return {"name": name, "email": "sanne@example.org", "phone": "0611122233", **overrides}


# --- steps most tests need ----------------------------------------------------------------------


async def call(platform: RunningPlatform, token: str, method: str, path: str, body: Any = None, **params: Any) -> Any:
    """One request; the parsed body on success, the response itself otherwise (for refusals)."""
    async with platform.client(token) as api:
        response = await api.request(method, path, json=body, params=params or None)
    if response.status_code >= 300:
        return response
    return response.json()


async def active_volunteer(
    platform: RunningPlatform, vt: VolunteerTenant, *, certificate: bool = False, issued_on: date | None = None
) -> dict[str, Any]:
    """A volunteer of library A through the whole pipeline; with a valid certificate of conduct if asked."""
    body: dict[str, Any] = {"person": person(), "certificate_of_conduct_required": certificate}
    volunteer = await call(platform, vt.staff_a, "POST", "/api/v1/applications", body)
    volunteer_id = volunteer["id"]
    for step in ("start_intake", "start_screening"):
        await call(platform, vt.staff_a, "POST", f"/api/v1/volunteers/{volunteer_id}/{step}")
    if certificate:
        await give_certificate(platform, vt, volunteer_id, issued_on)
    active = await call(platform, vt.staff_a, "POST", f"/api/v1/volunteers/{volunteer_id}/activate")
    assert active["status"] == "active", active
    return dict(active)


async def start_intern(platform: RunningPlatform, vt: VolunteerTenant, intern_id: str) -> dict[str, Any]:
    """An intern who arrived for the intake, through screening into active (no certificate needed)."""
    for step in ("start_screening", "activate"):
        moved = await call(platform, vt.staff_a, "POST", f"/api/v1/volunteers/{intern_id}/{step}")
        assert not isinstance(moved, httpx.Response), moved.text
    assert moved["status"] == "active", moved
    return dict(moved)


async def referred_participant(
    platform: RunningPlatform, vt: VolunteerTenant, *, accept: bool = True
) -> dict[str, Any]:
    """A participant the tenant's first referrer referred to library A, taken on by the library unless told not,
    once the volunteers service knows the referral (from the referrals service's events)."""
    async with platform.client(vt.base.partner_a_token) as api:
        submitted = await api.post("/api/v1/referrals", json=referral_body(vt.library_a, vt.base.partner_a))
    assert submitted.status_code == 201, submitted.text
    referral = dict(submitted.json())
    if accept:
        accepted = await call(platform, vt.staff_a, "POST", f"/api/v1/referrals/{referral['id']}/accept")
        assert not isinstance(accepted, httpx.Response), accepted.text
    wanted = "accepted" if accept else "submitted"

    async def known() -> bool:
        r = referrals.known_referrals
        async with platform.services["volunteers"].sessions() as session:
            status = (
                await session.execute(sa.select(r.c.status).where(r.c.id == uuid.UUID(referral["id"])))
            ).scalar_one_or_none()
        return status == wanted

    await eventually(known, what=f"the volunteers service to know the referral as {wanted}")
    return referral


async def give_certificate(
    platform: RunningPlatform, vt: VolunteerTenant, volunteer_id: str, issued_on: date | None = None
) -> None:
    """Requested and received; issued today unless said otherwise (a valid one counts from its issue date)."""
    base = f"/api/v1/volunteers/{volunteer_id}/certificate-of-conduct"
    await call(platform, vt.staff_a, "POST", f"{base}/requests")
    issued = issued_on or local_today()
    received = await call(platform, vt.staff_a, "POST", f"{base}/receipts", {"issued_on": str(issued)})
    assert received["certificate"]["status"] == "valid", received


async def qualify(
    platform: RunningPlatform,
    vt: VolunteerTenant,
    volunteer_id: str,
    code: str,
    *,
    session_start: datetime,
    validity_months: int | None = None,
) -> dict[str, Any]:
    """A library module that gives `code`, a session of it, and the volunteer completing it there."""
    module = await call(
        platform,
        vt.staff_a,
        "POST",
        "/api/v1/trainings/modules",
        {
            "title": f"Training {code}",
            "delivered_by": "library",
            "qualification": code,
            "validity_months": validity_months,
        },
    )
    session = await call(
        platform,
        vt.staff_a,
        "POST",
        f"/api/v1/trainings/modules/{module['id']}/sessions",
        {"starts_at": session_start.isoformat(), "place": "Centrale bibliotheek, zaal 2", "capacity": 12},
    )
    attended = await call(
        platform,
        vt.staff_a,
        "POST",
        f"/api/v1/trainings/sessions/{session['id']}/attendance",
        {"volunteer_id": volunteer_id, "attended": True, "completed": True},
    )
    assert attended["attendance"][0]["completed"] is True, attended
    return dict(session)


async def course_needing_volunteers(
    platform: RunningPlatform,
    vt: VolunteerTenant,
    needed: int,
    *,
    library: str | None = None,
    title: str = "Klik & Tik",
) -> uuid.UUID:
    course_id = new_id()
    event = CoursePublished(
        course_id=course_id,
        municipality=vt.municipality,
        library=library if library is not None else vt.library_a,
        offered_by_partner_id=None,
        title=title,
        skill_area=SkillArea.DIGITAL,
        volunteers_needed=needed,
    )
    await publish_event(platform.settings.nats_url, event, municipality=vt.municipality, library=event.library)
    return course_id


async def opening_for(platform: RunningPlatform, vt: VolunteerTenant, course_id: uuid.UUID) -> dict[str, Any]:
    async def found() -> dict[str, Any] | None:
        page = await call(platform, vt.staff_a, "GET", "/api/v1/open-assignments", open_only="false")
        return next((o for o in page["items"] if o["course_id"] == str(course_id)), None)

    return await eventually(found, what="the course's open assignment")


# --- a partner that trains the library's volunteers (issue 24) -------------------------------------------

CODE = "eerste-hulp"


async def partnership_of(platform: RunningPlatform, vt: VolunteerTenant, partner_id: str) -> dict[str, Any]:
    page = await call(platform, vt.staff_a, "GET", "/api/v1/partnerships", partner_id=partner_id)
    (partnership,) = [p for p in page["items"] if p["library"] == vt.library_a]
    return dict(partnership)


async def bring_training(platform: RunningPlatform, vt: VolunteerTenant, partner_id: str) -> None:
    """The library's staff agree that the partner's side brings training, and the volunteers service learns it."""
    partnership = await partnership_of(platform, vt, partner_id)
    changed = await call(
        platform,
        vt.staff_a,
        "PATCH",
        f"/api/v1/partnerships/{partnership['id']}",
        {"partner_contributions": ["training", "guidance"]},
    )
    assert changed["partner_contributions"] == ["training", "guidance"], changed

    async def known() -> bool:
        p = store.known_partnerships
        async with platform.services["volunteers"].sessions() as session:
            brought = (
                await session.execute(
                    sa.select(p.c.partner_contributions).where(p.c.id == uuid.UUID(partnership["id"]))
                )
            ).scalar_one_or_none()
        return brought is not None and "training" in brought

    await eventually(known, what="the volunteers service to learn that the partnership brings training")


def module_body(library: str, **overrides: Any) -> dict[str, Any]:
    return {
        "title": "Eerste hulp bij digitale vragen",
        "delivered_by": "volunteer_organisation",
        "qualification": CODE,
        "validity_months": 24,
        "library": library,
        **overrides,
    }


async def modules_given_by(platform: RunningPlatform, vt: VolunteerTenant, partner_id: str) -> list[dict[str, Any]]:
    page = await call(platform, vt.staff_a, "GET", "/api/v1/trainings/modules", limit=200)
    return [m for m in page["items"] if m["provider_partner_id"] == partner_id]
