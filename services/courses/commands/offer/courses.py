"""Use cases of the offer's courses: create, change, publish and cancel (its sessions go with it)."""

from __future__ import annotations

from uuid import UUID

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from services.courses import store
from services.courses.commands.offer.managing import cancel_one_session, load_course_to_manage
from services.courses.domain import offer as domain
from services.courses.domain.offer import CourseStep, Offerer
from services.courses.queries import offer as queries
from services.courses.store import offer as offer_store
from shared.contracts.courses.api.courses import (
    CancelCourse,
    CourseDetails,
    CourseStatus,
    CourseView,
    CreateCourse,
    Location,
    PublishCourse,
    UpdateCourse,
)
from shared.contracts.courses.events import (
    Audience,
    CourseCancelled,
    CoursePublished,
    CourseUpdated,
)
from shared.errors import Conflict
from shared.ids import new_id
from shared.tenancy import Actor
from shared.unit_of_work import UnitOfWork


async def known_municipalities(session: AsyncSession, details: CourseDetails) -> dict[str, str | None]:
    """Where the partners and libraries a course's details name are known to be."""
    known: dict[str, str | None] = {}
    for partner_id in (details.audience_partner_id, details.location.partner_id):
        if partner_id is not None:
            known[str(partner_id)] = await store.partner_municipality(session, partner_id)
    if details.location.library is not None:
        known[details.location.library] = await store.known.library_municipality(session, details.location.library)
    return known


async def check_partner_active(session: AsyncSession, partner_id: UUID | None) -> None:
    partner = await store.known.find_partner(session, partner_id)
    if partner is not None and partner.status != "active":
        raise Conflict(f"partner {partner_id} is {partner.status}; it offers no courses now")


async def check_hosted_by_partnership(session: AsyncSession, actor: Actor, offerer: Offerer) -> None:
    if offerer.library is None or offerer.offered_by_partner_id is None:
        return
    partnered = await store.partnerships.is_active(session, offerer.offered_by_partner_id, offerer.library)
    domain.check_partner_may_host_at(actor, offerer, partnered=partnered)


def location_columns(location: Location) -> dict[str, object]:
    return {
        "location_kind": location.kind.value,
        "location_library": location.library,
        "location_branch": location.branch,
        "location_partner_id": location.partner_id,
        "location_address": location.address,
        "location_place": location.place,
    }


def details_columns(details: CourseDetails, location: Location) -> dict[str, object]:
    return {
        "title": details.title,
        "description": details.description,
        "skill_area": details.skill_area.value,
        "audience": details.audience.value,
        "audience_partner_id": details.audience_partner_id,
        "level": details.level,
        "format": details.format.value,
        "price_cents": details.price_cents,
        "volunteers_needed": details.volunteers_needed,
        "library_contributions": [x.value for x in details.library_contributions],
        **location_columns(location),
    }


async def create_course(work: UnitOfWork, actor: Actor, command: CreateCourse) -> CourseView:
    offerer = domain.check_may_create_course(
        actor, library=command.library, offered_by_partner_id=command.offered_by_partner_id
    )
    course_id = new_id()
    async with work.transaction() as tx:
        partner = await store.known.find_partner(tx.session, offerer.offered_by_partner_id)
        municipality = domain.course_municipality(
            offerer,
            library_municipality=await store.known.library_municipality(tx.session, offerer.library),
            partner_municipality=None if partner is None else partner.municipality,
        )
        await check_partner_active(tx.session, offerer.offered_by_partner_id)
        await check_hosted_by_partnership(tx.session, actor, offerer)
        location = domain.check_course_details(
            command.details,
            offerer,
            municipality=municipality,
            known_municipality=await known_municipalities(tx.session, command.details),
        )
        now = tx.clock.now()
        await offer_store.add_course(
            tx.session,
            id=course_id,
            municipality=municipality,
            library=offerer.library,
            offered_by_partner_id=offerer.offered_by_partner_id,
            status=CourseStatus.DRAFT.value,
            version=1,
            created_by=actor.subject,
            created_at=now,
            updated_at=now,
            **details_columns(command.details, location),
        )
        return await queries.load_course_view(tx.session, course_id, now)


