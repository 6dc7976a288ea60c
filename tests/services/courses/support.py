"""What the courses tests share: a tenant the courses service knows, a published course, its events."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import sqlalchemy as sa

from services.courses import store
from shared.clock import local_today
from shared.contracts import Envelope
from shared.messaging import event_stream_name
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant, register_tenant
from tests.waiting import eventually, stream_messages


async def courses_know(platform: RunningPlatform, tenant: Tenant) -> None:
    """The courses service learns libraries and partners from the partners' events; wait until it has."""
    libraries = [tenant.library_a, tenant.library_b]
    partners = [uuid.UUID(tenant.partner_a), uuid.UUID(tenant.partner_b)]

    async def all_known() -> bool:
        async with platform.services["courses"].sessions() as session:
            libs = (
                await session.execute(sa.select(sa.func.count()).where(store.known_libraries.c.slug.in_(libraries)))
            ).scalar_one()
            parts = (
                await session.execute(sa.select(sa.func.count()).where(store.known_partners.c.id.in_(partners)))
            ).scalar_one()
        return libs == len(libraries) and parts == len(partners)

    await eventually(all_known, what="the courses service to learn the tenant's libraries and partners")


async def course_tenant(platform: RunningPlatform) -> Tenant:
    tenant = await register_tenant(platform)
    await courses_know(platform, tenant)
    return tenant


def course_body(**overrides: Any) -> dict[str, Any]:
    details: dict[str, Any] = {
        "title": "Klik & Tik voor beginners",
        "skill_area": "digital",
        "audience": "seniors",
        "format": "in_person",
        "location": {"kind": "library_branch", "branch": "Centrale bibliotheek", "place": "Binnenstad"},
        "level": "beginners",
        "price_cents": 0,
        "volunteers_needed": 2,
    }
    details.update(overrides.pop("details", {}))
    return {"details": details, **overrides}


def meetings(first: datetime, count: int = 1) -> list[dict[str, str]]:
    return [
        {
            "starts_at": (first + timedelta(days=7 * week)).isoformat(),
            "ends_at": (first + timedelta(days=7 * week, hours=2)).isoformat(),
        }
        for week in range(count)
    ]


def soon(days: int = 14) -> datetime:
    return (datetime.now(UTC) + timedelta(days=days)).replace(hour=9, minute=30, second=0, microsecond=0)


async def published_course_with_session(
    platform: RunningPlatform, token: str, *, capacity: int, starts: datetime | None = None, **overrides: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    async with platform.client(token) as api:
        created = await api.post("/api/v1/courses", json=course_body(**overrides))
        assert created.status_code == 201, created.text
        course = created.json()
        published = await api.post(f"/api/v1/courses/{course['id']}/publish")
        assert published.status_code == 200, published.text
        body = {"meetings": meetings(starts or soon(), 2), "capacity": capacity, "place": "Zaal 1"}
        scheduled = await api.post(f"/api/v1/courses/{course['id']}/sessions", json=body)
        assert scheduled.status_code == 201, scheduled.text
    return published.json(), scheduled.json()


async def course_events(platform: RunningPlatform, event_type: str, municipality: str) -> list[Envelope]:
    """Every event of one type for one municipality as JetStream holds it."""
    subject = f"events.courses.{event_type}.v1.{municipality}.>"
    found = await stream_messages(platform.settings.nats_url, event_stream_name("courses"), subject)
    return [msgspec.json.decode(msg.data, type=Envelope) for msg in found]


SENIORWEB_LIBRARY = ("location", "recruitment", "promotion")
SENIORWEB_PARTNER = ("content", "guidance")


async def partnership_known_to_courses(
    platform: RunningPlatform,
    tenant: Tenant,
    partner_id: str,
    library: str,
    *,
    library_brings: Sequence[str] = SENIORWEB_LIBRARY,
    partner_brings: Sequence[str] = SENIORWEB_PARTNER,
) -> str:
    """An active partnership of the partner with the library as course provider, with what each side brings in
    (the SeniorWeb model unless said otherwise), once the courses service knows it and its contributions."""
    staff = tenant.staff_a if library == tenant.library_a else tenant.staff_b
    body = {
        "library": library,
        "partner_id": partner_id,
        "roles": ["course_provider"],
        "starts_on": str(local_today()),
        "library_contributions": list(library_brings),
        "partner_contributions": list(partner_brings),
    }
    async with platform.client(staff) as api:
        created = await api.post("/api/v1/partnerships", json=body)
        assert created.status_code == 201, created.text
        partnership_id = str(created.json()["id"])
        activated = await api.post(f"/api/v1/partnerships/{partnership_id}/activate")
        assert activated.status_code == 200, activated.text
    await partnership_terms_known(platform, partnership_id, list(library_brings), list(partner_brings))
    return partnership_id


async def partnership_terms_known(
    platform: RunningPlatform, partnership_id: str, library_brings: list[str], partner_brings: list[str]
) -> None:
    """The courses service knows the partnership running, with these contributions."""
    p = store.partnerships.table

    async def known() -> bool:
        async with platform.services["courses"].sessions() as session:
            row = (await session.execute(sa.select(p).where(p.c.id == uuid.UUID(partnership_id)))).first()
        return (
            row is not None
            and row.activated
            and not row.ended
            and (row.library_contributions, row.partner_contributions) == (library_brings, partner_brings)
        )

    await eventually(known, what="the courses service to know the partnership and its contributions")


async def partnership_state_known(platform: RunningPlatform, partnership_id: str, *, ended: bool) -> None:
    p = store.partnerships.table

    async def known() -> bool:
        async with platform.services["courses"].sessions() as session:
            row = (await session.execute(sa.select(p).where(p.c.id == uuid.UUID(partnership_id)))).first()
        return row is not None and row.activated and row.ended == ended

    await eventually(known, what="the courses service to know the partnership")