async def update_course(work: UnitOfWork, actor: Actor, command: UpdateCourse) -> CourseView:
    domain.check_may_change_offer(actor)
    changes = command.changes
    async with work.transaction() as tx:
        row = await load_course_to_manage(
            tx, actor, command.course_id, what="change it", expected_version=changes.expected_version
        )
        status = domain.apply_course_step(CourseStatus(row.status), CourseStep.UPDATE)
        wanted = {
            name: getattr(changes, name)
            for name in CourseDetails.__struct_fields__
            if getattr(changes, name) is not None
        }
        if changes.audience is not None and changes.audience is not Audience.PARTNER_STAFF:
            wanted["audience_partner_id"] = None  # only a course for partner staff names a partner
        details = msgspec.structs.replace(queries.details_of(row), **wanted)
        offerer = Offerer(library=row.library, offered_by_partner_id=row.offered_by_partner_id)
        location = domain.check_course_details(
            details,
            offerer,
            municipality=row.municipality,
            known_municipality=await known_municipalities(tx.session, details),
        )
        now = tx.clock.now()
        await offer_store.update_course(
            tx.session,
            row.id,
            status=status.value,
            version=row.version + 1,
            updated_at=now,
            **details_columns(details, location),
        )
        if status is CourseStatus.PUBLISHED:
            await tx.stage(
                CourseUpdated(
                    **queries.course_parties(row),
                    title=details.title,
                    skill_area=details.skill_area,
                    audience=details.audience,
                    audience_partner_id=details.audience_partner_id,
                    volunteers_needed=details.volunteers_needed,
                    price_cents=details.price_cents,
                    course_version=row.version + 1,
                ),
                municipality=row.municipality,
                library=row.library,
            )
        return await queries.load_course_view(tx.session, row.id, now)


async def publish_course(work: UnitOfWork, actor: Actor, command: PublishCourse) -> CourseView:
    domain.check_may_change_offer(actor)
    async with work.transaction() as tx:
        row = await load_course_to_manage(
            tx, actor, command.course_id, what="publish it", expected_version=command.expected_version
        )
        status = domain.apply_course_step(CourseStatus(row.status), CourseStep.PUBLISH)
        await check_partner_active(tx.session, row.offered_by_partner_id)
        offerer = Offerer(library=row.library, offered_by_partner_id=row.offered_by_partner_id)
        await check_hosted_by_partnership(tx.session, actor, offerer)
        now = tx.clock.now()
        await offer_store.update_course(
            tx.session, row.id, status=status.value, version=row.version + 1, published_at=now, updated_at=now
        )
        view = await queries.load_course_view(tx.session, row.id, now)
        await tx.stage(
            CoursePublished(
                course_id=view.id,
                municipality=view.municipality,
                library=view.library,
                offered_by_partner_id=view.offered_by_partner_id,
                title=view.title,
                skill_area=view.skill_area,
                volunteers_needed=view.volunteers_needed,
                audience=view.audience,
                audience_partner_id=view.audience_partner_id,
                level=view.level,
                format=view.format,
                price_cents=view.price_cents,
                location_kind=view.location.kind,
                place=view.location.place or view.location.branch,
                library_contributions=view.library_contributions,
            ),
            municipality=view.municipality,
            library=view.library,
        )
        return view


async def cancel_course(work: UnitOfWork, actor: Actor, command: CancelCourse) -> CourseView:
    """Its sessions go with it, and every place and waiting-list spot in them, each with its event."""
    domain.check_may_change_offer(actor)
    async with work.transaction() as tx:
        row = await load_course_to_manage(
            tx, actor, command.course_id, what="cancel it", expected_version=command.expected_version
        )
        status = domain.apply_course_step(CourseStatus(row.status), CourseStep.CANCEL)
        now = tx.clock.now()
        for session_id in await offer_store.scheduled_sessions_of(tx.session, row.id):
            await cancel_one_session(tx, row, session_id, reason=f"the course was cancelled: {command.reason}")
        await offer_store.update_course(
            tx.session, row.id, status=status.value, version=row.version + 1, updated_at=now
        )
        await tx.stage(
            CourseCancelled(
                **queries.course_parties(row),
                reason=command.reason,
            ),
            municipality=row.municipality,
            library=row.library,
        )
        return await queries.load_course_view(tx.session, row.id, now)
